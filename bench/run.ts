import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FUNCTION_NAMES } from '../lib/function-names';
import { nonNegativeInteger, positiveInteger, ProgressReporter, QUIET_OPTION, runCli, UsageError, type CliOption, type CliSpec, type CliValues } from '../scripts/cli';
import { checkBudgets, COLD_START, CYCLE, HOSTILE_TEXT, IO_CALLS, THROUGHPUT, TRANSITIONS, type BudgetVerdict } from './budgets';
// Loaded where the cold start is measured: it builds the handlers' bundles with aws-cdk-lib, which
// a local-stack phase (a child of this script) must not load (it wraps `fs` in its profiling).
import type { ColdStartResults } from './cold-start';
import type { CycleResults } from './cycle';
import type { PathFigures } from './paths';
import { kib, table, verdict } from './stats';
import type { ThroughputRun } from './throughput';
import { measureTextScanning, TEXT_STEPS, type TextResults } from './text';

/**
 * `npm run bench`: the performance budgets (bench/budgets.ts), measured on this machine, offline,
 * against loopback only. Prints the figures and writes bench/results.json (read by `npm run cost`);
 * progress goes to stderr, the children's included (they inherit it). With `--check`, a budget
 * not met is exit status 3.
 *
 * The cold-start proxy runs here; every local-stack section runs in a child process of its own
 * with a fresh stack and data directory (the handlers' SDK clients are process-wide, so one stack
 * per process), each under a hard time limit.
 */

const SECTIONS = ['cold', 'paths', 'throughput', 'text'] as const;

const COMMAND = {
  command: 'npm run bench --',
  summary:
    'The performance budgets (bench/budgets.ts), measured on this machine against loopback only: cold-start proxy per\n' +
    'handler, billable transitions and DynamoDB/S3 calls per path, the escalated approval cycle against its raw I/O, local\n' +
    'throughput against the emulators\' own ceiling, the cost of reading hostile texts. Figures on stdout, progress on\n' +
    'stderr; the results JSON is what `npm run cost` reads.',
  options: {
    'cold-runs': { type: 'string', value: 'n', default: '15', description: 'fresh imports of each bundle for the cold-start medians' },
    cycles: { type: 'string', value: 'n', default: '25', description: 'escalated cycles timed against their replays' },
    requests: { type: 'string', value: 'n', default: '800', description: 'timed requests per throughput run (and replays per ceiling)' },
    warmup: { type: 'string', value: 'n', default: String(THROUGHPUT.warmup), description: 'untimed requests before each throughput run, and as many replays before each of its ceilings' },
    clients: { type: 'string', value: 'n,n', default: THROUGHPUT.clients.join(','), description: 'concurrent clients, one throughput run (and fresh stack) each' },
    'text-runs': { type: 'string', value: 'n', default: '100', description: 'timed runs of each step on each hostile text' },
    skip: { type: 'string', value: 'sections', default: '', description: `sections to leave out, comma-separated: ${SECTIONS.join(', ')}` },
    // No parseArgs default: a phase run by hand must not overwrite bench/results.json with its partial figures.
    out: { type: 'string', value: 'file', description: 'where the results JSON goes (default: bench/results.json; a phase: a temporary file)' },
    check: { type: 'boolean', description: 'exit 3 when a budget measured in this run is not met (they are named on stderr)' },
    phase: { type: 'string', value: 'name', description: 'run one local-stack phase in this process (what the child processes run): paths, expired, throughput-<clients>' },
    quiet: QUIET_OPTION,
  },
  examples: [
    'npm run bench',
    'npm run bench -- --skip cold,throughput --cycles 5 --out /tmp/bench.json 2> progress.log',
    'npm run bench -- --skip cold,paths,throughput --out /tmp/text.json',
    'npm run bench -- --check',
  ],
  exitStatus: {
    1: 'a measurement failed (a phase crashed or ran out of time)',
    3: 'with --check: a budget measured in this run is NOT MET (without --check, budgets do not change the status)',
  },
} as const satisfies CliSpec<Record<string, CliOption>>;

