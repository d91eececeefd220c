import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { KMSClient } from '@aws-sdk/client-kms';

/**
 * Records every call the adapters make, by adding one middleware to the process-wide SDK clients
 * the Lambda handlers share in local mode (lambdas/shared/adapters/aws/clients.ts). Nothing in
 * lambdas/ changes: the middleware only watches, except that it asks DynamoDB to return the
 * capacity each call consumed (ReturnConsumedCapacity, which dynalite computes as DynamoDB does).
 */

export type Service = 'dynamodb' | 's3' | 'sfn' | 'kms';

/** The calls a request makes to the emulators (DynamoDB, S3, KMS): what an I/O floor replays. Step Functions is the engine's, not an emulator's. */
export const EMULATOR_SERVICES: readonly Service[] = ['dynamodb', 's3', 'kms'];

export interface RecordedCall {
  service: Service;
  /** The API operation: PutItem, Query, PutObject, StartExecution, … */
  operation: string;
  /** The table or bucket the call addressed. */
  resource?: string;
  /** The low-level request as the service received it (DynamoDB JSON; S3 input with its body). */
  input: Record<string, unknown>;
  /** Capacity units DynamoDB reported for the call (reads are RRU, writes WRU). */
  capacityUnits?: number;
  startedAt: number;
  ms: number;
  /** Wall-clock end (epoch ms), comparable with the local engine's history timestamps. */
  endedAt?: number;
  /** The error name, when the service answered with one (a failed condition, …). */
  error?: string;
}

type Listener = (call: RecordedCall) => void;

/** What the bench asks of a recorder, whether it watches the clients here or on the handlers' thread. */
export interface Recorder {
  readonly recording: boolean;
  restart(options?: { capacity?: boolean }): RecordedCall[];
  stop(): RecordedCall[];
  onCall(listener: Listener, options?: { putsTo?: string }): () => void;
}

/** Whether a listener watching `putsTo` (every table, if undefined) hears a put to `table` between recordings. */
const watches = (putsTo: string | undefined, table: string | undefined) => putsTo === undefined || putsTo === table;

/** The recording and its listeners, wherever the calls come from. */
abstract class CallLog implements Recorder {
  recording = false;
  private calls: RecordedCall[] = [];
  /** Each listener, and the one table whose puts it watches between recordings (all, if none). */
  protected readonly listeners = new Map<Listener, string | undefined>();

  /**
   * Starts a fresh recording and returns what the previous one held. `capacity: false` records
   * the calls without asking for their capacity: what a timed run replays needs none, and asking
   * would make the emulator work for the run and not for its replay.
   */
  restart(options: { capacity?: boolean } = {}): RecordedCall[] {
    this.restarted(options);
    const previous = this.calls;
    this.calls = [];
    this.recording = true;
    return previous;
  }

  stop(): RecordedCall[] {
    this.stopped();
    this.recording = false;
    const calls = this.calls;
    this.calls = [];
    return calls;
  }

  /**
   * Called after every completed call while recording; between recordings, after each DynamoDB
   * PutItem only (the waits watch task writes): the rest of the traffic then passes unwatched,
   * so that a throughput run pays for the recorder only on its puts; `putsTo` narrows those to
   * one table's, and the others are not even parsed.
   */
  onCall(listener: Listener, options: { putsTo?: string } = {}): () => void {
    this.listeners.set(listener, options.putsTo);
    return () => this.listeners.delete(listener);
  }

  /** Whether a put to `table` between recordings has a listener. */
  protected watchesPutsTo(table: string | undefined): boolean {
    for (const putsTo of this.listeners.values()) if (watches(putsTo, table)) return true;
    return false;
  }

  protected emit(call: RecordedCall): void {
    if (this.recording) this.calls.push(call);
    for (const [listener, putsTo] of this.listeners) if (this.recording || watches(putsTo, call.resource)) listener(call);
  }

  protected abstract restarted(options: { capacity?: boolean }): void;
  protected abstract stopped(): void;
}

/** Records every call the SDK clients it is attached to make, on this thread. */
export class IoRecorder extends CallLog {
  /** Whether this recording asks DynamoDB for each call's consumed capacity (which the emulator then works out). */
  private capacity = true;

  protected restarted(options: { capacity?: boolean }): void {
    this.capacity = options.capacity ?? true;
  }

  protected stopped(): void {}

