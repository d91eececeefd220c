import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack, Stage, Validations } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { createWardenApp, nagPacks } from '../../lib/app';
import type { WardenStack } from '../../lib/warden-stack';
import { readCdkJson } from './synth';

/**
 * cdk-nag 3 over the app `bin/warden.ts` builds (`createWardenApp`): the AWS Solutions and the
 * Serverless packs, every finding fixed or acknowledged on the one resource it concerns, with
 * a reason, and nothing acknowledged on a stack or the app.
 */

const ENV = { account: '123456789012', region: 'us-east-1' };

/** `createWardenApp` as the CLI runs it (cdk.json's flags and a `warden` context), without bundling. */
function wardenApp(warden: unknown, outdir?: string): { app: App; stack: WardenStack } {
  const { warden: _defaults, ...flags } = readCdkJson().context;
  const app = new App({ ...(outdir ? { outdir } : {}), context: { ...flags, warden, 'aws:cdk:bundling-stacks': [] } });
  return { app, stack: createWardenApp(app, ENV) };
}

interface Finding {
  rule: string;
  path: string;
}

/** Findings of every pack; with `ignoreAcknowledgements`, also those an acknowledgement hides. */
function findings(scope: IConstruct, options: { ignoreAcknowledgements?: boolean } = {}): Finding[] {
  return nagPacks().flatMap((pack) => {
    if (options.ignoreAcknowledgements) {
      // cdk-nag asks this (private) method whether a finding is acknowledged; answering "no"
      // shows what each acknowledgement hides, so a stale or over-broad one is caught.
      Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
    }
    return pack
      .validateScope(scope)
      .violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '?' })));
  });
}

const describeFindings = (list: Finding[]) => list.map((f) => `${f.rule}: ${f.path}`);

