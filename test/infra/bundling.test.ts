import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { FALLBACK_CREDENTIAL_PROVIDERS, LAMBDA_RUNTIME, SSO_TOKEN_CLIENT, TRACER_PACKAGE, WardenFunction, leftOutPackageFile } from '../../lib/constructs/functions';
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

  it('emits a CommonJS bundle and its source map, and the fallback credential providers as packages beside it', () => {
    expect(fs.readdirSync(bundleDir).sort()).toEqual(['index.js', 'index.js.map', 'node_modules']);
    const packages = FALLBACK_CREDENTIAL_PROVIDERS.map(leftOutPackageFile);
    for (const file of packages) expect(fs.statSync(path.join(bundleDir, file)).size).toBeGreaterThan(1_000);
    const code = fs.readFileSync(path.join(bundleDir, 'index.js'), 'utf8');
    // A script, not a module: any import/export statement or import.meta would not parse.
    expect(() => new vm.Script(code, { filename: 'index.js' })).not.toThrow();
    expect(code).toContain('//# sourceMappingURL=index.js.map');
  });

  it('is minified (long lines; only template literals keep their newlines)', () => {
    const code = fs.readFileSync(path.join(bundleDir, 'index.js'), 'utf8');
    expect(code.length / code.split('\n').length).toBeGreaterThan(2000);
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

/** Node's arguments that load the bundle in `dir` as the Lambda runtime does (`require()`) and print its handler's answer as JSON. */
function runArgs(dir: string): string[] {
  const file = JSON.stringify(path.join(dir, 'index.js'));
  return ['-e', `require(${file}).handler().then((answer) => console.log(JSON.stringify(answer)), (error) => { console.error(error); process.exit(1); });`];
}

/**
 * Bundles the fixture Lambda `name` (a folder under test/infra/fixtures) with the construct, and
 * copies its asset somewhere else entirely: nothing may resolve back into the project or its
 * node_modules. Returns the asset's files and a way to run its handler from `/`.
 */
function bundleElsewhere(name: string, options: { policyEngine?: boolean; s3Beside?: boolean } = {}) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `warden-${name}-bundle-`));
  const app = new App({ outdir });
  const stack = new Stack(app, 'FixtureBundle', { env: { account: '123456789012', region: 'us-east-1' } });
  new WardenFunction(stack, 'Fixture', {
    name: `../test/infra/fixtures/${name}`,
    ...options,
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
      return spawnSync(process.execPath, runArgs(moved), { cwd: '/', encoding: 'utf8', timeout: 60_000 });
    },
    /** The same, with only `env` for environment, without blocking this process (a server of the test's may answer it). */
    runWith(env: Record<string, string>) {
      return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, runArgs(moved), { cwd: '/', env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) =>
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
      });
    },
    remove() {
      fs.rmSync(outdir, { recursive: true, force: true });
      fs.rmSync(moved, { recursive: true, force: true });
    },
  };
}

/** The fixture `name` bundled elsewhere for the enclosing describe: built before its tests, removed after them. */
function bundledFixture(name: string, options: { policyEngine?: boolean; s3Beside?: boolean } = {}): () => ReturnType<typeof bundleElsewhere> {
  let bundle: ReturnType<typeof bundleElsewhere> | undefined;
  beforeAll(() => {
    bundle = bundleElsewhere(name, options);
  }, 120_000);
  afterAll(() => bundle?.remove());
  return () => {
    if (!bundle) throw new Error(`the ${name} fixture was not bundled`);
    return bundle;
  };
}

/**
 * A bundle that evaluates Cedar: the wasm and the catalog's policies (validated packs) are put
 * beside it by the construct's hook, and the bundle works from anywhere (copied elsewhere, run from `/`),
 * giving real decisions — not only a source run under ts-jest.
 */
