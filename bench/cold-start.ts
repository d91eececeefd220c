import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { LogLevel } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_MODEL_IDS } from '../lib/config';
import { FUNCTION_NAMES, LEFT_OUT_PACKAGES, TRACER_PACKAGE, WardenFunction, type FunctionName } from '../lib/constructs/functions';
import { STATE_BUCKET_ENV, STATE_KEY_ENV, STATE_MACHINE_ARN_ENV, TABLES } from '../lambdas/shared/tables';
import type { ProgressReporter } from '../scripts/cli';
import { COLD_START } from './budgets';
import { median, round } from './stats';

/**
 * Cold-start proxy: every Lambda bundled by the WardenFunction construct itself (so the esbuild
 * options are the deployed ones), then loaded by fresh Node processes as the Lambda runtime loads
 * them (LOAD_PROBE). Beside them, bundled by
 * the same construct and measured in the same interleaved rounds (machine noise hits all alike):
 * the reference (bench/reference: four SDK clients and Powertools) and, per handler, its floor —
 * a probe generated from the handler bundle's own metafile that loads exactly the SDK clients and
 * Powertools utilities the handler loads at init, and nothing else.
 */

/** Bench-only bundles, by name → entry folder relative to lambdas/ (the construct's convention). */
const REFERENCE = 'reference';
const BENCH_ENTRIES: Record<string, string> = { [REFERENCE]: '../bench/reference' };
const FLOORS_PREFIX = join(__dirname, '.floors-');
const SOURCE_MAPS_FLAG = '--enable-source-maps';

export interface BundleFigures {
  bytes: number;
  /** Median ms for loading the bundle inside a fresh process, as the Lambda runtime loads it (LOAD_PROBE): the part a handler controls. */
  importMs: number;
  /** Median ms from spawn to exit of that process (Node's own start-up included). */
  processMs: number;
  /** The largest packages in the bundle, by bytes of output (esbuild metafile). */
  topPackages: { name: string; bytes: number }[];
}

export interface FloorFigures extends BundleFigures {
  /** The SDK clients and Powertools utilities it loads (and builds) at import. */
  packages: string[];
}

export interface HandlerFigures extends BundleFigures {
  /** The name of its floor probe (handlers that load the same packages share one). */
  floor: string;
  /** importMs / its floor's importMs. */
  ratioToFloor: number;
  /** importMs / the reference's importMs. */
  ratioToReference: number;
  met: boolean;
  /** Median import ms of the same bundle with and without --enable-source-maps, same rounds. */
  sourceMaps: { withMs: number; withoutMs: number };
}

export interface ColdStartResults {
  runs: number;
  /** The budgets this run was checked against (bench/budgets.ts). */
  budgets: { vsOwnFloor: number; vsReference: number };
  /** The deployed NODE_OPTIONS every bundle is imported with (the source-map columns toggle the flag). */
  nodeOptions: string;
  reference: BundleFigures;
  floors: Record<string, FloorFigures>;
  handlers: Record<FunctionName, HandlerFigures>;
  /** Median over the handlers of (with − without) --enable-source-maps, ms. */
  sourceMapsCostMs: number;
}