interface Acknowledgement {
  construct: IConstruct;
  path: string;
  id: string;
  reason: string;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          construct,
          path: construct.node.path,
          // aws-cdk-lib writes `Annotation::<id>` (older versions `annotation::`).
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** A construct that stands for one CloudFormation resource: an L1, or an L2 around its L1. */
function isOneResource(construct: IConstruct): boolean {
  return CfnResource.isCfnResource(construct) || CfnResource.isCfnResource(construct.node.defaultChild);
}

/**
 * Acknowledgements that are blanket: on the app, a stage or a stack, or on any construct that
 * does not stand for a single resource (a container such as `Functions` would cover eight).
 */
function blanketAcknowledgements(root: IConstruct): string[] {
  return acknowledgements(root)
    .filter(({ construct }) => Stage.isStage(construct) || Stack.isStack(construct) || !isOneResource(construct))
    .map((ack) => `${ack.id} on ${ack.path || '(app)'}`);
}

let defaults: { app: App; stack: WardenStack };
let variant: { app: App; stack: WardenStack };
let openai: { app: App; stack: WardenStack };
let swappable: { app: App; stack: WardenStack };
let connected: { app: App; stack: WardenStack };

beforeAll(() => {
  defaults = wardenApp(readCdkJson().context.warden);
  variant = wardenApp({
    removalPolicy: 'destroy',
    modelProvider: 'rules',
    auth: { issuer: 'https://idp.example.com', audience: ['warden'] },
    reservedConcurrency: { inference: null, gateway: 20 },
  });
  // The settings read at run time: SSM parameters per tier, and the API key secret.
  openai = wardenApp({
    modelProvider: 'openai-compatible',
    openAiBaseUrl: 'https://llm.internal.example.com/v1',
    modelIds: { low: 'qwen2.5:7b-instruct', high: 'Qwen/Qwen2.5-72B-Instruct' },
    modelIdParameters: { low: '/warden/model/low', high: '/warden/model/high' },
    allowedModelIds: ['qwen2.5:7b-instruct', 'Qwen/Qwen2.5-72B-Instruct', 'llama3.1:8b'],
    openAiApiKeySecret: 'warden/openai-api-key',
  });
  // Cross-region inference profiles: their foundation-model ARNs have a region wildcard.
  swappable = wardenApp({
    modelIds: { low: 'us.anthropic.claude-haiku-4-5-20251001-v1:0' },
    modelIdParameters: { low: '/warden/model/low' },
    allowedModelIds: ['us.anthropic.claude-haiku-4-5-20251001-v1:0', 'global.anthropic.claude-sonnet-4-6', 'eu.amazon.nova-lite-v1:0', 'us.amazon.nova-lite-v1:0'],
  });
  // Connectors: a team's function for facts, a team's endpoint (and its signing secret) for an effect.
  connected = wardenApp({
    connectors: {
      purchase_order: {
        facts: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:team-po-facts' },
        effect: { type: 'http', url: 'https://erp.example.com/warden/po', secret: { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/erp-AbC123' } },
      },
    },
  });
});

describe('the nag packs are live', () => {
  it('runs both packs, each finding what it should on insecure resources', () => {
    expect(nagPacks().map((pack) => pack.readPackName)).toEqual(['AwsSolutions', 'Serverless']);
    const stack = new Stack(new App(), 'Insecure');
    new Bucket(stack, 'Bucket');
    new LambdaFunction(stack, 'Bare', { runtime: Runtime.NODEJS_20_X, handler: 'index.handler', code: Code.fromInline('exports.handler = async () => 1') });
    const rules = findings(stack).map((f) => f.rule);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S10', 'AwsSolutions-L1', 'Serverless-LambdaDLQ', 'Serverless-LambdaDefaultMemorySize']));
  });

  it('gates the synth of the app bin/warden.ts builds: findings elsewhere fail it, Warden itself has none', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-nag-'));
    try {
      const { app } = wardenApp(readCdkJson().context.warden, outdir);
      // A non-compliant neighbour: if either pack were not registered, its findings would be missing.
      const probe = new Stack(app, 'Probe', { env: ENV });
      new LambdaFunction(probe, 'Bare', { runtime: Runtime.NODEJS_24_X, handler: 'index.handler', code: Code.fromInline('exports.handler = async () => 1') });
      expect(() => app.synth()).toThrow();

      const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
      };
      const nag = report.pluginReports.filter((r) => ['AwsSolutions', 'Serverless'].includes(r.pluginName));
      expect(nag.map((r) => r.pluginName).sort()).toEqual(['AwsSolutions', 'Serverless']);
      const paths = nag.flatMap((r) => r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName}: ${c.constructPath}`)));
      expect(paths.length).toBeGreaterThan(0);
      expect(paths.filter((p) => !p.includes(': Probe/'))).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('no unacknowledged finding', () => {
  it('with the default config (cdk.json)', () => {
    expect(describeFindings(findings(defaults.app))).toEqual([]);
  });

  it('with destroy, rules, an external issuer and other concurrency caps', () => {
    expect(describeFindings(findings(variant.app))).toEqual([]);
  });

  it('with openai-compatible, SSM model parameters and the API key secret', () => {
    expect(describeFindings(findings(openai.app))).toEqual([]);
  });

  it('with Bedrock models (inference profiles among them) an SSM parameter may swap', () => {
    expect(describeFindings(findings(swappable.app))).toEqual([]);
  });

  it('with a lambda facts connector and an http effect connector', () => {
    expect(describeFindings(findings(connected.app))).toEqual([]);
  });
});

describe('acknowledgements', () => {
  it('the blanket check catches what it should (stack, app, container)', () => {
    const app = new App();
    const stack = new Stack(app, 'Blanket');
    const container = new Construct(stack, 'Container');
    const bucket = new Bucket(container, 'Bucket');
    Validations.of(app).acknowledge({ id: 'AwsSolutions-S1', reason: 'a reason long enough to pass the length check here' });
    Validations.of(stack).acknowledge({ id: 'AwsSolutions-S2', reason: 'a reason long enough to pass the length check here' });
    Validations.of(container).acknowledge({ id: 'AwsSolutions-S10', reason: 'a reason long enough to pass the length check here' });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S5', reason: 'a reason long enough to pass the length check here' });
    expect(blanketAcknowledgements(app).sort()).toEqual(
      ['AwsSolutions-S1 on (app)', 'AwsSolutions-S10 on Blanket/Container', 'AwsSolutions-S2 on Blanket'].sort(),
    );
  });

  it.each([
    ['default', () => defaults.app],
    ['variant', () => variant.app],
    ['openai-compatible', () => openai.app],
    ['swappable', () => swappable.app],
    ['connectors', () => connected.app],
  ])('none is blanket (%s config): each sits on one resource, never on a stack or the app', (_name, app) => {
    expect(acknowledgements(app()).length).toBeGreaterThan(0);
    expect(blanketAcknowledgements(app())).toEqual([]);
  });

  it.each([
    ['default', () => defaults.app],
    ['variant', () => variant.app],
    ['openai-compatible', () => openai.app],
    ['swappable', () => swappable.app],
    ['connectors', () => connected.app],
  ])('each hides a real finding on exactly one resource (%s config): none is stale or broad', (_name, app) => {
    const raw = findings(app(), { ignoreAcknowledgements: true });
    // Without acknowledgements there are findings: the override took effect.
    expect(raw.length).toBeGreaterThan(0);
    for (const ack of acknowledgements(app())) {
      const hidden = new Set(raw.filter((f) => f.rule === ack.id && (f.path === ack.path || f.path.startsWith(`${ack.path}/`))).map((f) => f.path));
      expect({ ack: `${ack.id} on ${ack.path}`, resources: hidden.size }).toEqual({ ack: `${ack.id} on ${ack.path}`, resources: 1 });
    }
    // And every raw finding is either acknowledged or (as asserted above) absent.
    const acked = (f: Finding) => acknowledgements(app()).some((a) => a.id === f.rule && (f.path === a.path || f.path.startsWith(`${a.path}/`)));
    expect(describeFindings(raw.filter((f) => !acked(f)))).toEqual([]);
  });

  it('gives each a specific reason', () => {
    for (const ack of acknowledgements(defaults.app)) {
      expect({ ack: `${ack.id} on ${ack.path}`, reason: ack.reason }).toEqual({
        ack: `${ack.id} on ${ack.path}`,
        reason: expect.stringMatching(/^(?!.*\b(?:todo|tbd|n\/a|suppress(?:ed)?|not needed|false positive)\b).{40,}$/is),
      });
    }
  });

  it('acknowledges only the rules reviewed so far (a new one needs a look, and this list an edit)', () => {
    const ids = new Set(acknowledgements(defaults.app).map((ack) => ack.id.replace(/\[.*$/, '')));
    expect([...ids].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-COG2',
      'AwsSolutions-COG8',
      'AwsSolutions-IAM5',
      'AwsSolutions-SQS3',
      'Serverless-EventBusDLQ',
      'Serverless-LambdaDLQ',
      'Serverless-SQSRedrivePolicy',
    ]);
  });

  it('justifies the one wildcard resource of ours (states:SendTask*) on the approval role, and no other role', () => {
    const wildcard = acknowledgements(defaults.app).filter((ack) => ack.id === 'AwsSolutions-IAM5[Resource::*]');
    const approvalRole = defaults.stack.functions.byName.approval.role?.node.path;
    const sendTask = wildcard.filter((ack) => /states:SendTask/.test(ack.reason));
    expect(sendTask.map((ack) => ack.path)).toEqual([approvalRole]);
    // Every other Resource::* acknowledgement is for the X-Ray / log-delivery actions AWS offers only on "*".
    for (const ack of wildcard.filter((a) => a.path !== approvalRole)) expect(ack.reason).toMatch(/X-Ray|xray:/);
  });

  it('acknowledges Serverless-LambdaDLQ per function, naming its synchronous caller', () => {
    const dlq = acknowledgements(defaults.app).filter((ack) => ack.id === 'Serverless-LambdaDLQ');
    const fns = defaults.stack.functions.byName;
    expect(dlq.map((ack) => ack.path).sort()).toEqual(Object.values(fns).map((fn) => fn.node.path).sort());
    for (const ack of dlq) {
      const expected = ['/Gateway', '/Approval', '/Mcp'].some((end) => ack.path.endsWith(end)) ? /HTTP API/ : /state machine/;
      expect(ack.reason).toMatch(expected);
    }
  });
});
