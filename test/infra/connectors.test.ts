import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { connectorsFromEnv, CONNECTORS_ENV, unconfiguredActions } from '../../lambdas/shared/connectors/config';
import { WardenConfigError } from '../../lib/config';
import { FUNCTION_NAMES, type FunctionName } from '../../lib/constructs/functions';
import { logicalIdOf, readCdkJson, roleOfFunction, statementsByRole, synthWarden, type Synthesized } from './synth';

/**
 * Connectors in the template: the validation function (facts) and the execution function
 * (effect) get the config as WARDEN_CONNECTORS and exactly the configured function or secret.
 */

const FACTS_FUNCTION = 'arn:aws:lambda:us-east-1:210987654321:function:team-po-facts';
const EFFECT_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/erp-signing-AbC123';
const CONNECTORS = {
  purchase_order: {
    facts: { type: 'lambda', functionArn: FACTS_FUNCTION },
    effect: { type: 'http', url: 'https://erp.example.com/warden/po', secret: { secretArn: EFFECT_SECRET, env: 'ERP_SIGNING_SECRET' }, timeoutMs: 3000 },
  },
};

const functionId = (from: Synthesized, name: FunctionName) => logicalIdOf(from.stack, from.stack.functions.byName[name]);
const variablesOf = (from: Synthesized, name: FunctionName): Record<string, unknown> =>
  from.template.toJSON().Resources[functionId(from, name)].Properties.Environment?.Variables ?? {};
/** Each function's statements that use the service, as [function, actions, resources]. */
const grants = (from: Synthesized, service: string) => {
  const byRole = statementsByRole(from.template);
  return FUNCTION_NAMES.flatMap((name) =>
    (byRole.get(roleOfFunction(from.template, functionId(from, name))) ?? [])
      .filter((s) => s.actions.some((a) => a.startsWith(`${service}:`)))
      .map((s) => [name, s.actions, s.resources]),
  );
};

let configured: Synthesized;
let plain: Synthesized;
beforeAll(() => {
  configured = synthWarden({ connectors: CONNECTORS });
  plain = synthWarden();
});

it('hands the validation and execution functions the config as WARDEN_CONNECTORS, and no other function', () => {
  for (const name of ['validation', 'execution'] as const) {
    const value = variablesOf(configured, name)[CONNECTORS_ENV];
    expect(typeof value).toBe('string');
    // What the handler reads back: the config with the defaults filled in.
    expect(connectorsFromEnv({ [CONNECTORS_ENV]: value as string })).toEqual({
      purchase_order: {
        facts: CONNECTORS.purchase_order.facts,
        effect: { ...CONNECTORS.purchase_order.effect, maxAttempts: 3 },
      },
    });
  }
  for (const name of FUNCTION_NAMES.filter((n) => n !== 'validation' && n !== 'execution')) {
    expect(variablesOf(configured, name)[CONNECTORS_ENV]).toBeUndefined();
  }
});

it('grants lambda:InvokeFunction on exactly the facts function, to the validation role only', () => {
  expect(grants(configured, 'lambda')).toEqual([['validation', ['lambda:InvokeFunction'], [FACTS_FUNCTION]]]);
});

it('grants secretsmanager:GetSecretValue on exactly the effect secret, to the execution role only', () => {
  expect(grants(configured, 'secretsmanager')).toEqual([['execution', ['secretsmanager:GetSecretValue'], [EFFECT_SECRET]]]);
});

it('splits the grants by kind: a lambda effect and an http facts connector go the other way round', () => {
  const swapped = synthWarden({
    connectors: {
      refund: {
        facts: { type: 'http', url: 'https://crm.example.com/facts', secret: { secretArn: EFFECT_SECRET } },
        effect: { type: 'lambda', functionArn: `${FACTS_FUNCTION}:live` },
      },
      // The same function for two actions is granted once.
      tier_upgrade: { effect: { type: 'lambda', functionArn: `${FACTS_FUNCTION}:live` } },
    },
  });
  expect(grants(swapped, 'lambda')).toEqual([['execution', ['lambda:InvokeFunction'], [`${FACTS_FUNCTION}:live`]]]);
  expect(grants(swapped, 'secretsmanager')).toEqual([['validation', ['secretsmanager:GetSecretValue'], [EFFECT_SECRET]]]);
});