interface Bundle {
  name: string;
  file: string;
  environment: Record<string, string>;
}
/** What the handlers may read at import time, as dummies: a bundle must load without AWS. */
function dummyEnvironment(name: string): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: `bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    [STATE_BUCKET_ENV]: 'bench-bucket',
    [STATE_KEY_ENV]: 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000',
    [STATE_MACHINE_ARN_ENV]: 'arn:aws:states:us-east-1:123456789012:stateMachine:bench',
    MODEL_PROVIDER: 'bedrock',
    MODEL_ID_LOW: DEFAULT_MODEL_IDS.low,
    MODEL_ID_HIGH: DEFAULT_MODEL_IDS.high,
    APPROVAL_TIMEOUT_SECONDS: '604800',
    CONFIDENCE_THRESHOLD: '0.95',
    ROLE_CLAIM: 'cognito:groups',
  };
  for (const table of Object.values(TABLES)) env[table.envVar] = `bench-${table.logicalName}`;
  return env;
}

/**
 * Synthesizes one bench stack holding a WardenFunction per entry (name → folder relative to
 * lambdas/, the construct's convention) and returns their bundles.
 */
function bundleWith(outdir: string, stackName: string, entries: Record<string, string>): Bundle[] {
  // Asset metadata names each function's bundle directory, as the CDK CLI asks for.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, stackName, { env: { account: '123456789012', region: 'us-east-1' } });
  const ids = new Map<string, string>();
  for (const [name, entry] of Object.entries(entries)) {
    const id = `Bench${name.replace(/(?:^|-)([a-z0-9])/g, (_m, c: string) => c.toUpperCase())}`;
    ids.set(id, name);
    // A Warden function is bundled as deployed. A probe (the reference, a floor) has every client it
    // imports in its bundle, and leaves out only what every deployed bundle leaves out: the
    // credential and token providers' code Lambda never runs, so that it loads exactly what a handler would.
    const probe = !(FUNCTION_NAMES as readonly string[]).includes(name);
    new WardenFunction(stack, id, {
      name: entry,
      logRetention: RetentionDays.ONE_DAY,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      // Only adds index.meta.json next to the bundle and quiets esbuild: the code is the deployed code.
      bundling: { metafile: true, logLevel: LogLevel.ERROR, ...(probe ? { externalModules: [...LEFT_OUT_PACKAGES] } : {}) },
    });
  }
  const template = app.synth().getStackByName(stackName).template as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
  };
  const bundles: Bundle[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const id = [...ids.keys()].find((candidate) => logicalId.startsWith(candidate));
    if (!id) continue;
    const name = ids.get(id) as string;
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof assetPath !== 'string') throw new Error(`no bundle for ${name}`);
    const variables = (resource.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const environment = { ...dummyEnvironment(name) };
    for (const [key, value] of Object.entries(variables)) if (typeof value === 'string') environment[key] = value;
    // `index.mjs` for ESM output, `index.js` for CommonJS: whichever the construct wrote.
    const file = ['index.mjs', 'index.js'].map((f) => join(outdir, assetPath, f)).find((f) => existsSync(f));
    if (!file) throw new Error(`no index.mjs or index.js in the ${name} bundle`);
    bundles.push({ name, file, environment });
  }
  if (bundles.length !== ids.size) throw new Error(`expected ${ids.size} bundles, got ${bundles.length}`);
  return bundles;
}

/** The nine functions and the reference, as deployed. */
export function bundleAll(outdir: string): Bundle[] {
  return bundleWith(outdir, 'WardenBench', { ...Object.fromEntries(FUNCTION_NAMES.map((name) => [name, name])), ...BENCH_ENTRIES });
}

interface Metafile {
  inputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
  outputs: Record<string, { entryPoint?: string; inputs: Record<string, { bytesInOutput: number }> }>;
}

const readMetafile = (bundleFile: string): Metafile => JSON.parse(readFileSync(join(bundleFile, '..', 'index.meta.json'), 'utf8')) as Metafile;

/** The npm package a bundled path belongs to (the innermost node_modules), or undefined for this repository's code. */
function packageOf(input: string): string | undefined {
  const matches = [...input.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
  return matches.length > 0 ? matches[matches.length - 1][1] : undefined;
}

/** What a floor is made of: the SDK's service clients, its DynamoDB document client, the Powertools utilities. */
const FLOOR_PACKAGE = /^(?:@aws-sdk\/client-[a-z0-9-]+|@aws-sdk\/lib-dynamodb|@aws-lambda-powertools\/(?!commons$)[a-z0-9-]+)$/;

/**
 * The SDK clients and Powertools utilities a bundle loads at init, read from its esbuild
 * metafile: the modules reachable from the entry point through every import but `import()`
 * (esbuild inlines a dynamic import as code that runs on first call), that are in the output;
 * and the tracer, which ships beside the bundle (TRACER_PACKAGE) and which a function that names
 * it loads on its first request wherever it traces, as it loads its clients.
 */
export function floorPackages(meta: Metafile): string[] {
  const outputs = Object.values(meta.outputs).filter((output) => output.entryPoint !== undefined);
  if (outputs.length !== 1) throw new Error(`expected one entry point in the metafile, found ${outputs.length}`);
  const [output] = outputs;
  const inOutput = new Set(Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path));
  const reached = new Set<string>();
  const packages = new Set<string>();
  const queue = [output.entryPoint as string];
  while (queue.length > 0) {
    const path = queue.pop() as string;
    if (reached.has(path)) continue;
    reached.add(path);
    for (const imported of meta.inputs[path]?.imports ?? []) {
      if (imported.kind === 'dynamic-import') continue;
      if (!imported.external) queue.push(imported.path);
      else if (imported.path === TRACER_PACKAGE) packages.add(TRACER_PACKAGE);
    }
  }
  for (const path of reached) {
    const name = inOutput.has(path) ? packageOf(path) : undefined;
    if (name && FLOOR_PACKAGE.test(name)) packages.add(name);
  }
  return [...packages].sort();
}

/**
 * A floor probe's source: imports each package's client or utility class and builds one at
 * import, as the reference does. The class is read from the package itself (a service client's
 * one `…Client` export; a Powertools utility's class named after it), so no list here can drift.
 */
export function floorSource(packages: readonly string[], handlers: readonly string[]): string {
  const imports: string[] = [];
  const built: string[] = [];
  const classOf = (name: string): string => {
    const exported = Object.keys(require(name) as Record<string, unknown>);
    if (name.startsWith('@aws-lambda-powertools/')) {
      const utility = name.slice(name.indexOf('/') + 1);
      const className = utility.charAt(0).toUpperCase() + utility.slice(1);
      if (!exported.includes(className)) throw new Error(`${name} exports no ${className}: no floor recipe for it`);
      return className;
    }
    const clients = exported.filter((key) => key.endsWith('Client') && !key.startsWith('_'));
    if (clients.length !== 1) throw new Error(`${name}: expected one …Client export, found [${clients.join(', ')}]`);
    return clients[0];
  };
  const dynamodb = packages.includes('@aws-sdk/lib-dynamodb') ? classOf('@aws-sdk/client-dynamodb') : undefined;
  for (const name of packages) {
    const className = classOf(name);
    imports.push(`import { ${className} } from '${name}';`);
    if (name === '@aws-lambda-powertools/metrics') built.push(`new ${className}({ namespace: 'Bench', serviceName: 'bench-floor' })`);
    else if (name.startsWith('@aws-lambda-powertools/')) built.push(`new ${className}({ serviceName: 'bench-floor' })`);
    // The document client wraps a DynamoDB client (built there, not twice).
    else if (name === '@aws-sdk/lib-dynamodb') built.push(`${className}.from(new ${dynamodb}({}))`);
    else if (name !== '@aws-sdk/client-dynamodb' || !dynamodb) built.push(`new ${className}({})`);
  }
  if (dynamodb && !packages.includes('@aws-sdk/client-dynamodb')) imports.push(`import { ${dynamodb} } from '@aws-sdk/client-dynamodb';`);
  return [
    `// Generated by bench/cold-start.ts from the bundles of ${handlers.join(', ')}: their floor, never deployed.`,
    ...imports,
    '',
    `const built = [${built.join(', ')}];`,
    '',
    'export async function handler(): Promise<{ built: number }> {',
    '  return { built: built.length };',
    '}',
    '',
  ].join('\n');
}