interface BenchOptions {
  coldRuns: number;
  textRuns: number;
  cycles: number;
  requests: number;
  warmup: number;
  clients: number[];
  skip: Set<string>;
  out: string;
  quiet: boolean;
}

function readOptions(args: CliValues<typeof COMMAND.options>): BenchOptions {
  const skip = new Set(args.skip.split(',').map((s) => s.trim()).filter(Boolean));
  for (const section of skip) {
    if (!(SECTIONS as readonly string[]).includes(section)) throw new UsageError(`--skip: unknown section ${JSON.stringify(section)} (sections: ${SECTIONS.join(', ')})`);
  }
  return {
    coldRuns: positiveInteger('cold-runs', args['cold-runs']),
    textRuns: positiveInteger('text-runs', args['text-runs']),
    cycles: positiveInteger('cycles', args.cycles),
    requests: positiveInteger('requests', args.requests),
    warmup: nonNegativeInteger('warmup', args.warmup),
    clients: args.clients.split(',').map((c) => positiveInteger('clients', c)),
    skip,
    out: args.out !== undefined ? resolve(join(__dirname, '..'), args.out) : args.phase ? join(tmpdir(), 'warden-bench-phase.json') : join(__dirname, 'results.json'),
    quiet: args.quiet,
  };
}

const log = (line: string) => process.stdout.write(`${line}\n`);

export interface PathsPhase {
  paths: Record<string, PathFigures>;
  cycle: CycleResults;
  durations: Record<string, { medianMs: number; samples: number }>;
}

/** What `npm run bench` writes; `npm run cost` reads `paths` and `durations`. */
export interface BenchResults {
  generatedAt: string;
  /** Other processes on the box skew every figure: the load averages say how busy it was. */
  machine: { node: string; cpus: number; cpuModel: string; loadAverageAtStart: number[]; loadAverageAtEnd?: number[] };
  coldStart?: ColdStartResults;
  paths?: Record<string, PathFigures>;
  cycle?: CycleResults;
  durations?: Record<string, { medianMs: number; samples: number }>;
  throughput?: ThroughputRun[];
  text?: TextResults;
  budgets: BudgetVerdict[];
}

// ---------------------------------------------------------------- child phases

async function runPhase(phase: string, options: BenchOptions): Promise<void> {
  const { startBenchServer } = await import('./harness');
  const progress = new ProgressReporter({ name: 'bench', quiet: options.quiet });
  const out = options.out;
  if (phase === 'paths') {
    const { PATHS, runPath, DurationCollector } = await import('./paths');
    const { measureCycle } = await import('./cycle');
    const bench = await startBenchServer();
    try {
      const durations = new DurationCollector();
      const paths: Record<string, PathFigures> = {};
      // Three rounds: the figures are the last (warm) round's; every round adds duration samples.
      const rounds = progress.phase('paths, 3 rounds', 3 * PATHS.length);
      try {
        for (let round = 1; round <= 3; round++) {
          for (const script of PATHS) {
            const { figures } = await runPath(bench, script, durations);
            paths[script.name] = figures;
            rounds.tick();
          }
        }
      } finally {
        rounds.end();
      }
      for (const [name, figures] of Object.entries(paths)) log(`    ${name}: ${figures.status}, ${figures.transitions.billable} transitions`);
      const cycle = await measureCycle(bench, { runs: options.cycles, durations, progress });
      durations.addAccessLog(bench.accessLog);
      const result: PathsPhase = { paths, cycle, durations: durations.medians() };
      writeFileSync(out, JSON.stringify(result));
    } finally {
      await bench.stop();
    }
  } else if (phase === 'expired') {
    const { EXPIRED_PATH, runPath } = await import('./paths');
    // The shortest wait the local settings accept: the execution times out a second after dehydrating.
    const bench = await startBenchServer({ approvalTimeoutSeconds: 1 });
    try {
      const expiring = progress.phase('expired path', 1);
      let figures: PathFigures;
      try {
        ({ figures } = await runPath(bench, EXPIRED_PATH));
        expiring.tick();
      } finally {
        expiring.end();
      }
      log(`    expired: ${figures.status}, ${figures.transitions.billable} transitions`);
      writeFileSync(out, JSON.stringify({ paths: { expired: figures } }));
    } finally {
      await bench.stop();
    }
  } else if (phase.startsWith('throughput-')) {
    const { measureThroughput } = await import('./throughput');
    const clients = positiveInteger('phase throughput-<clients>', phase.slice('throughput-'.length));
    const bench = await startBenchServer();
    try {
      const run = await measureThroughput(bench, {
        clients,
        requests: options.requests,
        warmup: options.warmup,
        deadlineMs: 240_000,
        log,
        progress,
      });
      writeFileSync(out, JSON.stringify(run));
    } finally {
      await bench.stop();
    }
  } else {
    throw new UsageError(`--phase: unknown phase ${JSON.stringify(phase)} (paths, expired, throughput-<clients>)`);
  }
}

