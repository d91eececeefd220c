import type { ProgressReporter } from '../scripts/cli';
import { THROUGHPUT } from './budgets';
import { replayAll, Replayer, withFreshIds } from './cycle';
import { seedOpenTickets, ticketRouting, type BenchServer } from './harness';
import { EMULATOR_SERVICES, type RecordedCall } from './io-recorder';
import { percentile, round } from './stats';
import { ReplayThread } from './replay-thread';

/**
 * Auto-approved requests through the local HTTP API with N concurrent clients. Each client loops:
 * POST a structured ticket routing (no model, no human; purchase orders to one vendor stop running
 * with no human once 5,000 is committed to it, so they cannot be sent again and again), wait on
 * the local engine for its execution to end, GET the request and check it is COMPLETED. Latency
 * is POST to that answer; throughput is completed requests over the wall time of the run, after
 * `warmup` untimed requests made the same way (and the ceiling's after as many untimed replays):
 * both sides at steady state.
 *
 * The routings take their tickets in turn from a pool of seeded open tickets, several per client,
 * and so do the I/O ceiling's replays: no two requests in flight update the same item, on either side.
 */

/** Seeded tickets per client: enough that a ticket's previous routing has ended before it comes round again. */
const TICKETS_PER_CLIENT = 4;

export interface ThroughputRun {
  clients: number;
  requests: number;
  /** Untimed requests before the timed ones, and untimed replays before each ceiling's. */
  warmup: number;
  completed: number;
  /** Ended in another terminal status (REJECTED, FAILED, …): reached an end, but not the expected one. */
  notCompleted: number;
  /** Never reached a terminal status in time (or the client's call failed). */
  lost: number;
  seconds: number;
  requestsPerSecond: number;
  /** requestsPerSecond over the I/O ceiling's: the budget's figure. */
  ratio: number;
  /** Process CPU (all threads, user + system) per completed request: emulators, engine, handlers and clients share it. */
  cpuMsPerRequest: number;
  latencyMs: { p50: number; p99: number; max: number };
  met: boolean;
  /**
   * The same emulators' ceiling for this path: one auto-approved request's DynamoDB, S3 and KMS
   * calls, replayed by as many concurrent loops with plain SDK clients — no HTTP API, no engine,
   * no handlers — on a thread of their own, as local mode runs the handlers' clients
   * (bench/replay-worker.ts), so the emulators' thread serves only the emulators on both sides.
   * Requests/s above this are out of reach whatever the product code does.
   */
  ioCeiling: {
    callsPerRequest: number;
    requestsPerSecond: number;
    /** Process CPU per replayed request, counted as `cpuMsPerRequest` is: the emulators and the replaying clients. Warden's own share is the difference. */
    cpuMsPerRequest: number;
  };
  /**
   * The same replays with their clients on the main thread, beside the emulators: how the
   * ceiling was measured while the handlers ran there too (issue 14's 41–43 req/s). Shown, not
   * the budget's: a ceiling that shares the emulators' thread with its clients is lower than one
   * laid out as local mode lays out the handlers.
   */
  ioCeilingMainThread: { requestsPerSecond: number; cpuMsPerRequest: number; ratio: number };
}

const TERMINAL = new Set(['COMPLETED', 'REJECTED', 'FAILED', 'EXPIRED']);

