import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { parseConfig } from '../lib/config';
import { WardenStack } from '../lib/warden-stack';
import {
  checkShares,
  extraUsage,
  monthlyCost,
  OUTCOMES,
  outcomeShares,
  parseShares,
  PathUsage,
  PriceTable,
  type CostInputs,
  type FunctionProfile,
  type Outcome,
} from './calculate';
import { CommandError, numberIn, optionValue, runCli, type CliOption, type CliSpec, type CliValues } from '../scripts/cli';

/**
 * `npm run cost -- --requests 100000 --approval-rate 0.05 --model-mix low=0.7,high=0.2,none=0.1`
 *
 * The modelled monthly AWS bill of a Warden deployment: per-path usage from bench/results.json
 * (what `npm run bench` counted on the local stack) or, without it, cost/measured-defaults.json
 * (a recorded bench run); Lambda memory and architecture from the synthesized stack; model ids
 * from cdk.json; prices from cost/prices.json, the one price table.
 */

const ROOT = join(__dirname, '..');
const DEFAULTS_FILE = join(__dirname, 'measured-defaults.json');

/** A structured request measured on each outcome's path, and the free-text path the model extra is taken from. */
const PATH_OF: Record<Outcome, string> = {
  'auto-approved': 'auto-approved',
  rejected: 'rejected',
  approved: 'approved',
  'rejected by approver': 'rejected by approver',
  expired: 'expired',
};
const FREE_TEXT_PATH = 'auto-approved (free text)';

const COMMAND = {
  command: 'npm run cost --',
  summary:
    'The modelled monthly AWS bill of a Warden deployment: per-path usage from bench/results.json (or the recorded\n' +
    'cost/measured-defaults.json), memory from the synthesized stack, model ids from cdk.json, prices from cost/prices.json.\n' +
    'Shares are comma-separated key=value pairs.',
  options: {
    requests: { type: 'string', value: 'n', default: '100000', description: 'requests per month' },
    'approval-rate': { type: 'string', value: 'share', default: '0.05', description: 'share of requests that wait for an approver' },
    'rejection-rate': { type: 'string', value: 'share', default: '0', description: 'share rejected by policy' },
    'approval-outcomes': { type: 'string', value: 'shares', default: 'approved=0.9,rejected=0.08,expired=0.02', description: 'how approvals end' },
    'model-mix': { type: 'string', value: 'shares', default: 'low=0.7,high=0.2,none=0.1', description: 'model tier per request (none: structured, no model)' },
    // The recorded Bedrock response in test/fixtures/bedrock/purchase-order.tool-use.json: 812 in, 96 out, 1,432 ms.
    'input-tokens': { type: 'string', value: 'per tier', default: 'low=812,high=812', description: 'input tokens per model call' },
    'output-tokens': { type: 'string', value: 'per tier', default: 'low=96,high=96', description: 'output tokens per model call' },
    'model-latency-ms': { type: 'string', value: 'per tier', default: 'low=1432,high=1432', description: 'model latency the inference Lambda is billed for' },
    // With an S3 Bucket Key, S3 asks KMS for a bucket-level key, not one per object (AWS: up to 99% fewer calls).
    'kms-per-s3-request': { type: 'string', value: 'share', default: '0.01', description: 'KMS requests per S3 request (S3 Bucket Key)' },
    // Key versions billed: 1 the first year, +1 per yearly rotation for the first two rotations.
    'kms-key-versions': { type: 'string', value: '1-3', default: '1', description: 'KMS key versions billed (1 the first year, +1 per rotation)' },
    results: { type: 'string', value: 'file', default: 'bench/results.json', description: 'measured usage per path (falls back to cost/measured-defaults.json)' },
    prices: { type: 'string', value: 'file', default: 'cost/prices.json', description: 'the price table' },
  },
  examples: ['npm run cost -- --requests 100000 --approval-rate 0.05 --model-mix low=0.7,high=0.2,none=0.1'],
  exitStatus: { 1: 'an input file is missing, unreadable or incomplete' },
} as const satisfies CliSpec<Record<string, CliOption>>;

interface MeasuredPath {
  transitions: { billable: number };
  invocations: Record<string, number>;
  httpRequests: number;
  io: { dynamodb: { readUnits: number; writeUnits: number; gsiWriteUnits: number }; s3: { put: number; get: number } };
}
interface Measured {
  generatedAt: string;
  paths?: Record<string, MeasuredPath>;
  durations?: Record<string, { medianMs: number }>;
}