describe('WardenFunction bundling with the policy engine', () => {
  const bundle = bundledFixture('policy-decision', { policyEngine: true });

  it('ships the wasm and each catalog action’s policy as a pack of Cedar JSON forms beside the bundle, no Cedar text', () => {
    expect(bundle().files).toEqual(expect.arrayContaining(['authority.pack.json', 'cedar_wasm_bg.wasm', 'index.js', ...wholeCatalog().map((a) => `${a.name}/policy.pack.json`)]));
    expect(bundle().files.filter((f) => /\.cedar(schema)?$/.test(f))).toEqual([]);
    // The nodejs build only: one 4 MB module, not the package's three.
    expect(bundle().files.filter((f) => f.endsWith('.wasm'))).toEqual(['cedar_wasm_bg.wasm']);
  });

  it('decides from another directory: tier, reasons, policy id, requester permission and approver authority', () => {
    const run = bundle().run();
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
  const bundle = bundledFixture('optional-sdk');

  it('ships each client the bundle names as a file of its own, and only those, with the credential providers they leave out', () => {
    expect(bundle().files.filter((file) => file.endsWith('.js'))).toEqual(
      [...FALLBACK_CREDENTIAL_PROVIDERS.map(leftOutPackageFile), 'index.js', 'sdk/client-lambda.js', 'sdk/client-ssm.js'].sort(),
    );
    const ssm = fs.readFileSync(path.join(bundle().moved, 'sdk/client-ssm.js'), 'utf8');
    for (const name of FALLBACK_CREDENTIAL_PROVIDERS) expect(ssm).toContain(`"${name}"`);
    const size = (file: string) => fs.statSync(path.join(bundle().moved, file)).size;
    // The bundle holds none of their code; each file holds its client whole.
    expect(size('index.js')).toBeLessThan(20_000);
    expect(size('sdk/client-ssm.js')).toBeGreaterThan(100_000);
  });

  it('loads them from beside the bundle, run from another directory, one module per client', () => {
    const run = bundle().run();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ ssm: 'GetParameter', lambda: 'Invoke', sameModule: 'true' });
  });
});


/**
 * The adapters take the S3, KMS and Step Functions clients and their commands module by module
 * (adapters/aws/sdk/s3.ts): the bundle holds the commands Warden sends, and none of the others
 * that each package's index, reached through require(), would keep with its aggregated client.
 */
describe('WardenFunction bundling of the SDK clients the adapters load', () => {
  const bundle = bundledFixture('sdk-modules');
  /** The operations whose command classes the bundle defines (a minified `class extends command(…, "Operation", …)`). */
  const commandClasses = (code: string, operations: readonly string[]) => operations.filter((op) => new RegExp(`extends [A-Za-z_$]+\\([A-Za-z_$0-9]+,[A-Za-z_$0-9]+,"${op}",`).test(code));

  it('loads each client and command from the bundle, run from another directory', () => {
    const run = bundle().run();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      clients: ['object', 'object', 'object'],
      commands: ['GetObject', 'PutObject', 'Sign', 'GetPublicKey', 'StartExecution', 'SendTaskSuccess'],
    });
  });

  it('defines only the commands the adapters send', () => {
    const code = fs.readFileSync(path.join(bundle().moved, 'index.js'), 'utf8');
    const sent = ['GetObject', 'PutObject', 'Sign', 'GetPublicKey', 'StartExecution', 'SendTaskSuccess'];
    expect(commandClasses(code, sent)).toEqual(sent);
    expect(commandClasses(code, ['CreateBucket', 'DeleteObject', 'ListObjectsV2', 'Encrypt', 'Decrypt', 'CreateKey', 'ListExecutions', 'StopExecution', 'SendTaskFailure'])).toEqual([]);
  });
});

/**
 * A bundle built with s3Beside (the gateway's and the MCP handler's, which use S3 only to vault PII)
 * leaves the adapters' S3 module out: a cold start parses no S3 client, and the first use reads the
 * module from sdk/s3.js beside the bundle.
 */