export async function measureThroughput(
  bench: BenchServer,
  options: { clients: number; requests: number; warmup: number; deadlineMs: number; log: (line: string) => void; progress: ProgressReporter },
): Promise<ThroughputRun> {
  const tickets = await seedOpenTickets(bench, TICKETS_PER_CLIENT * options.clients);
  let turn = 0;
  const nextTicket = () => tickets[turn++ % tickets.length];
  const oneRequest = async (): Promise<{ status: string; ms: number }> => {
    const started = performance.now();
    const requestId = await bench.submit(ticketRouting(nextTicket()));
    await bench.waitForEnd(requestId, options.deadlineMs);
    const read = await bench.call(bench.requesterToken, 'GET', `/v1/requests/${requestId}`);
    return { status: String(read.body.status), ms: performance.now() - started };
  };

  // Warm the handlers, the engine and the emulators (JIT, connection pools) with untimed requests,
  // made as the timed ones are: by as many clients, each one after the other.
  const warming = options.progress.phase(`throughput, ${options.clients} clients: warm-up`, options.warmup);
  try {
    let warmed = 0;
    const warm = async () => {
      while (warmed < options.warmup) {
        warmed++;
        await oneRequest();
        warming.tick();
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.clients, options.warmup) }, () => warm()));
  } finally {
    warming.end();
  }

  // One more, recorded: its calls are what the I/O ceiling replays.
  bench.recorder.restart();
  const sampleTicket = nextTicket();
  const sampleId = await bench.submit(ticketRouting(sampleTicket));
  await bench.waitForEnd(sampleId);
  await bench.call(bench.requesterToken, 'GET', `/v1/requests/${sampleId}`);
  const sample = bench.recorder.stop().filter((call) => EMULATOR_SERVICES.includes(call.service));

  const latencies: number[] = [];
  let issued = 0;
  let completed = 0;
  let notCompleted = 0;
  let lost = 0;
  const deadline = performance.now() + options.deadlineMs;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const measuring = options.progress.phase(`throughput, ${options.clients} clients`, options.requests);
  const client = async () => {
    while (issued < options.requests) {
      issued++;
      if (performance.now() > deadline) {
        lost++;
        measuring.tick();
        continue;
      }
      try {
        const { status, ms } = await oneRequest();
        latencies.push(ms);
        if (status === 'COMPLETED') completed++;
        else if (TERMINAL.has(status)) notCompleted++;
        else lost++;
      } catch (error) {
        lost++;
        if (lost <= 3) options.progress.above(() => options.log(`    request lost: ${error instanceof Error ? error.message : String(error)}`));
      }
      measuring.tick();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, () => client()));
  } finally {
    measuring.end();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const requestsPerSecond = round(completed / seconds, 1);
  const sampleAs = () => withFreshIds(sample, sampleId, { [sampleTicket]: nextTicket() });
  const ceiling = { workers: options.clients, requests: options.requests, warmup: options.warmup, progress: options.progress };
  const mainThread = await measureIoCeiling(bench, sampleAs, 'main thread', ceiling);
  const offThread = await measureIoCeiling(bench, sampleAs, 'own thread', ceiling);
  const { unrounded: ceilingPerSecond, ...offThreadFigures } = offThread;
  const ioCeiling = { callsPerRequest: sample.length, ...offThreadFigures };
  // The budget is checked on the unrounded figures: 0.797 is not 0.8.
  const exactRatio = completed / seconds / ceilingPerSecond;
  const ratio = round(exactRatio, 3);
  return {
    clients: options.clients,
    requests: options.requests,
    warmup: options.warmup,
    completed,
    notCompleted,
    lost,
    seconds: round(seconds, 2),
    requestsPerSecond,
    ratio,
    cpuMsPerRequest: round((cpu.user + cpu.system) / 1000 / Math.max(1, completed)),
    latencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(percentile(latencies, 100)) },
    met: exactRatio >= THROUGHPUT.vsIoCeiling && lost <= THROUGHPUT.lost && notCompleted === 0,
    ioCeiling,
    ioCeilingMainThread: { requestsPerSecond: mainThread.requestsPerSecond, cpuMsPerRequest: mainThread.cpuMsPerRequest, ratio: round(completed / seconds / mainThread.unrounded, 2) },
  };
}

/**
 * The ceiling: the sampled request's calls replayed `requests` times (fresh ids and the next ticket
 * each time, made before the clock starts) by `workers` concurrent loops, on this thread or on a
 * thread of their own (`ReplayThread`), after `warmup` untimed replays, as Warden's run is after
 * as many untimed requests.
 */
async function measureIoCeiling(
  bench: BenchServer,
  nextReplay: () => ReturnType<typeof withFreshIds>,
  where: 'main thread' | 'own thread',
  { workers, requests, warmup, progress }: { workers: number; requests: number; warmup: number; progress: ProgressReporter },
): Promise<{ requestsPerSecond: number; cpuMsPerRequest: number; unrounded: number }> {
  const { env } = bench.server.stack;
  let runner: { run(replays: RecordedCall[][]): Promise<{ seconds: number }>; destroy(): unknown };
  if (where === 'own thread') {
    const thread = new ReplayThread(env);
    runner = { run: (replays) => thread.run({ replays, workers }), destroy: () => thread.destroy() };
  } else {
    const replayer = new Replayer(env);
    runner = { run: (replays) => replayAll(replayer, replays, workers), destroy: () => replayer.destroy() };
  }
  const phase = progress.phase(`I/O ceiling, replays on the ${where}, ${workers} workers`, 1);
  try {
    await runner.run(Array.from({ length: warmup }, nextReplay));
    const replays = Array.from({ length: requests }, nextReplay);
    const cpuBefore = process.cpuUsage();
    const { seconds } = await runner.run(replays);
    const cpu = process.cpuUsage(cpuBefore);
    phase.tick();
    return { requestsPerSecond: round(requests / seconds, 1), cpuMsPerRequest: round((cpu.user + cpu.system) / 1000 / requests), unrounded: requests / seconds };
  } finally {
    phase.end();
    await runner.destroy();
  }
}
