import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { pathToFileURL } from 'node:url';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LAMBDA_RUNTIME, WardenFunction } from '../../lib/constructs/functions';
import { wholeCatalog } from '../../lambdas/shared/catalog/registry';

/**
 * One real bundle (local esbuild, no Docker): the CommonJS output and its source map.
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

  it('emits a CommonJS bundle and its source map', () => {
    expect(fs.readdirSync(bundleDir).sort()).toEqual(['index.js', 'index.js.map']);
    const code = fs.readFileSync(path.join(bundleDir, 'index.js'), 'utf8');
    // A script, not a module: any import/export statement or import.meta would not parse.
    expect(() => new vm.Script(code, { filename: 'index.js' })).not.toThrow();
    expect(code).toContain('//# sourceMappingURL=index.js.map');
  });

  it('is minified (long lines; only template literals keep their newlines)', () => {
    const code = fs.readFileSync(path.join(bundleDir, 'index.js'), 'utf8');
    expect(code.length / code.split('\n').length).toBeGreaterThan(2000);
  });

  it('keeps class names, which the ASL Retry/Catch and the failure codes match on', () => {
    const code = fs.readFileSync(path.join(bundleDir, 'index.js'), 'utf8');
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

/**
 * Bundles the fixture Lambda `name` (a folder under test/infra/fixtures) with the construct, and
 * copies its asset somewhere else entirely: nothing may resolve back into the project or its
 * node_modules. Returns the asset's files and a way to run its handler from `/`.
 */
function bundleElsewhere(name: string, policyEngine = false) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `warden-${name}-bundle-`));
  const app = new App({ outdir });
  const stack = new Stack(app, 'FixtureBundle', { env: { account: '123456789012', region: 'us-east-1' } });
  new WardenFunction(stack, 'Fixture', {
    name: `../test/infra/fixtures/${name}`,
    ...(policyEngine ? { policyEngine } : {}),
    logRetention: RetentionDays.ONE_WEEK,
    logRemovalPolicy: RemovalPolicy.DESTROY,
  });
  app.synth();
  const [asset] = fs.readdirSync(outdir).filter((entry) => entry.startsWith('asset.'));
  const files = fs.readdirSync(path.join(outdir, asset), { recursive: true }).map(String).sort();
  const moved = fs.mkdtempSync(path.join(os.tmpdir(), `warden-${name}-run-`));
  fs.cpSync(path.join(outdir, asset), moved, { recursive: true });
  return {
    files,
    moved,
    /** The handler's answer, run from `/` in a fresh Node. */
    run() {
      const url = pathToFileURL(path.join(moved, 'index.js')).href;
      return spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(url)}); console.log(JSON.stringify(await m.handler()));`], {
        cwd: '/',
        encoding: 'utf8',
        timeout: 60_000,
      });
    },
    remove() {
      fs.rmSync(outdir, { recursive: true, force: true });
      fs.rmSync(moved, { recursive: true, force: true });
    },
  };
}

/**
 * A bundle that evaluates Cedar: the wasm and the catalog's policies (validated packs) are put
 * beside it by the construct's hook, and the bundle works from anywhere (copied elsewhere, run from `/`),
 * giving real decisions — not only a source run under ts-jest.
 */
describe('WardenFunction bundling with the policy engine', () => {
  let bundle: ReturnType<typeof bundleElsewhere>;
  let files: string[];

  beforeAll(() => {
    bundle = bundleElsewhere('policy-decision', true);
    files = bundle.files;
  }, 120_000);

  afterAll(() => bundle.remove());

  it('ships the wasm and each catalog action’s policy as a pack of Cedar JSON forms beside the bundle, no Cedar text', () => {
    expect(files).toEqual(expect.arrayContaining(['authority.pack.json', 'cedar_wasm_bg.wasm', 'index.js', ...wholeCatalog().map((a) => `${a.name}/policy.pack.json`)]));
    expect(files.filter((f) => /\.cedar(schema)?$/.test(f))).toEqual([]);
    // The nodejs build only: one 4 MB module, not the package's three.
    expect(files.filter((f) => f.endsWith('.wasm'))).toEqual(['cedar_wasm_bg.wasm']);
  });

  it('decides from another directory: tier, reasons, policy id, requester permission and approver authority', () => {
    const run = bundle.run();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      decision: {
        outcome: 'pending_approval',
        reasons: ['above_autonomous_limit', 'unvalidated_vendor'],
        policy: { id: 'purchase-order', version: '2026-12-03' },
        tier: 'finance-director',
        approverRoles: ['finance-director'],
      },
      canRequestRefund: { agent: true, manager: false },
      authority: { director: { ok: true }, requester: { ok: false, code: 'self_approval_forbidden' } },
    });
  });
});

/**
 * The SDK clients only some paths load stay out of the bundle: the construct's hook writes each
 * one the bundle names beside it (`sdk/<client>.js`), and the bundle loads it from there, from
 * anywhere, with no node_modules to fall back on.
 */
describe('WardenFunction bundling of the optional SDK clients', () => {
  let bundle: ReturnType<typeof bundleElsewhere>;

  beforeAll(() => {
    bundle = bundleElsewhere('optional-sdk');
  }, 120_000);

  afterAll(() => bundle.remove());

  it('ships each client the bundle names as a file of its own, and only those', () => {
    expect(bundle.files).toEqual(['index.js', 'index.js.map', 'sdk', 'sdk/client-lambda.js', 'sdk/client-ssm.js']);
    const size = (file: string) => fs.statSync(path.join(bundle.moved, file)).size;
    // The bundle holds none of their code; each file holds its client whole.
    expect(size('index.js')).toBeLessThan(20_000);
    expect(size('sdk/client-ssm.js')).toBeGreaterThan(100_000);
  });

  it('loads them from beside the bundle, run from another directory, one module per client', () => {
    const run = bundle.run();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ ssm: 'GetParameterCommand', lambda: 'InvokeCommand', sameModule: 'true' });
  });
});

