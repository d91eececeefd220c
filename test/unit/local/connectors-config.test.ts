import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { unconfiguredActions } from '../../../lambdas/shared/connectors/config';
import { ACTIONS } from '../../../lambdas/shared/schemas/actions';
import { InvalidLocalSettings, readConnectors } from '../../../local/server';

/**
 * `npm start` takes its connectors from cdk.json's `warden.connectors`, parsed as `cdk synth`
 * parses it; a bad config stops it in one line that names the key.
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-cdkjson-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A cdk.json in the test's own directory with `warden` as given. */
function cdkJson(warden: unknown): string {
  const file = join(dir, 'cdk.json');
  writeFileSync(file, JSON.stringify({ app: 'npx tsx bin/warden.ts', context: { warden, '@aws-cdk/core:checkSecretUsage': true } }));
  return file;
}

/** The message of the error `readConnectors` throws for `file`. */
function refusal(file: string): string {
  try {
    readConnectors(file);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLocalSettings);
    return (error as Error).message;
  }
  throw new Error('readConnectors accepted the file');
}

it("reads the project's cdk.json by default: every action with no builtin has its connectors", () => {
  const connectors = readConnectors();
  expect(readConnectors(resolve(__dirname, '../../../cdk.json'))).toEqual(connectors);
  expect(unconfiguredActions(connectors)).toEqual([]);
  for (const action of unconfiguredActions({})) expect([connectors[action]?.facts.type, connectors[action]?.effect.type]).not.toContain('builtin');
});

it('takes builtin everywhere without a file or without the key', () => {
  expect(readConnectors(join(dir, 'missing.json'))).toEqual({});
  expect(readConnectors(cdkJson({ modelProvider: 'rules' }))).toEqual({});
});

it('returns the connectors with their defaults filled in, a local receiver and a secret from env allowed', () => {
  const file = cdkJson({
    modelProvider: 'rules',
    connectors: {
      purchase_order: { effect: { type: 'http', url: 'http://127.0.0.1:4010/po', secret: { env: 'ERP_SIGNING_SECRET' } } },
      refund: { facts: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:refund-facts' } },
    },
  });
  expect(readConnectors(file)).toEqual({
    purchase_order: {
      facts: { type: 'builtin' },
      effect: { type: 'http', url: 'http://127.0.0.1:4010/po', secret: { env: 'ERP_SIGNING_SECRET' }, timeoutMs: 5000, maxAttempts: 3 },
    },
    refund: { facts: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:refund-facts' }, effect: { type: 'builtin' } },
  });
});

it.each([
  [{ connectors: { credit_line: {} } }, /warden\.connectors\.credit_line: unknown action "credit_line"/],
  [{ connectors: { purchase_order: { effect: { type: 'http', url: 'http://erp.example.com/po', secret: { env: 'S' } } } } }, /warden\.connectors\.purchase_order\.effect\.url: must be https/],
  [{ connectors: { refund: { facts: { type: 'lambda' } } } }, /warden\.connectors\.refund\.facts\.functionArn:/],
  // The whole warden object is checked, as cdk synth does: a config that cannot deploy does not start.
  [{ logRetentionDays: 31 }, /warden\.logRetentionDays:/],
])('refuses %j in one line naming the file and the key', (warden, key) => {
  const file = cdkJson(warden);
  const message = refusal(file);
  expect(message.split('\n')).toHaveLength(1);
  expect(message).toContain(`Invalid Warden config in ${file}: `);
  expect(message).toMatch(key);
});

it('names every bad key in the one line, and a file that is not JSON', () => {
  const message = refusal(cdkJson({ connectors: { credit_line: {}, refund: { efect: { type: 'builtin' } } } }));
  expect(message.split('\n')).toHaveLength(1);
  expect(message.split(': ').slice(1).join(': ').split(' | ').sort()).toEqual([
    `warden.connectors.credit_line: unknown action "credit_line" (actions: ${ACTIONS.join(', ')})`,
    'warden.connectors.refund.efect: not a Warden setting; known here: facts, effect',
  ]);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"context": {"warden": ');
  expect(refusal(broken)).toMatch(new RegExp(`^Invalid Warden config in ${broken}: warden: ${broken} is not valid JSON \\(`));
});