describe('WardenFunction bundling with the S3 module beside the bundle', () => {
  const bundle = bundledFixture('sdk-modules', { s3Beside: true });
  const sent = ['GetObject', 'PutObject', 'Sign', 'GetPublicKey', 'StartExecution', 'SendTaskSuccess'];

  it('loads the S3 client and its commands from sdk/s3.js, run from another directory, and the other clients from the bundle', () => {
    expect(bundle().files).toContain('sdk/s3.js');
    const run = bundle().run();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ clients: ['object', 'object', 'object'], commands: sent });
  });

  it('holds no S3 code in the bundle: the S3 commands are defined in sdk/s3.js only', () => {
    const code = (file: string) => fs.readFileSync(path.join(bundle().moved, file), 'utf8');
    const defined = (text: string) => sent.filter((op) => new RegExp(`extends [A-Za-z_$]+\\([A-Za-z_$0-9]+,[A-Za-z_$0-9]+,"${op}",`).test(text));
    expect(defined(code('index.js'))).toEqual(['Sign', 'GetPublicKey', 'StartExecution', 'SendTaskSuccess']);
    expect(defined(code('sdk/s3.js'))).toEqual(['GetObject', 'PutObject']);
    expect(code('index.js')).not.toMatch(/"AmazonS3"|x-amz-checksum-mode/);
  });

  it('says which file is missing when the deployment lost it', () => {
    fs.rmSync(path.join(bundle().moved, 'sdk/s3.js'));
    const run = bundle().run();
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('sdk/s3.js is missing beside the bundle');
  });
});

/**
 * Powertools Tracer and the X-Ray SDK ship beside the bundle as a package (TRACER_PACKAGE): a cold
 * start does not parse them, and a function that traces finds them on its first request.
 */
describe('WardenFunction bundling of the tracer', () => {
  const bundle = bundledFixture('tracer-beside');
  const env = (tracing: boolean) => ({ PATH: process.env.PATH ?? '', HOME: os.tmpdir(), AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: String(tracing) });

  it('leaves it out of the bundle and writes it beside it as a package', () => {
    expect(bundle().files).toContain(leftOutPackageFile(TRACER_PACKAGE));
    const code = (file: string) => fs.readFileSync(path.join(bundle().moved, file), 'utf8');
    expect(code('index.js')).toContain(`"${TRACER_PACKAGE}"`);
    // The X-Ray SDK's own settings, read where it loads: in the file beside the bundle only.
    expect(code('index.js')).not.toMatch(/AWS_XRAY_DAEMON_ADDRESS|AWS_XRAY_CONTEXT_MISSING/);
    expect(code(leftOutPackageFile(TRACER_PACKAGE))).toMatch(/AWS_XRAY_DAEMON_ADDRESS/);
  });

  it('traces from beside the bundle, run from another directory: the client is captured by X-Ray', async () => {
    const run = await bundle().runWith(env(true));
    expect(JSON.parse(run.stdout)).toEqual({ tracing: true, captured: true });
  });

  it('never loads it where tracing is off, and fails loudly where it traces without the file', async () => {
    fs.rmSync(path.join(bundle().moved, 'node_modules', TRACER_PACKAGE), { recursive: true });
    const off = await bundle().runWith(env(false));
    expect(JSON.parse(off.stdout)).toEqual({ tracing: false, captured: false });
    const on = await bundle().runWith(env(true));
    expect(on.status).not.toBe(0);
    expect(on.stderr).toContain(`Cannot find module '${TRACER_PACKAGE}'`);
  });
});

/**
 * The SSO OIDC client, which the Bedrock client's bearer-token provider imports only for an SSO
 * profile, ships beside the bundle rather than in it, and is still found by the name it is imported by.
 */
describe('WardenFunction bundling of the SSO token client', () => {
  const bundle = bundledFixture('sso-token');

  it('leaves it out of the bundle, which imports it by name, and writes it beside it', () => {
    expect(bundle().files).toContain(leftOutPackageFile(SSO_TOKEN_CLIENT));
    // Its package's manifest maps the subpath (import() resolves one only through exports), and no other manifest is written.
    expect(bundle().files.filter((file) => file.endsWith('package.json'))).toEqual([path.join('node_modules', '@aws-sdk', 'nested-clients', 'package.json')]);
    const code = fs.readFileSync(path.join(bundle().moved, 'index.js'), 'utf8');
    expect(code).toMatch(new RegExp(`(?:import|require)\\("${SSO_TOKEN_CLIENT.replaceAll('/', '\\/')}"\\)`));
    // Its endpoint rules are the client's own: they are in its file, not in the bundle.
    const own = fs.readFileSync(path.join(bundle().moved, leftOutPackageFile(SSO_TOKEN_CLIENT)), 'utf8');
    expect(own).toContain('oidc.');
    expect(code).not.toMatch(/https:\/\/oidc\./);
  });

  it('loads it from beside the bundle, run from another directory', () => {
    const run = bundle().run();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ bedrock: 'function', oidc: 'function', command: 'function' });
  });
});