  attachAll(clients: {
    documentClient(): Pick<DynamoDBDocumentClient, 'middlewareStack'>;
    s3Client(): Pick<S3Client, 'middlewareStack'>;
    sfnClient(): Pick<SFNClient, 'middlewareStack'>;
    kmsClient(): Pick<KMSClient, 'middlewareStack'>;
  }): this {
    this.attachDynamoDB(clients.documentClient());
    this.attachS3(clients.s3Client());
    this.attachSfn(clients.sfnClient());
    this.attachKms(clients.kmsClient());
    return this;
  }

  attachDynamoDB(client: Pick<DynamoDBDocumentClient, 'middlewareStack'>): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = (args as { request?: { body?: unknown; headers?: Record<string, string> } }).request;
        const target = request?.headers?.['x-amz-target'] ?? '';
        const operation = target.split('.').pop() || String(context.commandName ?? '').replace(/Command$/, '');
        if (!this.recording && !(operation === 'PutItem' && this.listeners.size > 0)) return next(args);
        let input: Record<string, unknown> = {};
        const body = request?.body;
        // Read the bytes through their buffer: Buffer.from(body) would call the SDK body's valueOf (and warn).
        const text =
          typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : undefined;
        // Between recordings, a put to a table nobody watches goes on unread.
        if (!this.recording && !this.watchesPutsTo(/"TableName":"([^"]*)"/.exec(text ?? '')?.[1])) return next(args);
        if (request && text !== undefined) {
          input = JSON.parse(text) as Record<string, unknown>;
        }
        // Ask for the capacity while recording: the body is signed later (finalizeRequest), so this is safe.
        if (request && text !== undefined && this.recording && this.capacity) {
          input.ReturnConsumedCapacity = 'TOTAL';
          const rewritten = JSON.stringify(input);
          request.body = typeof body === 'string' ? rewritten : new Uint8Array(Buffer.from(rewritten, 'utf8'));
          if (request.headers?.['content-length'] !== undefined) request.headers['content-length'] = String(Buffer.byteLength(rewritten));
        }
        const startedAt = performance.now();
        // A batch names its table in RequestItems (Warden's batches read one table).
        const resource = (input.TableName as string | undefined) ?? Object.keys((input.RequestItems as Record<string, unknown> | undefined) ?? {})[0];
        const call: RecordedCall = { service: 'dynamodb', operation, resource, input, startedAt, ms: 0 };
        try {
          const result = await next(args);
          // One object per call; a list (one per table) for a batch.
          const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
          call.capacityUnits = Array.isArray(consumed) ? consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0) : consumed?.CapacityUnits;
          return result;
        } catch (error) {
          call.error = error instanceof Error ? error.name : 'Error';
          throw error;
        } finally {
          call.ms = performance.now() - startedAt;
          call.endedAt = Date.now();
          delete call.input.ReturnConsumedCapacity;
          this.emit(call);
        }
      },
      { step: 'build', name: 'benchIoRecorder', override: true },
    );
  }

  attachS3(client: Pick<S3Client, 'middlewareStack'>): void {
    this.watch(client, 's3', (input) => {
      const copy = { ...input };
      return { resource: copy.Bucket as string | undefined, input: copy };
    });
  }

  /** The audit signer's KMS client: Sign calls, with what a replay needs (the message is a digest's wrapper, no secret). */
  attachKms(client: Pick<KMSClient, 'middlewareStack'>): void {
    this.watch(client, 'kms', (input) => {
      const { KeyId, Message, MessageType, SigningAlgorithm } = input as { KeyId?: string; Message?: Uint8Array; MessageType?: string; SigningAlgorithm?: string };
      return { resource: KeyId, input: { KeyId, MessageType, SigningAlgorithm, ...(Message ? { Message: Buffer.from(Message).toString('base64') } : {}) } };
    });
  }

  attachSfn(client: Pick<SFNClient, 'middlewareStack'>): void {
    // Inputs hold task tokens: only the operation is kept.
    this.watch(client, 'sfn', () => ({ input: {} }));
  }

  /** One initialize-step middleware that times each command and records what `describe` keeps of its input. */
  private watch(
    client: Pick<S3Client | KMSClient | SFNClient, 'middlewareStack'>,
    service: Service,
    describe: (input: Record<string, unknown>) => { resource?: string; input: Record<string, unknown> },
  ): void {
    // Every client's stack takes the same initialize middleware; its types differ only by service.
    type Next = (args: { input: unknown }) => Promise<unknown>;
    const add = client.middlewareStack.add.bind(client.middlewareStack) as unknown as (
      middleware: (next: Next, context: { commandName?: string }) => Next,
      options: { step: 'initialize'; name: string; override: boolean },
    ) => void;
    add(
      (next, context) => async (args) => {
        // Between recordings nobody listens to these services (see onCall).
        if (!this.recording) return next(args);
        const operation = String(context.commandName ?? '').replace(/Command$/, '');
        const startedAt = performance.now();
        const call: RecordedCall = { service, operation, ...describe(args.input as Record<string, unknown>), startedAt, ms: 0 };
        try {
          return await next(args);
        } catch (error) {
          call.error = error instanceof Error ? error.name : 'Error';
          throw error;
        } finally {
          call.ms = performance.now() - startedAt;
          call.endedAt = Date.now();
          this.emit(call);
        }
      },
      { step: 'initialize', name: 'benchIoRecorder', override: true },
    );
  }
}

