import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { LogLevel } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_MODEL_IDS } from '../lib/config';
import { FUNCTION_NAMES, WardenFunction, type FunctionName } from '../lib/constructs/functions';
import { STATE_BUCKET_ENV, STATE_KEY_ENV, STATE_MACHINE_ARN_ENV, TABLES } from '../lambdas/shared/tables';
import type { ProgressReporter } from '../scripts/cli';
import { COLD_START } from './budgets';
import { median, round } from './stats';

/**
 * Cold-start proxy: every Lambda bundled by the WardenFunction construct itself (so the esbuild
 * options are the deployed ones: ESM, minified, keepNames, SDK bundled, the runtime's target),
 * then imported by fresh Node processes. The reference bundle (bench/reference) goes through the
 * same construct and is measured in the same rounds, so machine noise hits both alike.
 */

export const COLD_START_BUDGET = COLD_START.vsReference;
/** Bench-only bundles, by name → entry folder relative to lambdas/ (the construct's convention). */
const REFERENCE = 'reference';
const FLOOR_PROBE = 'dynamodb-floor';
const BENCH_ENTRIES: Record<string, string> = {
  [REFERENCE]: '../bench/reference',
  [FLOOR_PROBE]: '../bench/probes/dynamodb-floor',
};

export interface BundleFigures {
  bytes: number;
  /** Median ms for `await import(bundle)` inside a fresh process: the part a handler controls. */
  importMs: number;
  /** Median ms from spawn to exit of that process (Node's own start-up included). */
  processMs: number;
  /** The largest packages in the bundle, by bytes of output (esbuild metafile). */
  topPackages: { name: string; bytes: number }[];
}

export interface HandlerFigures extends BundleFigures {
  /** importMs / the reference's importMs. */
  ratio: number;
  met: boolean;
}

export interface ColdStartResults {
  runs: number;
  budget: number;
  nodeOptions: string;
  reference: BundleFigures;
  /** Powertools + the DynamoDB document client only: what no DynamoDB-using handler can go below. */
  dynamodbFloor: HandlerFigures;
  handlers: Record<FunctionName, HandlerFigures>;
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

/** Synthesizes one bench stack holding the eight functions, the reference and the probe; returns their bundles. */
export function bundleAll(outdir: string): Bundle[] {
  // Asset metadata names each function's bundle directory, as the CDK CLI asks for.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'WardenBench', { env: { account: '123456789012', region: 'us-east-1' } });
  const names: string[] = [...FUNCTION_NAMES, ...Object.keys(BENCH_ENTRIES)];
  const ids = new Map<string, string>();
  for (const name of names) {
    const id = `Bench${name.replace(/(?:^|-)([a-z])/g, (_m, c: string) => c.toUpperCase())}`;
    ids.set(id, name);
    new WardenFunction(stack, id, {
      // The construct resolves lambdas/<name>/handler.ts; the bench's own bundles live in bench/.
      name: BENCH_ENTRIES[name] ?? name,
      logRetention: RetentionDays.ONE_DAY,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      // Only adds index.meta.json next to the bundle and quiets esbuild: the code is the deployed code.
      bundling: { metafile: true, logLevel: LogLevel.ERROR },
    });
  }
  const template = app.synth().getStackByName('WardenBench').template as {
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
    bundles.push({ name, file: join(outdir, assetPath, 'index.mjs'), environment });
  }
  if (bundles.length !== names.length) throw new Error(`expected ${names.length} bundles, got ${bundles.length}`);
  return bundles;
}

/** Bytes of output per npm package (or `(warden)` for this repository's code). */
function topPackages(bundleFile: string, count = 6): { name: string; bytes: number }[] {
  const metaFile = join(bundleFile, '..', 'index.meta.json');
  if (!existsSync(metaFile)) return [];
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const byPackage = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
      const name = match ? match[1] : '(warden)';
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...byPackage.entries()]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

const IMPORT_PROBE = [
  'const started = performance.now();',
  'const module = await import(process.env.BENCH_BUNDLE_URL);',
  'const importMs = performance.now() - started;',
  "if (typeof module.handler !== 'function') { console.error('no handler export'); process.exit(3); }",
  'process.stdout.write(JSON.stringify({ importMs }));',
].join('\n');

/** One fresh process importing one bundle: in-process import time and spawn-to-exit time. */
function importOnce(bundle: Bundle, nodeOptions: string): { importMs: number; processMs: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [...nodeOptions.split(' ').filter(Boolean), '--input-type=module', '-e', IMPORT_PROBE], {
    // Only what a Lambda sandbox would have: no inherited NODE_OPTIONS, no tsx loader.
    env: { PATH: process.env.PATH ?? '', ...bundle.environment, NODE_OPTIONS: '', BENCH_BUNDLE_URL: pathToFileURL(bundle.file).href },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`importing the ${bundle.name} bundle failed (${result.status}): ${result.stderr.slice(0, 2000)}`);
  const { importMs } = JSON.parse(result.stdout) as { importMs: number };
  return { importMs, processMs };
}

export async function measureColdStart(options: { runs: number; log: (line: string) => void; progress: ProgressReporter }): Promise<ColdStartResults> {
  const outdir = mkdtempSync(join(tmpdir(), 'warden-bench-bundles-'));
  try {
    options.log('  bundling the eight functions, the reference and the floor probe with WardenFunction (esbuild)…');
    const bundling = options.progress.phase('cold start: bundling', 1);
    let bundles: Bundle[];
    try {
      bundles = bundleAll(outdir);
      bundling.tick();
    } finally {
      bundling.end();
    }
    // The deployed NODE_OPTIONS (e.g. --enable-source-maps) change load time: apply them as Lambda would.
    const nodeOptions = bundles[0].environment.NODE_OPTIONS ?? '';
    const samples = new Map<string, { importMs: number[]; processMs: number[] }>(bundles.map((b) => [b.name, { importMs: [], processMs: [] }]));
    // Warm the OS file cache once, then interleave: every round imports every bundle once.
    const importing = options.progress.phase('cold start: fresh imports', bundles.length * (options.runs + 1));
    try {
      for (const bundle of bundles) {
        importOnce(bundle, bundle.environment.NODE_OPTIONS ?? '');
        importing.tick();
      }
      for (let round = 0; round < options.runs; round++) {
        for (const bundle of bundles) {
          const sample = importOnce(bundle, bundle.environment.NODE_OPTIONS ?? '');
          const s = samples.get(bundle.name)!;
          s.importMs.push(sample.importMs);
          s.processMs.push(sample.processMs);
          importing.tick();
        }
      }
    } finally {
      importing.end();
    }
    const figures = (bundle: Bundle): BundleFigures => {
      const s = samples.get(bundle.name)!;
      return {
        bytes: statSync(bundle.file).size,
        importMs: round(median(s.importMs)),
        processMs: round(median(s.processMs)),
        topPackages: topPackages(bundle.file),
      };
    };
    const reference = figures(bundles.find((b) => b.name === REFERENCE)!);
    const againstReference = (name: string): HandlerFigures => {
      const own = figures(bundles.find((b) => b.name === name)!);
      const ratio = round(own.importMs / reference.importMs, 2);
      return { ...own, ratio, met: ratio <= COLD_START_BUDGET };
    };
    const handlers = {} as Record<FunctionName, HandlerFigures>;
    for (const name of FUNCTION_NAMES) handlers[name] = againstReference(name);
    return { runs: options.runs, budget: COLD_START_BUDGET, nodeOptions, reference, dynamodbFloor: againstReference(FLOOR_PROBE), handlers };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
