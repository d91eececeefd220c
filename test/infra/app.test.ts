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
  expect(run.stderr).toContain('Invalid Warden config (cdk.json context "warden")');
  expect(run.stderr).toContain('warden.approvalTimeoutSeconds');
  expect(run.stderr).toContain('warden.auth: issuer and audience must be given together');
}, 120_000);
