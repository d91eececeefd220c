import * as DynamoDB from '@aws-sdk/client-dynamodb';
import { SignCommand, type KMSClient, type MessageType, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createKmsClient, createS3Client } from '../lambdas/shared/adapters/aws/clients';
import type { ProgressReporter } from '../scripts/cli';
import { APPROVER, purchaseOrder, type BenchServer, type Json } from './harness';
import { EMULATOR_SERVICES, IoRecorder, summarize, type IoSummary, type RecordedCall } from './io-recorder';
import { CYCLE } from './budgets';
import { DurationCollector } from './paths';
import { ReplayThread } from './replay-thread';
import { median, percentile, round } from './stats';

/**
 * The escalated purchase-order cycle (submit → pending → approve → completed) timed end to end
 * over HTTP, beside its raw I/O floor: the very DynamoDB and S3 calls the cycle's adapters made,
 * replayed one after another with plain SDK clients against the same emulators, with the ids
 * swapped for fresh ones so that the writes land on new items as they did the first time.
 */

export interface CycleResults {
  runs: number;
  cycleMs: { median: number; p90: number };
  /** Each cycle's own calls replayed right after it. */
  floorMs: { median: number; p90: number };
  /** Median over the cycles of cycle ms / its floor ms. */
  ratio: number;
  budget: number;
  met: boolean;
  /** The I/O of one cycle (the first), as the floor replays it. */
  io: IoSummary;
  /** Replayed calls that the emulators answered with an error (e.g. a duplicate claim); still I/O. */
  replayErrors: number;
  /**
   * Where a cycle's time goes (medians): inside the adapters' DynamoDB/S3 calls, inside the
   * Step Functions API calls (StartExecution, SendTaskSuccess), and everything else — HTTP and
   * JWT checks, the local engine, the handlers' own work, waits between steps.
   */
  /** `emulatorCalls`: inside the adapters' DynamoDB, S3 and KMS calls. */
  breakdownMs: { emulatorCalls: number; stepFunctionsApi: number; rest: number };
}

interface TimedCycle {
  ms: number;
  requestId: string;
  calls: RecordedCall[];
}

/** `capacity`: ask for each call's consumed capacity (the first timed cycle only, whose I/O the results summarize). */
async function oneCycle(bench: BenchServer, durations: DurationCollector, capacity = false): Promise<TimedCycle> {
  const body = purchaseOrder('Alpha Tech Systems', 7850, 'workstations');
  // A requester of its own: 25 cycles by one would reach the finance-director's tier.
  const requester = await bench.newRequesterToken();
  bench.recorder.restart({ capacity });
  const started = performance.now();
  const requestId = await bench.submit(body, requester);
  await bench.taskWritten(requestId);
  const listed = await bench.call(bench.approverToken, 'GET', '/v1/tasks');
  const task = (listed.body.tasks as Json[] | undefined)?.find((t) => t.requestId === requestId);
  if (!task) throw new Error(`${APPROVER.sub} does not see the task of ${requestId}`);
  const decided = await bench.call(bench.approverToken, 'POST', `/v1/tasks/${String(task.taskId)}/decision`, {
    decision: 'approve',
    approvalToken: task.approvalToken,
  });
  if (decided.status !== 200) throw new Error(`decision answered ${decided.status}: ${JSON.stringify(decided.body)}`);
  const record = await bench.waitForEnd(requestId);
  const read = await bench.call(requester, 'GET', `/v1/requests/${requestId}`);
  const ms = performance.now() - started;
  const calls = bench.recorder.stop();
  if (read.body.status !== 'COMPLETED') throw new Error(`cycle ${requestId} ended ${String(read.body.status)}`);
  durations.addExecution(record, calls, bench.server.stack.env.TASKS_TABLE);
  return { ms, requestId, calls };
}

/**
 * The recorded calls with the request's identity swapped, consistently, for a fresh one: its id
 * suffix (request and task ids share it), and what the effect derives from the proposal — the
 * fingerprint claim (64 hex digits) and the purchase-order number. Audit hashes are swapped too,
 * which changes nothing but their value. The writes then land on new items as they first did.
 * `also` swaps more strings the caller knows (a record the request addressed, for another one).
 */
export function withFreshIds(calls: readonly RecordedCall[], requestId: string, also: Readonly<Record<string, string>> = {}): RecordedCall[] {
  const suffix = requestId.replace(/^r_/, '');
  const swaps = new Map<string, string>([[suffix, randomBytes(suffix.length).toString('hex').slice(0, suffix.length)], ...Object.entries(also)]);
  const text = JSON.stringify(calls.map((call) => call.input));
  for (const token of text.match(/\b[0-9a-f]{64}\b|\b(?:PO|TR)-[0-9A-F]{10}\b/g) ?? []) {
    if (!swaps.has(token)) swaps.set(token, /^(?:PO|TR)-/.test(token) ? `${token.slice(0, 3)}${randomBytes(5).toString('hex').toUpperCase()}` : randomBytes(32).toString('hex'));
  }
  let swapped = text;
  for (const [from, to] of swaps) swapped = swapped.split(from).join(to);
  const inputs = JSON.parse(swapped) as Record<string, unknown>[];
  return calls.map((call, i) => ({ ...call, input: inputs[i] }));
}

export class Replayer {
  private readonly dynamo: DynamoDB.DynamoDBClient;
  private readonly s3: ReturnType<typeof createS3Client>;
  private readonly kms: KMSClient;