// ---------------------------------------------------------------- parent

function child<T>(phase: string, timeoutMs: number, options: BenchOptions): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-phase-'));
  const out = join(dir, 'result.json');
  const argv = [
    ...process.execArgv,
    __filename,
    ...['--phase', phase, '--out', out, '--cycles', String(options.cycles), '--requests', String(options.requests), '--warmup', String(options.warmup)],
    ...(options.quiet ? ['--quiet'] : []),
  ];
  return new Promise<T>((resolve, reject) => {
    const proc = spawn(process.execPath, argv, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        // The handlers' JSON logs would bury the figures; metrics are off in local mode anyway.
        POWERTOOLS_LOG_LEVEL: 'SILENT',
      },
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`bench phase ${phase} ${signal ? `was killed (${signal}) after ${timeoutMs} ms` : `exited with ${code}`}`);
        resolve(JSON.parse(readFileSync(out, 'utf8')) as T);
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

function printColdStart(cold: ColdStartResults): void {
  const { vsOwnFloor: toFloor, vsReference: toReference } = cold.budgets;
  log(`\nCold-start proxy: median of ${cold.runs} fresh \`${['node', cold.nodeOptions].filter(Boolean).join(' ')} -e "require(bundle)"\` per bundle (as the Lambda runtime loads a CommonJS index.js), in the same rounds (budget ≤ ${toFloor}× its floor and ≤ ${toReference}× reference)`);
  const top = (packages: { name: string; bytes: number }[]) => packages.slice(0, 3).map((p) => `${p.name} ${kib(p.bytes)}`).join(', ');
  const rows: (string | number)[][] = [['bundle', 'size', 'import ms', 'floor ms', '× floor', '× ref', 'budget', 'process ms', 'largest packages']];
  rows.push(['reference (4 SDK clients + Powertools)', kib(cold.reference.bytes), cold.reference.importMs, '', '', '1.00', '', cold.reference.processMs, top(cold.reference.topPackages)]);
  for (const name of FUNCTION_NAMES) {
    const h = cold.handlers[name];
    rows.push([name, kib(h.bytes), h.importMs, cold.floors[h.floor].importMs, h.ratioToFloor.toFixed(2), h.ratioToReference.toFixed(2), verdict(h.met), h.processMs, top(h.topPackages)]);
  }
  log(table(rows));
  const short = (pkg: string) => pkg.replace(/^@aws-sdk\/(client-)?/, '').replace(/^@aws-lambda-powertools\//, '');
  log('\nFloor probes: exactly the SDK clients and Powertools utilities a handler loads at init (from its bundle\'s metafile), each built at import');
  const floorRows: (string | number)[][] = [['floor', 'of', 'size', 'import ms', '× ref', 'packages']];
  for (const [name, floor] of Object.entries(cold.floors)) {
    const of = FUNCTION_NAMES.filter((handler) => cold.handlers[handler].floor === name).join(', ');
    floorRows.push([name, of, kib(floor.bytes), floor.importMs, (floor.importMs / cold.reference.importMs).toFixed(2), floor.packages.map(short).join(' ')]);
  }
  log(table(floorRows));
  log(`\n--enable-source-maps at init, same bundles and rounds (median of with − without over the handlers: ${cold.sourceMapsCostMs} ms)`);
  log(table([['bundle', 'with ms', 'without ms', 'cost ms'], ...FUNCTION_NAMES.map((name) => {
    const { withMs, withoutMs } = cold.handlers[name].sourceMaps;
    return [name, withMs, withoutMs, Math.round((withMs - withoutMs) * 10) / 10];
  })]));
}

function printPaths(paths: Record<string, PathFigures>): void {
  log('\nBillable state transitions per path (StateEntered + StateRetried, from local execution histories)');
  const rows: (string | number)[][] = [['path', 'route', 'ends', 'entered', 'retries', 'billable', 'budget', '', 'states']];
  for (const [name, p] of Object.entries(paths)) {
    rows.push([name, p.route, p.status, p.transitions.entered, p.transitions.retries, p.transitions.billable, `≤ ${p.budget}`, verdict(p.met), p.transitions.states.join(' → ')]);
  }
  log(table(rows));
  log(`\nWhat one request costs per path (read by \`npm run cost\`); calls: DynamoDB + S3, budget ${IO_CALLS.before['auto-approved']} → ${IO_CALLS.autoApproved} on auto-approved, the others cut in proportion`);
  const io: (string | number)[][] = [['path', 'Lambda invocations', 'HTTP API', 'DynamoDB calls', 'RRU', 'WRU', 'GSI WRU', 'S3 PUT', 'S3 GET', 'SFN API', 'KMS Sign', 'calls', 'budget', '']];
  for (const [name, p] of Object.entries(paths)) {
    const invocations = Object.values(p.invocations).reduce((a, b) => a + b, 0);
    const { count, budget, met } = p.calls;
    io.push([
      name, invocations, p.httpRequests, p.io.dynamodb.calls, p.io.dynamodb.readUnits, p.io.dynamodb.writeUnits, p.io.dynamodb.gsiWriteUnits,
      p.io.s3.put, p.io.s3.get, p.io.sfn.calls, p.io.kms?.calls ?? 0, count, budget === undefined ? '' : `≤ ${budget}`, met === undefined ? '' : verdict(met),
    ]);
  }
  log(table(io));
}

function printThroughput(runs: ThroughputRun[]): void {
  log(
    `\nLocal throughput and latency: auto-approved structured ticket routings, POST → execution end → GET COMPLETED, after ${runs[0]?.warmup ?? '?'} untimed (budget ≥ ${THROUGHPUT.vsIoCeiling}× the I/O ceiling, ${THROUGHPUT.lost} lost)`,
  );
  const rows: (string | number)[][] = [
    ['clients', 'requests', 'completed', 'other end', 'lost', 'seconds', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'I/O ceiling req/s', 'its CPU ms/req', '× ceiling', ''],
  ];
  for (const r of runs) {
    rows.push([r.clients, r.requests, r.completed, r.notCompleted, r.lost, r.seconds, r.requestsPerSecond, r.latencyMs.p50, r.latencyMs.p99, r.cpuMsPerRequest, r.ioCeiling.requestsPerSecond, r.ioCeiling.cpuMsPerRequest, r.ratio.toFixed(3), verdict(r.met)]);
  }
  log(table(rows));
  const calls = runs[0]?.ioCeiling.callsPerRequest;
  log(
    `I/O ceiling: one request's ${calls} calls to the emulators (DynamoDB, S3, and KMS for the audit signatures) replayed by as many concurrent loops with plain SDK clients against the same emulators (after as many untimed replays as Warden had untimed requests), the clients on a thread of their own as the handlers' are (local/functions.ts); CPU ms/req is the whole process's (user + system, every thread), so the difference of the two is what Warden's own work costs per request.`,
  );
  log(
    `The same replays with their clients on the main thread, beside the emulators (how the ceiling was measured while the handlers ran there): ${runs
      .map((r) => `${r.clients} clients ${r.ioCeilingMainThread.requestsPerSecond} req/s (CPU ${r.ioCeilingMainThread.cpuMsPerRequest} ms/req), Warden ${r.ioCeilingMainThread.ratio.toFixed(2)}× that`)
      .join('; ')} (shown, not the budget).`,
  );
}

function printCycle(cycle: CycleResults): void {
  log(`\nEscalated PO cycle (submit → pending → approve → completed) vs its raw I/O floor, ${cycle.runs} cycles (budget ≤ ${cycle.budget}×)`);
  const d = cycle.io.dynamodb;
  log(
    table([
      ['', 'median ms', 'p90 ms'],
      ['cycle over HTTP', cycle.cycleMs.median, cycle.cycleMs.p90],
      [`floor: its ${d.calls} DynamoDB + ${cycle.io.s3.put + cycle.io.s3.get} S3 + ${cycle.io.kms?.calls ?? 0} KMS calls replayed`, cycle.floorMs.median, cycle.floorMs.p90],
    ]),
  );
  log(`ratio (median of each cycle over its own replay) ${cycle.ratio}× — ${verdict(cycle.met)}; DynamoDB per cycle ${JSON.stringify(d.byOperation)}, S3 ${JSON.stringify(cycle.io.s3.byOperation)}, replay errors ${cycle.replayErrors}`);
  const b = cycle.breakdownMs;
  log(`a cycle's time: ${b.emulatorCalls} ms inside the adapters' DynamoDB/S3/KMS calls, ${b.stepFunctionsApi} ms inside Step Functions API calls, ${b.rest} ms the rest (HTTP + JWT, engine, handler code)`);
}

function printText(text: TextResults): void {
  log(`\nReading hostile texts (${text.chars} characters each, the API's cap): p99 ms per step over ${text.runs} runs (budget < ${text.budgetMs} ms)`);
  log(table([['text', ...TEXT_STEPS, ''], ...text.rows.map((row) => [row.input, ...TEXT_STEPS.map((step) => row.p99Ms[step]), verdict(row.met)])]));
}

function printDurations(durations: Record<string, { medianMs: number; samples: number }>): void {
  log('\nLocal handler durations (median, uncontended; the cost model bills these)');
  log(table([['function', 'median ms', 'samples'], ...Object.entries(durations).map(([fn, d]) => [fn, d.medianMs, d.samples])]));
}

async function main(args: CliValues<typeof COMMAND.options>): Promise<number> {
  const options = readOptions(args);
  if (args.phase) {
    await runPhase(args.phase, options);
    return 0;
  }
  const { skip } = options;
  const progress = new ProgressReporter({ name: 'bench', quiet: options.quiet });
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100) },
    budgets: [],
  };
  log(`Warden bench — Node ${process.version}, ${results.machine.cpus} × ${results.machine.cpuModel}, load average ${results.machine.loadAverageAtStart.join(' ')}`);

  if (!skip.has('cold')) {
    log('\n[1/5] cold-start proxy');
    const { measureColdStart } = await import('./cold-start');
    results.coldStart = await measureColdStart({ runs: options.coldRuns, log, progress });
  }
  if (!skip.has('paths')) {
    log('\n[2/5] paths, transitions and the escalated cycle (local stack)');
    const phase = await child<PathsPhase>('paths', 300_000, options);
    log('  expired path (approval timeout 1 s)');
    const expired = await child<{ paths: Record<string, PathFigures> }>('expired', 120_000, options);
    results.paths = { ...phase.paths, ...expired.paths };
    results.cycle = phase.cycle;
    results.durations = phase.durations;
  }
  if (!skip.has('throughput')) {
    log('\n[3/5] throughput (local stack, one fresh stack per concurrency)');
    results.throughput = [];
    for (const clients of options.clients) {
      log(`  ${clients} clients × ${options.requests} requests, after ${options.warmup} untimed`);
      // Its warm-up and timed requests, and as many replays for each of its two ceilings: about 40 ms each here, given 150.
      results.throughput.push(await child<ThroughputRun>(`throughput-${clients}`, 120_000 + 150 * (options.warmup + options.requests), options));
    }
  }

  if (!skip.has('text')) {
    log(`\n[4/5] hostile texts (in process, ${options.textRuns} runs each)`);
    results.text = await measureTextScanning({ runs: options.textRuns });
  }

  log('\n[5/5] results');
  if (results.coldStart) {
    printColdStart(results.coldStart);
    for (const name of FUNCTION_NAMES) {
      const h = results.coldStart.handlers[name];
      const { vsOwnFloor: toFloor, vsReference: toReference } = results.coldStart.budgets;
      results.budgets.push({
        name: `cold start ${name} ≤ ${toFloor}× floor, ≤ ${toReference}× reference`,
        issue: COLD_START.source.issue,
        met: h.met,
        detail: `${h.ratioToFloor}× floor, ${h.ratioToReference}× ref (${h.importMs} ms)`,
      });
    }
  }
  if (results.paths) {
    printPaths(results.paths);
    for (const [name, p] of Object.entries(results.paths)) {
      results.budgets.push({ name: `transitions ${name} ≤ ${p.budget}`, issue: TRANSITIONS.source.issue, met: p.met, detail: `${p.transitions.billable}` });
    }
    for (const [name, p] of Object.entries(results.paths)) {
      const { count, budget, met } = p.calls;
      if (budget !== undefined && met !== undefined) results.budgets.push({ name: `DynamoDB + S3 calls ${name} ≤ ${budget}`, issue: IO_CALLS.source.issue, met, detail: `${count}` });
    }
  }
  if (results.durations) printDurations(results.durations);
  if (results.throughput) {
    printThroughput(results.throughput);
    for (const r of results.throughput) {
      results.budgets.push({
        name: `throughput ${r.clients} clients ≥ ${THROUGHPUT.vsIoCeiling}× I/O ceiling, ${THROUGHPUT.lost} lost`,
        issue: THROUGHPUT.source.issue,
        met: r.met,
        detail: `${r.ratio}× (${r.requestsPerSecond} vs ${r.ioCeiling.requestsPerSecond} req/s), ${r.lost} lost, ${r.notCompleted} other end`,
      });
    }
  }
  if (results.text) {
    printText(results.text);
    for (const row of results.text.rows) {
      const worst = Math.max(...TEXT_STEPS.map((step) => row.p99Ms[step]));
      results.budgets.push({ name: `hostile text "${row.input}" p99 < ${results.text.budgetMs} ms per step`, issue: HOSTILE_TEXT.source.issue, met: row.met, detail: `worst step ${worst} ms` });
    }
  }
  if (results.cycle) {
    printCycle(results.cycle);
    results.budgets.push({ name: `escalated cycle ≤ ${results.cycle.budget}× I/O floor`, issue: CYCLE.source.issue, met: results.cycle.met, detail: `${results.cycle.ratio}× (${results.cycle.cycleMs.median} vs ${results.cycle.floorMs.median} ms)` });
  }

  results.machine.loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  log(`\nload average at the end ${results.machine.loadAverageAtEnd.join(' ')} (${results.machine.cpus} CPUs)`);
  log('\nBudgets (bench/budgets.ts: each with the issue it comes from)');
  log(table([['budget', 'from', 'result', ''], ...results.budgets.map((b) => [b.name, `issue ${b.issue}`, b.detail, verdict(b.met)])]));
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nwrote ${options.out}`);
  if (!args.check) return 0;
  const { status, missed } = checkBudgets(results.budgets);
  if (missed.length > 0) process.stderr.write(`bench --check: ${missed.length} budget${missed.length === 1 ? '' : 's'} NOT MET:\n${missed.map((b) => `  ${b.name}: ${b.detail}\n`).join('')}`);
  else process.stderr.write(`bench --check: all ${results.budgets.length} budgets measured in this run are met\n`);
  return status;
}

void runCli(COMMAND, main);
