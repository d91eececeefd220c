import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalServer, type LocalServer, type LocalServerOptions } from '../../local/server';

/**
 * A small client of the Warden HTTP API (API.md) for the integration suite: real sockets,
 * global fetch, tokens from the local issuer. Only `expectProblem` asserts; the helpers a test
 * cannot go on without (`submitOk`, `waitForTask`) throw with what the server answered, and
 * the polling helpers return the last value they read, so a failing assertion shows it.
 */

export interface Caller {
  sub: string;
  roles: string[];
}

export type Json = Record<string, unknown>;

export interface HttpResult {
  status: number;
  headers: Headers;
  /** The raw body, for "never echoes the token" checks. */
  text: string;
  /** The parsed body; `{}` when the body was empty or not JSON. */
  body: Json;
  /** The bearer token the call was made with, if any. */
  token?: string;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** `undefined` sends no Authorization header. */
  token?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON with `content-type: application/json`. */
  body?: unknown;
}

export const TERMINAL_STATUSES = ['COMPLETED', 'REJECTED', 'FAILED', 'EXPIRED'] as const;

/** Polling: short interval, bounded tries (no fixed sleeps). */
export const POLL_INTERVAL_MS = 25;
export const POLL_TRIES = 600;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Re-reads until `done` holds or the tries run out; returns the last value read either way. */
export async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, tries = POLL_TRIES, intervalMs = POLL_INTERVAL_MS): Promise<T> {
  let value = await read();
  for (let i = 1; i < tries && !done(value); i++) {
    await sleep(intervalMs);
    value = await read();
  }
  return value;
}

export type TokenMinter = (caller: Caller) => Promise<string>;

/** Tokens from `GET /local/dev-token`, as a user of `npm start` gets them. */
export function devTokenMinter(baseUrl: string): TokenMinter {
  return async ({ sub, roles }) => {
    const query = new URLSearchParams({ sub, roles: roles.join(',') });
    const response = await fetch(`${baseUrl}/local/dev-token?${query.toString()}`);
    const body = (await response.json()) as Json;
    if (response.status !== 200 || typeof body.token !== 'string') throw new Error(`dev-token for ${sub}: ${response.status} ${JSON.stringify(body)}`);
    return body.token;
  };
}

export class WardenClient {
  private readonly tokens = new Map<string, Promise<string>>();
  /** Every request this client got accepted, so `settle()` can wait for them. */
  private readonly accepted = new Map<string, Caller>();

  constructor(
    readonly baseUrl: string,
    private readonly mint: TokenMinter,
  ) {}

  /** One token per caller (sub + roles), minted once. */
  tokenFor(caller: Caller): Promise<string> {
    const key = `${caller.sub}|${caller.roles.join(',')}`;
    let token = this.tokens.get(key);
    if (!token) {
      token = this.mint(caller);
      this.tokens.set(key, token);
    }
    return token;
  }