  constructor(env: Record<string, string>) {
    const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    this.dynamo = new DynamoDB.DynamoDBClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, credentials });
    // The same S3 settings as the adapters (checksums only when required, path-style).
    this.s3 = createS3Client({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_S3, credentials });
    // The audit key's signatures go to the local KMS emulator, as the adapters' do.
    this.kms = createKmsClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_KMS, credentials });
    // The same (idle) recording middleware as on the adapters' clients, so both sides carry its
    // small cost. Neither asks DynamoDB for the consumed capacity, but the first timed cycle,
    // whose I/O the results summarize.
    const idle = new IoRecorder();
    idle.attachDynamoDB(this.dynamo);
    idle.attachS3(this.s3);
    idle.attachKms(this.kms);
  }

  /** Replays the calls one after another; returns the elapsed ms and how many answered with an error. */
  async replay(calls: readonly RecordedCall[]): Promise<{ ms: number; errors: number }> {
    let errors = 0;
    const started = performance.now();
    for (const call of calls) {
      try {
        await this.send(call);
      } catch {
        // A failed condition is still a round trip: counted, and the replay goes on as the cycle did.
        errors++;
      }
    }
    return { ms: performance.now() - started, errors };
  }

  private async send(call: RecordedCall): Promise<void> {
    if (call.service === 'dynamodb') {
      // The low-level command of the same name (PutItem → PutItemCommand) with the recorded DynamoDB JSON.
      const Command = (DynamoDB as unknown as Record<string, new (input: unknown) => DynamoDB.GetItemCommand>)[`${call.operation}Command`];
      if (!Command) throw new Error(`no DynamoDB command for ${call.operation}`);
      await this.dynamo.send(new Command(call.input));
      return;
    }
    if (call.service === 'kms') {
      if (call.operation !== 'Sign') throw new Error(`no replay for KMS ${call.operation}`);
      const { KeyId, MessageType, SigningAlgorithm, Message } = call.input as { KeyId: string; MessageType: MessageType; SigningAlgorithm: SigningAlgorithmSpec; Message: string };
      await this.kms.send(new SignCommand({ KeyId, MessageType, SigningAlgorithm, Message: Buffer.from(Message, 'base64') }));
      return;
    }
    if (call.operation === 'PutObject') {
      await this.s3.send(new PutObjectCommand(call.input as unknown as PutObjectCommandInput));
    } else if (call.operation === 'GetObject') {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: call.input.Bucket as string, Key: call.input.Key as string }));
      await Body?.transformToString('utf8');
    } else {
      throw new Error(`no replay for S3 ${call.operation}`);
    }
  }

  destroy(): void {
    this.dynamo.destroy();
    this.s3.destroy();
    this.kms.destroy();
  }
}

/** `replays` by `workers` concurrent loops on this thread: the seconds they took and how many calls answered with an error. */
export async function replayAll(replayer: Replayer, replays: readonly (readonly RecordedCall[])[], workers: number): Promise<{ seconds: number; errors: number }> {
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const loop = async () => {
    while (next < replays.length) errors += (await replayer.replay(replays[next++])).errors;
  };
  await Promise.all(Array.from({ length: workers }, loop));
  return { seconds: (performance.now() - started) / 1000, errors };
}

export async function measureCycle(
  bench: BenchServer,
  options: { runs: number; durations: DurationCollector; progress: ProgressReporter },
): Promise<CycleResults> {
  // The floor's clients on a thread of their own, as the handlers' are: both sides cross between threads.
  const replayer = new ReplayThread(bench.server.stack.env);
  const progress = options.progress.phase('escalated cycles and their replays', options.runs + 1);
  try {
    const ioCalls = (cycle: TimedCycle) => cycle.calls.filter((call) => EMULATOR_SERVICES.includes(call.service));
    // One untimed cycle and replay first: the handlers' first invocations, the plain clients' connections.
    const first = await oneCycle(bench, options.durations);
    await replayer.replay(withFreshIds(ioCalls(first), first.requestId));
    progress.tick();
    // Each cycle is followed at once by the replay of its own calls, so that both see the same
    // machine (other processes come and go on a shared box); the ratio is the median of the pairs'.
    const cycles: TimedCycle[] = [];
    const floors: number[] = [];
    const ratios: number[] = [];
    let replayErrors = 0;
    for (let i = 0; i < options.runs; i++) {
      const cycle = await oneCycle(bench, options.durations, i === 0);
      const { ms, errors } = await replayer.replay(withFreshIds(ioCalls(cycle), cycle.requestId));
      cycles.push(cycle);
      floors.push(ms);
      ratios.push(cycle.ms / ms);
      replayErrors += errors;
      progress.tick();
    }
    const cycleMs = cycles.map((cycle) => cycle.ms);
    const ratio = round(median(ratios), 2);
    const inside = (cycle: TimedCycle, services: string[]) =>
      cycle.calls.filter((call) => services.includes(call.service)).reduce((total, call) => total + call.ms, 0);
    const io = median(cycles.map((cycle) => inside(cycle, [...EMULATOR_SERVICES])));
    const sfn = median(cycles.map((cycle) => inside(cycle, ['sfn'])));
    return {
      runs: options.runs,
      cycleMs: { median: round(median(cycleMs)), p90: round(percentile(cycleMs, 90)) },
      floorMs: { median: round(median(floors)), p90: round(percentile(floors, 90)) },
      ratio,
      budget: CYCLE.vsIoFloor,
      // Checked unrounded: 1.503 is not 1.5.
      met: median(ratios) <= CYCLE.vsIoFloor,
      io: summarize(cycles[0].calls, [bench.server.stack.env.TASKS_TABLE]),
      replayErrors,
      breakdownMs: { emulatorCalls: round(io), stepFunctionsApi: round(sfn), rest: round(median(cycleMs) - io - sfn) },
    };
  } finally {
    progress.end();
    await replayer.destroy();
  }
}