function usageOf(path: MeasuredPath | undefined, name: string, source: string): PathUsage {
  if (!path) throw new CommandError(`${source} has no "${name}" path: run \`npm run bench\``);
  return PathUsage.parse({
    transitions: path.transitions.billable,
    invocations: path.invocations,
    httpRequests: path.httpRequests,
    dynamodb: path.io.dynamodb,
    s3: { put: path.io.s3.put, get: path.io.s3.get },
  });
}

function readInput(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CommandError(`${option}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** bench/results.json when it has the paths and durations, else the recorded defaults. */
function measurements(resultsFile: string): { measured: Measured; source: string } {
  if (existsSync(resultsFile)) {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as Measured;
    if (results.paths && results.durations) return { measured: results, source: resultsFile };
  }
  return { measured: JSON.parse(readFileSync(DEFAULTS_FILE, 'utf8')) as Measured, source: DEFAULTS_FILE };
}

interface Deployed {
  functions: Record<string, Omit<FunctionProfile, 'durationMs'>>;
  /** (function, table) pairs: each caller/table pair makes DynamoDB fetch the table key from KMS. */
  functionTablePairs: number;
  modelIds: { low: string; high: string };
}

/** Memory and architecture of each function as the stack synthesizes them (no bundling needed). */
function deployed(): Deployed {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> & { warden?: unknown } };
  const { warden, ...flags } = cdkJson.context;
  const config = parseConfig(warden);
  const app = new App({ context: { ...flags, warden, 'aws:cdk:bundling-stacks': [] } });
  const stack = new WardenStack(app, 'Warden', { config, env: { account: '123456789012', region: 'us-east-1' } });
  const resources = app.synth().getStackByName(stack.stackName).template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const functions: Deployed['functions'] = {};
  let functionTablePairs = 0;
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const name = /^Warden (\w+)$/.exec(String(resource.Properties.Description ?? ''))?.[1];
    if (!name) continue;
    const architecture = ((resource.Properties.Architectures as string[] | undefined)?.[0] ?? 'x86_64') as FunctionProfile['architecture'];
    functions[name] = { memoryMb: Number(resource.Properties.MemorySize ?? 128), architecture };
    const variables = (resource.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    functionTablePairs += Object.keys(variables).filter((key) => key.endsWith('_TABLE')).length;
  }
  return { functions, functionTablePairs, modelIds: config.modelIds };
}

const usd = (value: number) => (value >= 0.01 || value === 0 ? `$${value.toFixed(2)}` : `$${value.toPrecision(2)}`);
/** Unit prices as published: every significant digit, never in exponent notation. */
const unitUsd = (value: number) => `$${value.toLocaleString('en-US', { maximumSignificantDigits: 6, maximumFractionDigits: 12 })}`;
const qty = (value: number) => (Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 1 }));

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

type Options = CliValues<typeof COMMAND.options>;

/** Every option's value, checked before any file is read or the stack synthesized. */
function readOptions(args: Options) {
  return optionValue(() => {
    const options = {
      requests: numberIn('requests', args.requests, { min: 0 }),
      approvalRate: numberIn('approval-rate', args['approval-rate'], { max: 1 }),
      rejectionRate: numberIn('rejection-rate', args['rejection-rate'], { max: 1 }),
      approvalOutcomes: parseShares(args['approval-outcomes'], ['approved', 'rejected', 'expired'] as const, '--approval-outcomes'),
      modelMix: parseShares(args['model-mix'], ['low', 'high', 'none'] as const, '--model-mix'),
      inputTokens: parseShares(args['input-tokens'], ['low', 'high'] as const, '--input-tokens'),
      outputTokens: parseShares(args['output-tokens'], ['low', 'high'] as const, '--output-tokens'),
      modelLatencyMs: parseShares(args['model-latency-ms'], ['low', 'high'] as const, '--model-latency-ms'),
      kmsKeyVersions: numberIn('kms-key-versions', args['kms-key-versions'], { min: 1, max: 3 }),
      kmsPerS3Request: numberIn('kms-per-s3-request', args['kms-per-s3-request'], { max: 1 }),
      results: resolve(ROOT, args.results),
      prices: resolve(ROOT, args.prices),
    };
    checkShares('--approval-outcomes', options.approvalOutcomes);
    checkShares('--model-mix', options.modelMix);
    outcomeShares(options);
    return options;
  });
}

function main(args: Options): void {
  const options = readOptions(args);
  const prices = PriceTable.parse(JSON.parse(readInput('--prices', options.prices)));
  const { measured, source } = measurements(options.results);
  const stack = deployed();

  const paths = Object.fromEntries(OUTCOMES.map((o) => [o, usageOf(measured.paths?.[PATH_OF[o]], PATH_OF[o], source)])) as Record<Outcome, PathUsage>;
  const generativeExtra = extraUsage(usageOf(measured.paths?.[FREE_TEXT_PATH], FREE_TEXT_PATH, source), paths['auto-approved']);
  const functions: Record<string, FunctionProfile> = {};
  // The functions the modelled paths invoke (an agent's `mcp` entry point is not one of them: the
  // model prices requests submitted over HTTP).
  const invoked = new Set(Object.values(measured.paths ?? {}).flatMap((path) => Object.keys((path as { invocations?: Record<string, number> }).invocations ?? {})));
  for (const [name, profile] of Object.entries(stack.functions)) {
    const durationMs = measured.durations?.[name]?.medianMs;
    if (durationMs === undefined && !invoked.has(name)) continue;
    if (durationMs === undefined) throw new CommandError(`${source} has no duration for the ${name} Lambda: run \`npm run bench\``);
    functions[name] = { ...profile, durationMs };
  }

  const { inputTokens, outputTokens } = options;
  // DynamoDB caches each table key per caller for up to 5 minutes: at most one Decrypt per pair per window.
  const windowsPerMonth = (30 * 24 * 60) / 5;
  const inputs: CostInputs = {
    requests: options.requests,
    approvalRate: options.approvalRate,
    rejectionRate: options.rejectionRate,
    approvalOutcomes: options.approvalOutcomes,
    modelMix: options.modelMix,
    modelIds: stack.modelIds,
    tokens: { low: { input: inputTokens.low, output: outputTokens.low }, high: { input: inputTokens.high, output: outputTokens.high } },
    paths,
    generativeExtra,
    functions,
    modelLatencyMs: options.modelLatencyMs,
    kms: {
      keyMonths: options.kmsKeyVersions,
      requestsPerS3Request: options.kmsPerS3Request,
      dynamodbRequestsPerMonth: stack.functionTablePairs * windowsPerMonth,
    },
  };
  const cost = monthlyCost(inputs, prices);

  const log = (line = '') => process.stdout.write(`${line}\n`);
  log(`Warden — modelled monthly cost, ${prices.region}, prices as of ${prices.asOf} (cost/prices.json)`);
  log(`usage per path from ${source.replace(`${ROOT}/`, '')} (measured ${measured.generatedAt}); memory from the synthesized stack; models from cdk.json`);
  log();
  log(`${qty(inputs.requests)} requests: ${Object.entries(cost.requestsByOutcome).map(([o, n]) => `${o} ${qty(n)}`).join(', ')}`);
  log(`model mix: low ${inputs.modelMix.low}, high ${inputs.modelMix.high}, none (structured) ${inputs.modelMix.none}; tokens per call low ${inputs.tokens.low.input}/${inputs.tokens.low.output}, high ${inputs.tokens.high.input}/${inputs.tokens.high.output} (in/out)`);
  log(`per request on average: ${cost.perRequest.transitions.toFixed(2)} transitions, ${Object.values(cost.perRequest.invocations).reduce((a, b) => a + b, 0).toFixed(2)} Lambda invocations, ${cost.perRequest.dynamodb.readUnits.toFixed(1)} RRU, ${(cost.perRequest.dynamodb.writeUnits + cost.perRequest.dynamodb.gsiWriteUnits).toFixed(1)} WRU, ${cost.perRequest.httpRequests.toFixed(2)} HTTP API requests`);
  log();
  const rows = [['service', 'item', 'quantity', 'unit', 'unit price', 'monthly']];
  for (const l of cost.lines) rows.push([l.service, l.item, qty(l.quantity), l.unit, unitUsd(l.unitUsd), usd(l.usd)]);
  rows.push(['', 'total', '', '', '', usd(cost.totalUsd)]);
  log(table(rows));
  log();
  const byService = new Map<string, number>();
  for (const l of cost.lines) byService.set(l.service, (byService.get(l.service) ?? 0) + l.usd);
  log(`by service: ${[...byService].sort((a, b) => b[1] - a[1]).map(([s, v]) => `${s} ${usd(v)} (${((100 * v) / cost.totalUsd).toFixed(1)}%)`).join(', ')}`);
  log(`per request: ${usd(cost.perRequestUsd)}; per 1,000 requests: ${usd(cost.perRequestUsd * 1000)}`);
  for (const [id, model] of Object.entries(prices.bedrock)) {
    if (model.note && Object.values(inputs.modelIds).includes(id)) log(`note on ${id}: ${model.note}`);
  }
  log('not modelled: free tiers, CloudWatch (logs, EMF metrics, alarms, dashboard), X-Ray traces, EventBridge/SQS/SNS on failures,');
  log('storage (DynamoDB and S3 GB-months), data transfer, Lambda INIT time of cold starts, PII-vault objects for requests that carry PII.');
}

void runCli(COMMAND, main);