it('without connectors: no WARDEN_CONNECTORS, no Lambda invoke and no secret read anywhere', () => {
  for (const name of FUNCTION_NAMES) expect(variablesOf(plain, name)[CONNECTORS_ENV]).toBeUndefined();
  expect(grants(plain, 'lambda')).toEqual([]);
  expect(grants(plain, 'secretsmanager')).toEqual([]);
  // Builtin named outright is handed over as written, and grants nothing either.
  const builtin = synthWarden({ connectors: { refund: { facts: { type: 'builtin' } } } });
  expect(JSON.parse(variablesOf(builtin, 'validation')[CONNECTORS_ENV] as string)).toEqual({ refund: { facts: { type: 'builtin' }, effect: { type: 'builtin' } } });
  expect(grants(builtin, 'lambda')).toEqual([]);
  expect(grants(builtin, 'secretsmanager')).toEqual([]);
});

it.each([
  [{ url: 'http://127.0.0.1:4000/po', secret: { secretArn: EFFECT_SECRET } }, 'warden.connectors.purchase_order.effect.url: must be https in AWS'],
  [{ url: 'https://erp.example.com/po', secret: { env: 'ERP_SIGNING_SECRET' } }, 'warden.connectors.purchase_order.effect.secret.secretArn: is required in AWS'],
  [
    { url: 'https://erp.example.com/po', secret: { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/erp-signing' } },
    'warden.connectors.purchase_order.effect.secret.secretArn: must be the complete ARN',
  ],
])('refuses to synthesize what only npm start can use (%j), naming the key', (effect, message) => {
  const attempt = () => synthWarden({ connectors: { purchase_order: { effect: { type: 'http', ...effect } } } });
  expect(attempt).toThrow(WardenConfigError);
  expect(attempt).toThrow(message);
});

describe("cdk.json's connectors (the catalog's actions with no builtin)", () => {
  const shipped = readCdkJson().context.warden as { connectors: Record<string, Partial<Record<'facts' | 'effect', { type: string; secret?: { secretArn?: string } }>>> };
  /** The secret ARNs cdk.json configures for one kind, whatever actions a team has added. */
  const secretsOf = (kind: 'facts' | 'effect') =>
    [...new Set(Object.values(shipped.connectors).flatMap((pair) => (pair[kind]?.type === 'http' && pair[kind]?.secret?.secretArn ? [pair[kind]!.secret!.secretArn!] : [])))].sort();

  it('grant GetSecretValue on the configured secret to the validation (facts) and execution (effect) roles, and warn about nothing', () => {
    const synthesized = synthWarden({ connectors: shipped.connectors });
    expect(secretsOf('facts').length).toBeGreaterThan(0);
    expect(grants(synthesized, 'secretsmanager').map(([fn, actions, resources]) => [fn, actions, [...resources].sort()])).toEqual([
      ['validation', ['secretsmanager:GetSecretValue'], secretsOf('facts')],
      ['execution', ['secretsmanager:GetSecretValue'], secretsOf('effect')],
    ]);
    expect(Annotations.fromStack(synthesized.stack).findWarning('*', Match.stringLikeRegexp('is not configured'))).toEqual([]);
  });

  it('left out, each such action is a synth warning per kind naming the key, not an error', () => {
    const warnings = Annotations.fromStack(plain.stack)
      .findWarning('*', Match.stringLikeRegexp('is not configured'))
      .map((w) => String(w.entry.data).replace(/ \[ack: .*\]$/, ''));
    expect(warnings.sort()).toEqual(
      unconfiguredActions({}).flatMap((action) =>
        ['effect', 'facts'].map((kind) => `${action} has no builtin and warden.connectors.${action}.${kind} is not configured: its requests fail connector_failed`),
      ).sort(),
    );
    expect(warnings.length).toBeGreaterThan(0);
  });
});