export interface IoSummary {
  dynamodb: { calls: number; byOperation: Record<string, number>; readUnits: number; writeUnits: number; gsiWriteUnits: number };
  s3: { put: number; get: number; byOperation: Record<string, number> };
  sfn: { calls: number; byOperation: Record<string, number> };
  /** The audit key's signatures (one per audit entry). */
  kms: { calls: number; byOperation: Record<string, number> };
}

const DYNAMO_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/**
 * Counts and capacity of a recording. `gsiTables` names tables with a global secondary index of
 * projection ALL: DynamoDB writes the index too (one more write per put, and per update a delete
 * plus a put when the index key changes), which dynalite does not report.
 */
export function summarize(calls: readonly RecordedCall[], gsiTables: readonly string[] = []): IoSummary {
  const summary: IoSummary = {
    dynamodb: { calls: 0, byOperation: {}, readUnits: 0, writeUnits: 0, gsiWriteUnits: 0 },
    s3: { put: 0, get: 0, byOperation: {} },
    sfn: { calls: 0, byOperation: {} },
    kms: { calls: 0, byOperation: {} },
  };
  const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  for (const call of calls) {
    if (call.service === 'dynamodb') {
      summary.dynamodb.calls++;
      bump(summary.dynamodb.byOperation, call.operation);
      // DynamoDB bills at least one unit per request (half a read unit when eventually
      // consistent), also for a miss or a failed condition; dynalite reports 0 or nothing then.
      // A batch read bills each key like a read of its own (a miss included).
      const batch = Object.values((call.input.RequestItems as Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }> | undefined) ?? {});
      const perRead = DYNAMO_WRITES.has(call.operation) || call.input.ConsistentRead === true || batch.some((t) => t.ConsistentRead === true) ? 1 : 0.5;
      const minimum = perRead * Math.max(1, batch.reduce((sum, t) => sum + (t.Keys?.length ?? 0), 0));
      const units = Math.max(call.capacityUnits ?? 0, minimum);
      if (DYNAMO_WRITES.has(call.operation)) {
        summary.dynamodb.writeUnits += units;
        if (call.resource && gsiTables.includes(call.resource) && !call.error) {
          summary.dynamodb.gsiWriteUnits += call.operation === 'UpdateItem' ? 2 * units : units;
        }
      } else {
        summary.dynamodb.readUnits += units;
      }
    } else if (call.service === 's3') {
      bump(summary.s3.byOperation, call.operation);
      if (call.operation === 'GetObject' || call.operation === 'HeadObject') summary.s3.get++;
      else summary.s3.put++;
    } else if (call.service === 'kms') {
      summary.kms.calls++;
      bump(summary.kms.byOperation, call.operation);
    } else {
      summary.sfn.calls++;
      bump(summary.sfn.byOperation, call.operation);
    }
  }
  return summary;
}

/** Between the bench and the recorder on the handlers' thread (bench/recorder-instrument.ts). */
export type RecorderCommand = { restart: { capacity?: boolean } } | { stop: true };
export interface RecorderEvent {
  call: RecordedCall;
}

/**
 * The bench's side of a recorder that watches the handlers' SDK clients on their own thread
 * (local/functions.ts): commands go there, every call it sees comes back. A call's message is
 * posted before the handler that made it answers, on the same channel, so by the time the bench
 * has an answer it has that answer's calls.
 */
export class RemoteRecorder extends CallLog {
  constructor(private readonly send: (command: RecorderCommand) => void) {
    super();
  }

  receive(event: unknown): void {
    this.emit((event as RecorderEvent).call);
  }

  protected restarted(options: { capacity?: boolean }): void {
    this.send({ restart: options });
  }

  protected stopped(): void {
    this.send({ stop: true });
  }
}
