import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT, readCdkJson } from './synth';

/**
 * bin/warden.ts as the CDK CLI runs it (context in CDK_CONTEXT_JSON), without bundling: the
 * config is read from the `warden` context key, and the AWS Solutions checks gate the synth.
 */
function runApp(warden: unknown): { status: number | null; stderr: string; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-app-'));
  const context = { ...readCdkJson().context, warden, 'aws:cdk:bundling-stacks': [] };
  const result = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['bin/warden.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stderr: result.stderr, outdir };
}

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

it('synthesizes the Warden stack from cdk.json, passing the AWS Solutions checks', () => {
  const run = runApp(readCdkJson().context.warden);
  outdirs.push(run.outdir);
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.status).toBe(0);
  const template = JSON.parse(fs.readFileSync(path.join(run.outdir, 'Warden.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const stage = Object.values(template.Resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage');
  expect(stage?.Properties.DefaultRouteSettings).toEqual({ ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 });
  const report = JSON.parse(fs.readFileSync(path.join(run.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
  expect(report.pluginReports).toEqual([]);
}, 120_000);

it('fails synth with a message that names the bad key', () => {
  const run = runApp({ approvalTimeoutSeconds: 10, auth: { issuer: 'https://idp.example.com' } });
  outdirs.push(run.outdir);
  expect(run.status).not.toBe(0);
  expect(run.stderr).toContain('Invalid Warden config (context "warden": cdk.json and -c)');
  expect(run.stderr).toContain('warden.approvalTimeoutSeconds');
  expect(run.stderr).toContain('warden.auth: issuer and audience must be given together');
  // The message is the whole answer: no stack trace after it.
  expect(run.stderr).not.toMatch(/^\s+at /m);
}, 120_000);

/**
 * The real `cdk synth` as the README has users run it: the CLI turns `-c` into context (a JSON
 * string for `-c warden=...`, a string per `-c warden.<key>=...`), then runs the app, bundling.
 */
function cdkSynth(...args: string[]): { status: number | null; output: string; template?: Template } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-cli-'));
  outdirs.push(outdir);
  const bin = path.join(PROJECT_ROOT, 'node_modules', '.bin');
  const result = spawnSync(path.join(bin, 'cdk'), ['synth', '--quiet', '-o', outdir, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
    encoding: 'utf8',
    timeout: 240_000,
  });
  const file = path.join(outdir, 'Warden.template.json');
  const template = result.status === 0 && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Template) : undefined;
  return { status: result.status, output: `${result.stdout}${result.stderr}`, template };
}

interface Template {
  Resources: Record<string, { Type: string; DeletionPolicy?: string; Properties: Record<string, unknown> }>;
}

const resources = (template: Template | undefined, type: string) =>
  Object.values(template?.Resources ?? {}).filter((resource) => resource.Type === type);

describe('npx cdk synth -c ...', () => {
  it('fails on a bad dotted value, naming the key, before anything is bundled', () => {
    const run = cdkSynth('-c', 'warden.modelProvider=banana');
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('- warden.modelProvider: Invalid option: expected one of "bedrock"|"openai-compatible"|"rules"');
    expect(run.template).toBeUndefined();
  }, 240_000);

  it('applies a JSON string and dotted keys over cdk.json, numbers and null included', () => {
    const run = cdkSynth(
      '-c', 'warden={"removalPolicy":"destroy"}',
      '-c', 'warden.modelProvider=rules',
      '-c', 'warden.reservedConcurrency.inference=null',
      '-c', 'warden.alarms.validationP99Ms=1500',
    );
    expect(run.output).not.toMatch(/Invalid Warden config/);
    expect(run.status).toBe(0);
    const inference = resources(run.template, 'AWS::Lambda::Function').find((fn) => fn.Properties.Description === 'Warden inference');
    expect((inference?.Properties.Environment as { Variables: Record<string, string> }).Variables.MODEL_PROVIDER).toBe('rules');
    expect(inference?.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    const latency = resources(run.template, 'AWS::CloudWatch::Alarm').find((alarm) => alarm.Properties.MetricName === 'ValidationLatency');
    expect(latency?.Properties.Threshold).toBe(1500);
    const tables = resources(run.template, 'AWS::DynamoDB::Table');
    expect(tables.length).toBeGreaterThan(0);
    expect(tables.every((table) => table.DeletionPolicy === 'Delete')).toBe(true);
    // Left alone by the command line, so still cdk.json's: the log groups keep 30 days.
    expect(resources(run.template, 'AWS::Logs::LogGroup').every((group) => group.Properties.RetentionInDays === 30)).toBe(true);
  }, 240_000);
});