  async call(path: string, options: CallOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (options.body !== undefined) {
      if (typeof options.body === 'string') body = options.body;
      else {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
    }
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    Object.assign(headers, options.headers);
    const response = await fetch(`${this.baseUrl}${path}`, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
    const text = await response.text();
    let parsed: Json = {};
    try {
      const value: unknown = text ? JSON.parse(text) : {};
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) parsed = value as Json;
    } catch {
      // Not JSON: the test sees `text`.
    }
    return { status: response.status, headers: response.headers, text, body: parsed, ...(options.token !== undefined ? { token: options.token } : {}) };
  }

  async as(caller: Caller, path: string, options: Omit<CallOptions, 'token'> = {}): Promise<HttpResult> {
    return this.call(path, { ...options, token: await this.tokenFor(caller) });
  }

  async submit(caller: Caller, body: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    const response = await this.as(caller, '/v1/requests', { method: 'POST', body, headers });
    if ((response.status === 200 || response.status === 202) && typeof response.body.requestId === 'string') {
      this.accepted.set(response.body.requestId, caller);
    }
    return response;
  }

  /**
   * Waits until no accepted request is QUEUED or RUNNING (each is parked for approval or has
   * ended), so a server is never stopped under a running step.
   */
  async settle(): Promise<void> {
    const busy = (r: HttpResult) => r.status === 200 && (r.body.status === 'QUEUED' || r.body.status === 'RUNNING');
    for (const [requestId, caller] of this.accepted) {
      await poll(() => this.getRequest(caller, requestId), (r) => !busy(r));
    }
  }

  /** Submits and insists on 202; returns the new request id. */
  async submitOk(caller: Caller, body: unknown): Promise<string> {
    const response = await this.submit(caller, body);
    if (response.status !== 202 || typeof response.body.requestId !== 'string') {
      throw new Error(`POST /v1/requests: expected 202, got ${response.status} ${response.text}`);
    }
    return response.body.requestId;
  }

  getRequest(caller: Caller, requestId: string): Promise<HttpResult> {
    return this.as(caller, `/v1/requests/${encodeURIComponent(requestId)}`);
  }

  getAudit(caller: Caller, requestId: string): Promise<HttpResult> {
    return this.as(caller, `/v1/requests/${encodeURIComponent(requestId)}/audit`);
  }

  /**
   * The audit once its last entry is written: Finalize sets the terminal status before it appends
   * `request.finalized`, so a read right after the status can be one entry short.
   */
  getFinalAudit(caller: Caller, requestId: string): Promise<HttpResult> {
    const finalized = (r: HttpResult) =>
      r.status !== 200 || ((r.body.entries ?? []) as { event?: string }[]).some((e) => e.event === 'request.finalized');
    return poll(() => this.getAudit(caller, requestId), finalized);
  }

  listTasks(caller: Caller, query = ''): Promise<HttpResult> {
    return this.as(caller, `/v1/tasks${query ? `?${query}` : ''}`);
  }

  getTask(caller: Caller, taskId: string): Promise<HttpResult> {
    return this.as(caller, `/v1/tasks/${encodeURIComponent(taskId)}`);
  }

  decide(caller: Caller, taskId: string, body: unknown): Promise<HttpResult> {
    return this.as(caller, `/v1/tasks/${encodeURIComponent(taskId)}/decision`, { method: 'POST', body });
  }

  /**
   * Polls GET /v1/requests/{id} until its status is one of `wanted` (or terminal, or not 200);
   * returns the last body so the caller's `toMatchObject` shows what it was.
   */
  async waitForStatus(caller: Caller, requestId: string, ...wanted: string[]): Promise<Json> {
    const last = await poll(
      () => this.getRequest(caller, requestId),
      (r) => r.status !== 200 || wanted.includes(String(r.body.status)) || (TERMINAL_STATUSES as readonly string[]).includes(String(r.body.status)),
    );
    return last.status === 200 ? last.body : { httpStatus: last.status, ...last.body };
  }

  /** The caller's listed PENDING task for the request, if any (one listing). */
  async listedTask(caller: Caller, requestId: string): Promise<Json | undefined> {
    const listed = await this.listTasks(caller, 'limit=100');
    if (listed.status !== 200) throw new Error(`GET /v1/tasks for ${caller.sub}: ${listed.status} ${listed.text}`);
    return (listed.body.tasks as Json[]).find((task) => task.requestId === requestId);
  }

  /** Polls the approver's task list until the request's task shows up; throws if it never does. */
  async waitForTask(approver: Caller, requestId: string): Promise<Json & { taskId: string; approvalToken: string }> {
    const task = await poll(
      () => this.listedTask(approver, requestId),
      (t) => t !== undefined,
    );
    if (!task) {
      const request = await this.getRequest(approver, requestId);
      throw new Error(`no task for ${requestId} listed for ${approver.sub} (request as the approver sees it: ${request.status} ${request.text})`);
    }
    return task as Json & { taskId: string; approvalToken: string };
  }
}

/** Asserts an API.md error: problem+json with every field, the code, and no echo of the caller's token. */
export function expectProblem(response: HttpResult, status: number, code: string): void {
  expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  // A schema's 400 lists every offending field beside `detail` (API.md).
  const errors = code === 'validation_failed' && 'errors' in response.body ? { errors: expect.any(Array) } : {};
  expect(response.body).toEqual({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
    ...errors,
  });
  for (const error of (errors.errors ? response.body.errors : []) as unknown[]) {
    expect(error).toEqual({ path: expect.any(String), message: expect.any(String), expected: expect.any(String) });
  }
  if (response.token) {
    expect(response.text).not.toContain(response.token);
    // The signature alone would be enough to replay a look-alike: it must not appear either.
    const signature = response.token.split('.')[2];
    if (signature) expect(response.text).not.toContain(signature);
  }
}

export interface TestServer {
  server: LocalServer;
  client: WardenClient;
  stop(): Promise<void>;
}

/**
 * `startLocalServer` on port 0 over a fresh temp data directory. `stop()` first lets every
 * request the client submitted come to rest, then stops the server and removes the directory.
 */
export async function startTestServer(options: Omit<LocalServerOptions, 'dataDir' | 'port'> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-it-'));
  let server: LocalServer;
  try {
    // The handlers on their own thread, as `npm start` runs them, unless a file needs their modules here.
    server = await startLocalServer({ functions: 'worker', ...options, port: 0, dataDir });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const client = new WardenClient(server.url, ({ sub, roles }) => server.mintToken(sub, roles));
  return {
    server,
    client,
    async stop() {
      try {
        await client.settle();
        await server.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * One test server for the calling file: started in beforeAll, stopped in afterAll. The client
 * it returns can be held at module scope; it reaches the server once beforeAll has run.
 */
export function useTestServer(options: Omit<LocalServerOptions, 'dataDir' | 'port'> = {}): { client: WardenClient; server: () => TestServer } {
  let running: TestServer | undefined;
  beforeAll(async () => {
    running = await startTestServer(options);
  });
  afterAll(async () => {
    await running?.stop();
  });
  const server = (): TestServer => {
    if (!running) throw new Error('the test server starts in beforeAll');
    return running;
  };
  const client = new Proxy({} as WardenClient, {
    get: (_target, property) => {
      const live = server().client;
      const value: unknown = Reflect.get(live, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(live) : value;
    },
  });
  return { client, server };
}
