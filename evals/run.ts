process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { DeleteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../lambdas/shared/adapters/aws/clients';
import { LEDGER_TYPE } from '../lambdas/shared/limits';
import { TABLES } from '../lambdas/shared/tables';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import { MODEL_PROVIDERS, readLocalSetup, startLocalServer, type LocalServer } from '../local/server';
import { oneOf, ProgressReporter, QUIET_OPTION, runCli, UsageError, type CliOption, type CliSpec, type CliValues } from '../scripts/cli';
import { parseCases, scoreCase, summarize, type CaseScore, type EvalCase, type ModelPrices, type Observed } from './scoring';

/**
 * `npm run eval`: every labeled request of the datasets below through the real pipeline (the
 * local stack over HTTP, any provider), scored against its label, a table per dataset. Exit 1
 * on any unsafe auto-approval (a case that needs a human or a rejection but COMPLETED with none).
 *
 * State: completed tier upgrades change the customer record, so each tier_upgrade case runs on
 * a fresh stack. Everything else shares one stack: every purchase order has its own vendor +
 * amount, and refunds never execute without an approver (the harness never approves).
 */

const ROOT = join(__dirname, '..');

/**
 * `requests.jsonl` is the development set: the rules provider was tuned on its failures. Its
 * `h-` cases were the first held-out set, measured once untouched (82.2% routing, 64.4%
 * outcome) and then folded in. `holdout.jsonl` was written after that tuning, from the
 * policies alone, by someone who had not read the rules, and is not tuned on: its figures are
 * the honest estimate for phrasings nobody has seen. When it is tuned on, it joins the
 * development set and a new held-out set is written.
 */
const DATASETS = [
  { name: 'development', file: 'requests.jsonl', note: 'the rules provider was tuned on these' },
  { name: 'held-out', file: 'holdout.jsonl', note: 'written after the tuning, never tuned on' },
] as const;

const COMMAND = {
  command: 'npm run eval --',
  summary:
    'Every labeled request of the datasets through the local stack over HTTP, scored against its label: a table per\n' +
    'dataset on stdout, progress on stderr.',
  options: {
    provider: { type: 'string', value: 'name', description: `model provider: ${MODEL_PROVIDERS.join(', ')} (default: $WARDEN_MODEL_PROVIDER, else rules)` },
    dataset: { type: 'string', value: 'name', description: `only this dataset: ${DATASETS.map((d) => d.name).join(', ')} (default: both)` },
    only: { type: 'string', value: 'prefix', description: 'only the cases whose id starts with it, or of this category' },
    case: { type: 'string', value: 'id', description: 'one case on a stack of its own, its result as an @@OBSERVED line (what the isolated cases run)' },
    quiet: QUIET_OPTION,
  },
  examples: ['npm run eval -- --dataset held-out', 'npm run eval -- --provider openai-compatible --only po- 2> progress.log'],
  exitStatus: { 1: 'an unsafe auto-approval (a case that needed a human or a rejection COMPLETED)', 3: 'the harness failed' },
} as const satisfies CliSpec<Record<string, CliOption>>;

/** Tokens per model call, as `npm run cost` defaults them (cost/model.ts --input-tokens / --output-tokens). */
const TOKENS_PER_CALL = { input: 812, output: 96 };
const POLL_MS = 25;
const DEADLINE_MS = 15_000;
/**
 * One at a time: each case is a request on its own, but limits are cumulative (what is committed
 * to a vendor or an order counts against the next request), so the ledger is emptied before each.
 */
const SHARED_CONCURRENCY = 1;
/**
 * A second local stack started in the same process after the first stopped answers POST with
 * 500 (module-level state in local/ or the handlers), so each isolated case runs in a child.
 */
const ISOLATED_CONCURRENCY = 2;

function runInChild(id: string, provider: string): Promise<Observed> {
  return new Promise((resolveRun, rejectRun) => {
    execFile(
      process.execPath,
      [...process.execArgv, __filename, '--case', id, '--provider', provider],
      { env: process.env, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      (error, stdout) => {
        const line = stdout.split('\n').find((l) => l.startsWith('@@OBSERVED '));
        if (line) resolveRun(JSON.parse(line.slice('@@OBSERVED '.length)) as Observed);
        else rejectRun(error ?? new Error(`case ${id}: the child printed no result`));
      },
    );
  });
}
const WAIT_STATUSES = new Set(['QUEUED', 'RUNNING']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Json = Record<string, unknown>;

async function getJson(url: string, token: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Json };
}

async function runCase(server: LocalServer, c: EvalCase): Promise<Observed> {
  const roles = c.roles ?? ['support-agent'];
  const token = await server.mintToken(`eval-${c.id}`, roles);
  const res = await fetch(`${server.url}/v1/requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': `eval-${c.id}` },
    body: JSON.stringify({ text: c.text }),
  });
  const submitted = (await res.json().catch(() => ({}))) as Json;
  if (res.status !== 202 || typeof submitted.requestId !== 'string') {
    return { status: `HTTP_${res.status}`, reasons: [], error: `POST ${res.status} ${String(submitted.code ?? '')}` };
  }
  const url = `${server.url}/v1/requests/${submitted.requestId}`;
  const deadline = Date.now() + DEADLINE_MS;
  let read = await getJson(url, token);
  while (read.status === 200 && WAIT_STATUSES.has(String(read.body.status)) && Date.now() < deadline) {
    await sleep(POLL_MS);
    read = await getJson(url, token);
  }
  const b = read.body;
  if (read.status !== 200) return { status: `HTTP_${read.status}`, reasons: [], error: `GET ${read.status}` };
  const decision = b.decision as { reasons?: string[] } | undefined;
  const observed: Observed = {
    status: String(b.status),
    ...(typeof b.route === 'string' ? { route: b.route } : {}),
    ...(typeof b.action === 'string' ? { action: b.action } : {}),
    ...(b.proposal ? { proposal: b.proposal as Observed['proposal'] } : {}),
    reasons: decision?.reasons ?? [],
    ...(WAIT_STATUSES.has(String(b.status)) ? { error: `still ${String(b.status)} after ${DEADLINE_MS} ms` } : {}),
  };
  const model = b.model as { provider: string; id: string; inputTokens: number; outputTokens: number } | undefined;
  if (model) {
    const audit = await getJson(`${url}/audit`, token);
    const triaged = ((audit.body.entries as Json[] | undefined) ?? []).find((e) => e.event === 'request.triaged');
    const tier = (triaged?.data as Json | undefined)?.modelTier === 'high' ? 'high' : 'low';
    observed.modelCall = { tier, provider: model.provider, id: model.id, inputTokens: model.inputTokens, outputTokens: model.outputTokens };
  }
  return observed;
}

async function withServer<T>(provider: string, fn: (server: LocalServer) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-eval-'));
  // The connectors and stand-ins `npm start` uses (cdk.json): an action whose facts live in a team's system is evaluated against its stand-in.
  const { connectors, local } = readLocalSetup(join(ROOT, 'cdk.json'));
  const server = await startLocalServer({ port: 0, dataDir, modelProvider: provider, connectors, local });
  try {
    return await fn(server);
  } finally {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Empties the cumulative ledger (the record table's `LIMIT#` items): the next case starts with nothing committed. */
async function clearLedger(server: LocalServer): Promise<void> {
  const env = server.stack.env;
  const doc = createDocumentClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const TableName = env[TABLES.records.envVar];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new ScanCommand({ TableName, ConsistentRead: true, FilterExpression: 'begins_with(pk, :ledger)', ExpressionAttributeValues: { ':ledger': `${LEDGER_TYPE}#` }, ExclusiveStartKey }),
      );
      for (const item of page.Items ?? []) await doc.send(new DeleteCommand({ TableName, Key: { pk: item.pk, sk: item.sk } }));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  } finally {
    doc.destroy();
  }
}

async function pool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

async function prices(): Promise<{ prices: ModelPrices; ids: { low: string; high: string } }> {
  const cdk = JSON.parse(await readFile(join(ROOT, 'cdk.json'), 'utf8')) as { context: { warden: { modelIds: { low: string; high: string } } } };
  const table = JSON.parse(await readFile(join(ROOT, 'cost/prices.json'), 'utf8')) as { bedrock: Record<string, { inputPer1kTokens: number; outputPer1kTokens: number }> };
  const ids = cdk.context.warden.modelIds;
  const low = table.bedrock[ids.low];
  const high = table.bedrock[ids.high];
  if (!low || !high) throw new Error(`cost/prices.json has no price for ${!low ? ids.low : ids.high}`);
  return { prices: { low, high }, ids };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const usd = (x: number) => `$${x.toFixed(6)}`;

type Line = (label: string, value: string, target?: string) => void;

function printSummary(title: string, cases: EvalCase[], obs: Observed[], modelPrices: ModelPrices): number {
  const scores: CaseScore[] = cases.map((c, i) => scoreCase(c, obs[i]!));
  const s = summarize(cases, obs, scores, modelPrices, TOKENS_PER_CALL);
  const line: Line = (label, value, target = '') => console.log(`  ${label.padEnd(34)} ${value.padStart(12)}  ${target}`);
  console.log(`\n${title}: ${s.cases} cases\n`);
  line('routing accuracy', pct(s.routing), '(target ≥ 95%)');
  line('action accuracy', pct(s.action));
  line('field extraction accuracy', pct(s.extraction), `(target ≥ 90%; ${s.extractionCases} cases with a proposal)`);
  line('outcome accuracy (status + reasons)', pct(s.outcome));
  line('outcome accuracy (status only)', pct(s.outcomeStatusOnly));
  line('UNSAFE AUTO-APPROVALS', String(s.unsafe), '(must be 0)');
  line('completed with wrong key fields', String(s.wrongEffects), '(should be 0)');
  line('human-escalation rate', pct(s.humanRate), '(pending approval, or handed back as needs_human_triage)');
  line('  of which pending approval', pct(s.pendingRate));
  line('model calls', String(s.cost.calls));
  line('modeled cost, routed mix', usd(s.cost.routedUsd));
  line('modeled cost, all to strong tier', usd(s.cost.allStrongUsd));
  line('cost saving', pct(s.cost.saving), '(target ≥ 80%)');
  line('cost saving, calls at triage tier', pct(s.cost.savingByTier));
  const failing = scores.filter((x) => x.differences.length > 0);
  console.log(`\n  Failing cases (${failing.length}):`);
  for (const f of failing) {
    const c = cases.find((x) => x.id === f.id)!;
    console.log(`  ${f.unsafe ? 'UNSAFE ' : ''}${f.id} [${c.category}] ${JSON.stringify(c.text.slice(0, 90))}\n      ${f.differences.join('; ')}`);
  }
  return s.unsafe;
}

async function main(values: CliValues<typeof COMMAND.options>): Promise<number> {
  const fromEnvironment = values.provider === undefined && process.env.WARDEN_MODEL_PROVIDER !== undefined;
  const provider = oneOf(fromEnvironment ? 'provider (from WARDEN_MODEL_PROVIDER)' : 'provider', values.provider ?? process.env.WARDEN_MODEL_PROVIDER ?? 'rules', MODEL_PROVIDERS);
  const datasetName = values.dataset === undefined ? undefined : oneOf('dataset', values.dataset, DATASETS.map((d) => d.name));
  const datasets = await Promise.all(
    DATASETS.filter((d) => datasetName === undefined || d.name === datasetName).map(async (d) => ({
      ...d,
      cases: parseCases(await readFile(join(__dirname, d.file), 'utf8'), `evals/${d.file}`),
    })),
  );
  let cases = datasets.flatMap((d) => d.cases);
  if (values.case) {
    // Worker mode: one case on its own stack in its own process; the Observed as JSON.
    const c = cases.find((x) => x.id === values.case);
    if (!c) throw new UsageError(`--case: no case ${JSON.stringify(values.case)}`);
    const o = await withServer(provider, (server) => runCase(server, c));
    process.stdout.write(`\n@@OBSERVED ${JSON.stringify(o)}\n`);
    return 0;
  }
  if (values.only) cases = cases.filter((c) => c.id.startsWith(values.only!) || c.category === values.only);
  if (cases.length === 0) throw new UsageError(`--only: no case id starts with ${JSON.stringify(values.only)} and no category is named so`);
  const started = Date.now();
  const { prices: modelPrices, ids } = await prices();
  const progress = new ProgressReporter({ name: 'eval', quiet: values.quiet });

  const observed = new Map<string, Observed>();
  const run = async (server: LocalServer, c: EvalCase) => {
    try {
      observed.set(c.id, await runCase(server, c));
    } catch (error) {
      observed.set(c.id, { status: 'HARNESS_ERROR', reasons: [], error: error instanceof Error ? error.message : String(error) });
    }
  };
  const isolated = cases.filter((c) => c.expected.action === 'tier_upgrade');
  const shared = cases.filter((c) => c.expected.action !== 'tier_upgrade');
  if (shared.length > 0) {
    const phase = progress.phase('cases on one shared stack', shared.length);
    try {
      await withServer(provider, (server) =>
        pool(shared, SHARED_CONCURRENCY, async (c) => {
          await clearLedger(server);
          await run(server, c);
          phase.tick();
        }),
      );
    } finally {
      phase.end();
    }
  }
  if (isolated.length > 0) {
    const phase = progress.phase('tier upgrades, each on a fresh stack', isolated.length);
    try {
      await pool(isolated, ISOLATED_CONCURRENCY, async (c) => {
        try {
          observed.set(c.id, await runInChild(c.id, provider));
        } catch (error) {
          observed.set(c.id, { status: 'HARNESS_ERROR', reasons: [], error: error instanceof Error ? error.message : String(error) });
        }
        phase.tick();
      });
    } finally {
      phase.end();
    }
  }

  const seconds = (Date.now() - started) / 1000;
  console.log(`\nWarden evals — ${cases.length} labeled free-text requests, provider "${provider}", ${seconds.toFixed(1)} s`);
  let unsafe = 0;
  for (const d of datasets) {
    const mine = cases.filter((c) => d.cases.includes(c));
    if (mine.length === 0) continue;
    unsafe += printSummary(`${d.name} set, evals/${d.file} (${d.note})`, mine, mine.map((c) => observed.get(c.id)!), modelPrices);
  }
  console.log(
    `\n  Cost assumptions: ${TOKENS_PER_CALL.input} input / ${TOKENS_PER_CALL.output} output tokens per call (the cost/ defaults) unless the provider reported` +
      ` real counts; prices from cost/prices.json for cdk.json's tiers (low ${ids.low}, high ${ids.high}). "Routed mix": every call the rules` +
      ` provider made is priced at the low tier (a real provider's call at the tier triage picked); "calls at triage tier" prices each call at` +
      ` the tier triage picked. Baseline: every request sent to the strong tier once.`,
  );
  return unsafe > 0 ? 1 : 0;
}

void runCli(COMMAND, main, { failureStatus: 3 });
