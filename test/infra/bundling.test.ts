import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LAMBDA_RUNTIME, WardenFunction } from '../../lib/constructs/functions';

/**
 * One real bundle (local esbuild, no Docker): the ESM output, its source map and the banner
 * that gives CommonJS dependencies a `require`.
 */
describe('WardenFunction bundling', () => {
  let outdir: string;
  let bundleDir: string;
  let template: Record<string, { Type: string; Properties: Record<string, unknown> }>;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bundle-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bundle', { env: { account: '123456789012', region: 'us-east-1' } });
    new WardenFunction(stack, 'Finalize', {
      name: 'finalize',
      logRetention: RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      environment: { NODE_OPTIONS: '--enable-source-maps --max-old-space-size=256', EXTRA: 'kept' },
    });
    const assembly = app.synth();
    template = assembly.getStackByName('Bundle').template.Resources;
    const assetDirs = fs.readdirSync(outdir).filter((entry) => entry.startsWith('asset.'));
    expect(assetDirs).toHaveLength(1);
    bundleDir = path.join(outdir, assetDirs[0]);
  }, 60_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('emits an ESM bundle and a source map', () => {
    expect(fs.readdirSync(bundleDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it('starts with the banner that defines require for CommonJS dependencies', () => {
    const code = fs.readFileSync(path.join(bundleDir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire as __wardenCreateRequire } from 'node:module';")).toBe(true);
    expect(code).toContain('const require = __wardenCreateRequire(import.meta.url);');
  });

  it('is minified (long lines; only template literals keep their newlines)', () => {
    const code = fs.readFileSync(path.join(bundleDir, 'index.mjs'), 'utf8');
    expect(code.length / code.split('\n').length).toBeGreaterThan(2000);
  });

  it('keeps class names, which the ASL Retry/Catch and the failure codes match on', () => {
    const code = fs.readFileSync(path.join(bundleDir, 'index.mjs'), 'utf8');
    // Without keepNames the minifier renames InvalidWorkflowState and no string of its name survives.
    expect(code).toMatch(/["']InvalidWorkflowState["']/);
    expect(code).toMatch(/["']AuditWriteFailed["']/);
  });

  it('targets the runtime the function runs on', () => {
    const fn = Object.values(template).find((r) => r.Type === 'AWS::Lambda::Function');
    expect(fn?.Properties.Runtime).toBe(LAMBDA_RUNTIME.name);
    expect(LAMBDA_RUNTIME.name).toBe('nodejs24.x');
  });

  it("keeps the caller's environment values over the defaults", () => {
    const fn = Object.values(template).find((r) => r.Type === 'AWS::Lambda::Function');
    expect((fn?.Properties.Environment as { Variables: Record<string, string> }).Variables).toEqual({
      POWERTOOLS_SERVICE_NAME: 'warden-finalize',
      POWERTOOLS_METRICS_NAMESPACE: 'Warden',
      POWERTOOLS_LOGGER_LOG_EVENT: 'false',
      NODE_OPTIONS: '--enable-source-maps --max-old-space-size=256',
      EXTRA: 'kept',
    });
  });
});
