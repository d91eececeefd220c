import * as DynamoDB from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createS3Client } from '../lambdas/shared/adapters/aws/clients';
import { APPROVER, purchaseOrder, type BenchServer, type Json } from './harness';
import { summarize, type IoSummary, type RecordedCall } from './io-recorder';
import { DurationCollector } from './paths';
import { median, percentile, round } from './stats';

/**
 * The escalated purchase-order cycle (submit → pending → approve → completed) timed end to end
 * over HTTP, beside its raw I/O floor: the very DynamoDB and S3 calls the cycle's adapters made,
 * replayed one after another with plain SDK clients against the same emulators, with the ids
 * swapped for fresh ones so that the writes land on new items as they did the first time.
 */

export const CYCLE_BUDGET = 1.5;

export interface CycleResults {
  runs: number;
  cycleMs: { median: number; p90: number };
  floorMs: { median: number; p90: number };
  ratio: number;
  budget: number;
  met: boolean;
  /** The I/O of one cycle (the first), as the floor replays it. */
  io: IoSummary;
  /** Replayed calls that the emulators answered with an error (e.g. a duplicate claim); still I/O. */
  replayErrors: number;
}

interface TimedCycle {
  ms: number;
  requestId: string;
  calls: RecordedCall[];
}

async function oneCycle(bench: BenchServer, durations: DurationCollector): Promise<TimedCycle> {
  const body = purchaseOrder('Alpha Tech Systems', 7850, 'workstations');
  bench.recorder.restart();
  const started = performance.now();
  const requestId = await bench.submit(body);
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
  const read = await bench.call(bench.requesterToken, 'GET', `/v1/requests/${requestId}`);
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
 */
export function withFreshIds(calls: readonly RecordedCall[], requestId: string): RecordedCall[] {
  const suffix = requestId.replace(/^r_/, '');
  const swaps = new Map<string, string>([[suffix, randomBytes(suffix.length).toString('hex').slice(0, suffix.length)]]);
  const text = JSON.stringify(calls.map((call) => call.input));
  for (const token of text.match(/\b[0-9a-f]{64}\b|\bPO-[0-9A-F]{10}\b/g) ?? []) {
    if (!swaps.has(token)) swaps.set(token, token.startsWith('PO-') ? `PO-${randomBytes(5).toString('hex').toUpperCase()}` : randomBytes(32).toString('hex'));
  }
  let swapped = text;
  for (const [from, to] of swaps) swapped = swapped.split(from).join(to);
  const inputs = JSON.parse(swapped) as Record<string, unknown>[];
  return calls.map((call, i) => ({ ...call, input: inputs[i] }));
}

export class Replayer {
  private readonly dynamo: DynamoDB.DynamoDBClient;
  private readonly s3: ReturnType<typeof createS3Client>;

  constructor(env: Record<string, string>) {
    const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    this.dynamo = new DynamoDB.DynamoDBClient({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, credentials });
    // The same S3 settings as the adapters (checksums only when required, path-style).
    this.s3 = createS3Client({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_S3, credentials });
  }

  /** Replays the calls one after another; returns the elapsed ms and how many answered with an error. */
  async replay(calls: readonly RecordedCall[]): Promise<{ ms: number; errors: number }> {
    let errors = 0;
    const started = performance.now();
    for (const call of calls) {
      try {
        await this.send(call);
      } catch (error) {
        errors++;
        if (process.env.BENCH_DEBUG) console.log('replay error', call.operation, call.resource, (error as Error).name, JSON.stringify(call.input).slice(0, 300));
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
  }
}

export async function measureCycle(bench: BenchServer, options: { runs: number; durations: DurationCollector }): Promise<CycleResults> {
  // One untimed cycle first: the handlers' first invocations (their "cold" imports are measured elsewhere).
  await oneCycle(bench, options.durations);
  const cycles: TimedCycle[] = [];
  for (let i = 0; i < options.runs; i++) cycles.push(await oneCycle(bench, options.durations));

  const replayer = new Replayer(bench.server.stack.env);
  try {
    const io = (cycle: TimedCycle) => cycle.calls.filter((call) => call.service === 'dynamodb' || call.service === 's3');
    await replayer.replay(withFreshIds(io(cycles[0]), cycles[0].requestId)); // warm the plain clients' connections
    const floors: number[] = [];
    let replayErrors = 0;
    for (const cycle of cycles) {
      const { ms, errors } = await replayer.replay(withFreshIds(io(cycle), cycle.requestId));
      floors.push(ms);
      replayErrors += errors;
    }
    const cycleMs = cycles.map((cycle) => cycle.ms);
    const ratio = round(median(cycleMs) / median(floors), 2);
    return {
      runs: options.runs,
      cycleMs: { median: round(median(cycleMs)), p90: round(percentile(cycleMs, 90)) },
      floorMs: { median: round(median(floors)), p90: round(percentile(floors, 90)) },
      ratio,
      budget: CYCLE_BUDGET,
      met: ratio <= CYCLE_BUDGET,
      io: summarize(cycles[0].calls, [bench.server.stack.env.TASKS_TABLE]),
      replayErrors,
    };
  } finally {
    replayer.destroy();
  }
}
