import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as clients from '../lambdas/shared/adapters/aws/clients';
import { seedSystemOfRecord } from '../lambdas/shared/adapters/aws/seed';
import type { AccessLogEntry } from '../local/http';
import type { ExecutionRecord } from '../local/sfn/engine';
import { startLocalServer, type LocalServer } from '../local/server';
import { IoRecorder, RemoteRecorder, type Recorder } from './io-recorder';

/**
 * A fresh local Warden (local/server.ts on port 0, a temp data dir) driven over HTTP the way a
 * client drives it, with the I/O recorder on the adapters' SDK clients and the access log kept
 * for the gateway and approval Lambdas' durations.
 */

export type Json = Record<string, unknown>;

export const REQUESTER = { sub: 'bench-requester', roles: ['support-agent'] };
export const APPROVER = { sub: 'bench-approver', roles: ['procurement-manager'] };

/** A token unique to this process run: proposals must differ or they are `duplicate_proposal`. */
const RUN = randomBytes(4).toString('hex');
let serial = 0;
export function uniqueDescription(what: string): string {
  serial += 1;
  return `${what} lot ${RUN}-${serial}`;
}

export interface BenchServer {
  server: LocalServer;
  recorder: Recorder;
  /** Access-log entries by route key (method and route template). */
  accessLog: Map<string, number[]>;
  requesterToken: string;
  approverToken: string;
  call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** POSTs a request as `token` (default: the shared requester) and returns its id. */
  submit(body: Json, token?: string): Promise<string>;
  /**
   * A token for a requester of its own: limits are cumulative per requester and vendor, so a
   * request measured as "one order" must not inherit the previous ones' totals.
   */
  newRequesterToken(): Promise<string>;
  executionArnOf(requestId: string): string;
  waitForEnd(requestId: string, timeoutMs?: number): Promise<ExecutionRecord>;
  /** Resolves once the approval task of `requestId` is written (the dehydrate step's last write). */
  taskWritten(requestId: string, timeoutMs?: number): Promise<void>;
  /** HTTP calls made through `call` so far. */
  httpCalls(): number;
  stop(): Promise<void>;
}

let inProcessRecorder: IoRecorder | undefined;