/**
 * Lambda bundles are minified without class names kept: the errors still carry the names the
 * ASL's Retry/Catch and the failure codes match on, read in a bundle run from elsewhere.
 */
describe('WardenFunction bundling of the named errors', () => {
  const bundle = bundledFixture('error-names');

  it('gives every error its own name, and reads the failure codes back from a Catch', () => {
    const run = bundle().run();
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      names: [
        'WardenError',
        'InvalidInput',
        'Unauthenticated',
        'TokenRejected',
        'Forbidden',
        'NotFound',
        'Conflict',
        'Gone',
        'OrchestratorUnavailable',
        'InvalidWorkflowState',
        'AuditWriteFailed',
        'ModelUnavailable',
        'ModelAccessDenied',
        'ModelNotFound',
        'ModelSettingError',
        'DuplicateEffect',
        'EffectPreconditionFailed',
        'ConnectorFailed',
        'PayloadTooLarge',
        'UnsupportedMediaType',
      ],
      connectorFailure: { connector: 'refund effect http', reason: 'timeout' },
      modelFailureCause: 'throttled',
    });
  });
});

/**
 * The credential providers the SDK imports only without credentials in the environment ship
 * beside the bundle, not in it: run with none, from elsewhere, the default chain still reaches a
 * container credentials endpoint (a server of the test's) through the one beside the bundle.
 */
describe('WardenFunction bundling of the fallback credential providers', () => {
  let bundle: ReturnType<typeof bundleElsewhere>;
  let server: Server;
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    bundle = bundleElsewhere('credential-fallback');
    server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ AccessKeyId: 'AKIDFROMCONTAINER', SecretAccessKey: 'secret', Token: 'token', Expiration: new Date(Date.now() + 3_600_000).toISOString() }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-empty-home-'));
    // No credentials in the environment and no ~/.aws: only the container endpoint has them.
    env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_CONFIG_FILE: path.join(home, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${(server.address() as AddressInfo).port}/credentials`,
    };
  }, 120_000);

  afterAll(async () => {
    bundle.remove();
    fs.rmSync(home, { recursive: true, force: true });
    await new Promise((resolve) => server.close(resolve));
  });

  it('leaves them out of the bundle, which imports each by name, and writes each beside it', () => {
    expect(bundle.files.filter((file) => file.endsWith('index.js')).sort()).toEqual(
      ['index.js', ...FALLBACK_CREDENTIAL_PROVIDERS.map(leftOutPackageFile)].sort(),
    );
    // Bundled, a package leaves no import of its name behind; left out, the import stays.
    const code = fs.readFileSync(path.join(bundle.moved, 'index.js'), 'utf8');
    for (const name of FALLBACK_CREDENTIAL_PROVIDERS) expect(code).toMatch(new RegExp(`(?:import|require)\\("${name.replace('/', '\\/')}"\\)`));
  });

  it('finds the credentials through the provider beside the bundle, and not without it', async () => {
    const run = await bundle.runWith(env);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ accessKeyId: 'AKIDFROMCONTAINER' });

    const provider = path.join(bundle.moved, 'node_modules/@aws-sdk/credential-provider-http');
    fs.renameSync(provider, `${provider}.away`);
    try {
      const without = await bundle.runWith(env);
      expect(without.status).not.toBe(0);
      expect(without.stderr).toContain('@aws-sdk/credential-provider-http');
    } finally {
      fs.renameSync(`${provider}.away`, provider);
    }
  });
});

/**
 * The SDK sends its own warnings to `console` only when it recognises its default logger, by a
 * class name a minified bundle does not keep: the clients are built with a logger of Warden's
 * that says where warnings go. Run as bundled, one of the SDK's warnings reaches stderr.
 */
describe('WardenFunction bundling keeps the SDK warnings', () => {
  const bundle = bundledFixture('sdk-warnings');

  it("writes the SDK's warning about an app id that is too long, and nothing of its per-call detail", async () => {
    const run = await bundle().runWith({ PATH: process.env.PATH ?? '', HOME: os.tmpdir(), AWS_SDK_UA_APP_ID: 'x'.repeat(60) });
    expect(JSON.parse(run.stdout)).toEqual({ failed: 'yes' });
    expect(run.stderr).toContain('userAgentAppId exceeds the maximum length of 50 characters');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