/** Bytes of output per npm package (or `(warden)` for this repository's code). */
function topPackages(bundleFile: string, count = 6): { name: string; bytes: number }[] {
  const metaFile = join(bundleFile, '..', 'index.meta.json');
  if (!existsSync(metaFile)) return [];
  const meta = readMetafile(bundleFile);
  const byPackage = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input) ?? '(warden)';
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

/**
 * Loads the bundle as the Lambda Node.js runtime loads a handler (its UserFunction.js): `index.js`
 * with no `"type": "module"` above it by `require()`, `index.mjs` by `import()`. An `import()` of a
 * CommonJS `.js` file would cost a second parse the runtime never pays: Node first reads the whole
 * file to tell its format.
 */
const LOAD_PROBE = [
  'const file = process.env.BENCH_BUNDLE_FILE;',
  'const started = performance.now();',
  "const module = file.endsWith('.mjs') ? await import(require('node:url').pathToFileURL(file).href) : require(file);",
  'const importMs = performance.now() - started;',
  "if (typeof module.handler !== 'function') { console.error('no handler export'); process.exit(3); }",
  'process.stdout.write(JSON.stringify({ importMs }));',
].join('\n');

/** One fresh process loading one bundle: in-process load time and spawn-to-exit time. */
function importOnce(bundle: Bundle, nodeOptions: string): { importMs: number; processMs: number } {
  const started = process.hrtime.bigint();
  // A CommonJS script (require() is there) whose top level may await: wrapped in an async function.
  const script = `(async () => {\n${LOAD_PROBE}\n})().catch((error) => { console.error(error); process.exit(4); });`;
  const result = spawnSync(process.execPath, [...nodeOptions.split(' ').filter(Boolean), '-e', script], {
    // Only what a Lambda sandbox would have: no inherited NODE_OPTIONS, no tsx loader.
    env: { PATH: process.env.PATH ?? '', ...bundle.environment, NODE_OPTIONS: '', BENCH_BUNDLE_FILE: bundle.file },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`importing the ${bundle.name} bundle failed (${result.status}): ${result.stderr.slice(0, 2000)}`);
  const { importMs } = JSON.parse(result.stdout) as { importMs: number };
  return { importMs, processMs };
}

/** The deployed NODE_OPTIONS with --enable-source-maps flipped: the other column of the source-map comparison. */
function toggleSourceMaps(nodeOptions: string): string {
  const flags = nodeOptions.split(' ').filter(Boolean);
  return (flags.includes(SOURCE_MAPS_FLAG) ? flags.filter((flag) => flag !== SOURCE_MAPS_FLAG) : [...flags, SOURCE_MAPS_FLAG]).join(' ');
}

export async function measureColdStart(options: { runs: number; log: (line: string) => void; progress: ProgressReporter }): Promise<ColdStartResults> {
  const outdir = mkdtempSync(join(tmpdir(), 'warden-bench-bundles-'));
  // The floors' generated entries live under bench/ so that esbuild resolves the project's node_modules.
  const floorsDir = mkdtempSync(FLOORS_PREFIX);
  try {
    options.log('  bundling the nine functions and the reference, then each handler\'s floor probe, with WardenFunction (esbuild)…');
    const bundling = options.progress.phase('cold start: bundling', 2);
    let bundles: Bundle[];
    const floorOf = new Map<string, string>();
    const floorPackagesOf = new Map<string, string[]>();
    try {
      bundles = bundleAll(join(outdir, 'functions'));
      bundling.tick();
      // Handlers that load the same packages share one probe.
      const bySet = new Map<string, string[]>();
      for (const name of FUNCTION_NAMES) {
        const packages = floorPackages(readMetafile(bundles.find((b) => b.name === name)!.file));
        const key = packages.join(' ');
        bySet.set(key, [...(bySet.get(key) ?? []), name]);
        floorPackagesOf.set(name, packages);
      }
      const entries: Record<string, string> = {};
      for (const [key, handlers] of bySet) {
        const name = `floor-${handlers[0]}`;
        const packages = key.split(' ').filter(Boolean);
        mkdirSync(join(floorsDir, name));
        writeFileSync(join(floorsDir, name, 'handler.ts'), floorSource(packages, handlers));
        entries[name] = relative(join(__dirname, '..', 'lambdas'), join(floorsDir, name));
        for (const handler of handlers) floorOf.set(handler, name);
      }
      bundles.push(...bundleWith(join(outdir, 'floors'), 'WardenBenchFloors', entries));
      bundling.tick();
    } finally {
      bundling.end();
    }
    // The deployed NODE_OPTIONS (e.g. --enable-source-maps) change load time: apply them as Lambda would.
    const nodeOptions = bundles[0].environment.NODE_OPTIONS ?? '';
    const toggled = toggleSourceMaps(nodeOptions);
    // Every bundle as deployed, and each handler again with the source-map flag flipped.
    const targets = [
      ...bundles.map((bundle) => ({ key: bundle.name, bundle, nodeOptions: bundle.environment.NODE_OPTIONS ?? '' })),
      ...bundles
        .filter((bundle) => (FUNCTION_NAMES as readonly string[]).includes(bundle.name))
        .map((bundle) => ({ key: `${bundle.name} ${toggled}`, bundle, nodeOptions: toggleSourceMaps(bundle.environment.NODE_OPTIONS ?? '') })),
    ];
    const samples = new Map<string, { importMs: number[]; processMs: number[] }>(targets.map((t) => [t.key, { importMs: [], processMs: [] }]));
    // Warm the OS file cache once, then interleave: every round imports every bundle once.
    const importing = options.progress.phase('cold start: fresh imports', targets.length * (options.runs + 1));
    try {
      for (const target of targets) {
        importOnce(target.bundle, target.nodeOptions);
        importing.tick();
      }
      for (let round = 0; round < options.runs; round++) {
        for (const target of targets) {
          const sample = importOnce(target.bundle, target.nodeOptions);
          const s = samples.get(target.key)!;
          s.importMs.push(sample.importMs);
          s.processMs.push(sample.processMs);
          importing.tick();
        }
      }
    } finally {
      importing.end();
    }
    const figures = (name: string, key = name): BundleFigures => {
      const bundle = bundles.find((b) => b.name === name)!;
      const s = samples.get(key)!;
      return {
        bytes: statSync(bundle.file).size,
        importMs: round(median(s.importMs)),
        processMs: round(median(s.processMs)),
        topPackages: topPackages(bundle.file),
      };
    };
    const reference = figures(REFERENCE);
    const floors: Record<string, FloorFigures> = {};
    for (const name of new Set(floorOf.values())) {
      const handler = [...floorOf.entries()].find(([, floor]) => floor === name)![0];
      floors[name] = { ...figures(name), packages: floorPackagesOf.get(handler)! };
    }
    const withFlag = nodeOptions.split(' ').includes(SOURCE_MAPS_FLAG);
    const handlers = {} as Record<FunctionName, HandlerFigures>;
    for (const name of FUNCTION_NAMES) {
      const own = figures(name);
      const flipped = figures(name, `${name} ${toggled}`).importMs;
      const floor = floors[floorOf.get(name)!];
      const ratioToFloor = round(own.importMs / floor.importMs, 2);
      const ratioToReference = round(own.importMs / reference.importMs, 2);
      handlers[name] = {
        ...own,
        floor: floorOf.get(name)!,
        ratioToFloor,
        ratioToReference,
        // Checked unrounded: 1.153 is not 1.15.
        met: own.importMs / floor.importMs <= COLD_START.vsOwnFloor && own.importMs / reference.importMs <= COLD_START.vsReference,
        sourceMaps: withFlag ? { withMs: own.importMs, withoutMs: flipped } : { withMs: flipped, withoutMs: own.importMs },
      };
    }
    const sourceMapsCostMs = round(median(FUNCTION_NAMES.map((name) => handlers[name].sourceMaps.withMs - handlers[name].sourceMaps.withoutMs)));
    return { runs: options.runs, budgets: { vsOwnFloor: COLD_START.vsOwnFloor, vsReference: COLD_START.vsReference }, nodeOptions, reference, floors, handlers, sourceMapsCostMs };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    rmSync(floorsDir, { recursive: true, force: true });
  }
}