export async function startBenchServer(options: { approvalTimeoutSeconds?: number; functions?: 'worker' | 'in-process' } = {}): Promise<BenchServer> {
  const functions = options.functions ?? 'worker';
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-bench-'));
  let remote: RemoteRecorder | undefined;
  const accessLog = new Map<string, number[]>();
  const server = await startLocalServer({
    dataDir,
    approvalTimeoutSeconds: options.approvalTimeoutSeconds,
    functions,
    // On the handlers' thread, the recorder watches their SDK clients there.
    ...(functions === 'worker' ? { instrument: { module: join(__dirname, 'recorder-instrument.ts'), onMessage: (event: unknown) => remote?.receive(event) } } : {}),
    accessLog: (entry: AccessLogEntry) => {
      if (!entry.routeKey) return;
      const list = accessLog.get(entry.routeKey) ?? [];
      list.push(entry.ms);
      accessLog.set(entry.routeKey, list);
    },
  });
  const worker = server.stack.worker;
  // In-process, the handlers' SDK clients are process-wide singletons: one recorder serves every server.
  const recorder: Recorder = worker ? (remote = new RemoteRecorder((command) => worker.instrumentMessage(command))) : (inProcessRecorder ??= new IoRecorder().attachAll(clients));
  const requesterToken = await server.mintToken(REQUESTER.sub, REQUESTER.roles);
  const approverToken = await server.mintToken(APPROVER.sub, APPROVER.roles);

  // Every task write is remembered, so a wait that starts after the write still sees it.
  const tasksTable = server.stack.env.TASKS_TABLE;
  const written = new Set<string>();
  const waiters = new Map<string, () => void>();
  const unsubscribe = recorder.onCall((io) => {
    const requestId = (io.input.Item as { requestId?: { S?: string } } | undefined)?.requestId?.S;
    if (io.operation !== 'PutItem' || io.resource !== tasksTable || io.error || !requestId) return;
    written.add(requestId);
    waiters.get(requestId)?.();
  });
  let httpCalls = 0;
  let requesters = 0;

  // node:http with kept-alive connections, not fetch: the bench's own client shares the process
  // (and its CPU) with what it measures, and fetch took about 0.2 ms more CPU per request here.
  const agent = new Agent({ keepAlive: true });
  const call = (token: string, method: string, path: string, body?: unknown) => {
    httpCalls += 1;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<{ status: number; body: Json }>((resolve, reject) => {
      const request = httpRequest(`${server.url}${path}`, {
        method,
        agent,
        timeout: 30_000,
        headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
      });
      request.on('timeout', () => request.destroy(new Error(`${method} ${path}: the connection was idle for 30 s`)));
      request.on('error', reject);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          try {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: response.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as Json });
          } catch (error) {
            reject(error);
          }
        });
      });
      request.end(payload);
    });
  };
  const executionArnOf = (requestId: string) =>
    `${server.stack.engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;

  return {
    server,
    recorder,
    accessLog,
    requesterToken,
    approverToken,
    call,
    async submit(body, token = requesterToken) {
      const answer = await call(token, 'POST', '/v1/requests', body);
      if (answer.status !== 202 || typeof answer.body.requestId !== 'string') {
        throw new Error(`submit answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
      return answer.body.requestId;
    },
    newRequesterToken: () => server.mintToken(`${REQUESTER.sub}-${++requesters}`, REQUESTER.roles),
    executionArnOf,
    waitForEnd(requestId, timeoutMs = 60_000) {
      return withTimeout(server.stack.engine.waitForEnd(executionArnOf(requestId)), timeoutMs, `execution ${requestId} to end`);
    },
    taskWritten(requestId, timeoutMs = 30_000) {
      if (written.has(requestId)) return Promise.resolve();
      const seen = new Promise<void>((resolve) => waiters.set(requestId, resolve));
      return withTimeout(seen, timeoutMs, `the approval task of ${requestId}`).finally(() => waiters.delete(requestId));
    },
    httpCalls: () => httpCalls,
    async stop() {
      unsubscribe();
      agent.destroy();
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A structured ticket routing (no model, no human, no cumulative limit): the auto-approved request
 * a throughput run can send again and again. Purchase orders to one vendor stop running with no
 * human once 5,000 is committed to it in 30 days.
 */
export function ticketRouting(ticketId: string): Json {
  return {
    text: `Route ticket ${ticketId} to billing`,
    action: 'ticket_routing',
    fields: { ticketId, queue: 'billing', priority: 'normal', summary: uniqueDescription('customer charged twice') },
  };
}

/**
 * `count` more open tickets in the system of record, loaded the way the seed loads T-2001
 * (`seedSystemOfRecord`), so that concurrent routings each move a ticket of their own instead of
 * all queueing on one item. Same-width ids (T-7000000…), so no id is the start of another.
 */
export async function seedOpenTickets(bench: BenchServer, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `T-${7_000_000 + i}`);
  const records = ids.map((ticketId) => ({ type: 'TICKET', id: ticketId, attributes: { ticketId, ticketStatus: 'open', queue: 'technical', priority: 'normal' } }));
  // A client of its own for this server's emulators: the handlers' may be on another thread, and this process's singletons may address an earlier server.
  const { env } = bench.server.stack;
  const seeding = clients.createDocumentClient({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  const results = await seedSystemOfRecord(seeding, env.RECORDS_TABLE, { vendors: [], customers: [], records }).finally(() => seeding.destroy());
  const notWritten = results.filter((result) => result.outcome !== 'written');
  if (notWritten.length > 0) throw new Error(`seeding bench tickets: ${notWritten.length} were already there (${notWritten[0].item.pk})`);
  return ids;
}

/** A structured purchase order (no model): validated vendor under 5,000 auto-approves, if it is the vendor's first in 30 days. */
export function purchaseOrder(vendor: string, amount: number, what: string): Json {
  const description = uniqueDescription(what);
  return {
    text: `Create a purchase order for ${vendor} for $${amount.toLocaleString('en-US')} of ${description}`,
    action: 'purchase_order',
    fields: { vendor, amount, currency: 'USD', description },
  };
}
