import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LambdaLikeContext } from './sfn/engine';
import type { FunctionName, HostMessage, HostReply, SerializedError, SfnCall } from './functions-protocol';

/**
 * The Lambda handlers on a thread of their own, as Lambda runs them apart from API Gateway and
 * Step Functions: the HTTP API, the engine and the emulators keep the main thread, the handlers
 * (and their SDK clients) take the second core. Every call crosses as JSON text and every error
 * as its name, message and own fields, so what the engine sees is what it would see from Lambda.
 */

/**
 * Runs in the worker before anything else: TypeScript through tsx, for require() and for import()
 * (the handlers load some modules with import() on first use), then the entry module.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
require(workerData.tsx.cjs).register();
require(workerData.tsx.esm).register();
require(workerData.entry);
`;

/**
 * A worker thread running a TypeScript module of this project (`entry`, an absolute path), with
 * tsx registered in it whatever started this process (tsx, jest's ts-jest): not the parent's
 * flags. `workerData` reaches the module as its own.
 */
export function typeScriptWorker(entry: string, options: { env?: Record<string, string | undefined>; workerData?: Record<string, unknown> } = {}): Worker {
  return new Worker(BOOTSTRAP, {
    eval: true,
    execArgv: [],
    env: options.env ?? process.env,
    workerData: { ...options.workerData, tsx: { cjs: require.resolve('tsx/cjs/api'), esm: require.resolve('tsx/esm/api') }, entry },
  });
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** An error thrown by a handler on the worker, rebuilt with the same name, message and fields. */
function rebuild(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  Object.assign(error, serialized.fields);
  error.name = serialized.name;
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}

export interface FunctionsWorkerOptions {
  /** The environment the handlers read (over the process's own). */
  env: Record<string, string>;
  /** A module loaded beside the handlers to watch them (`InstrumentModule`), and what takes its messages. */
  instrument?: { module: string; onMessage(message: unknown): void };
}

/** One thread of handlers: a crash ends it, and the next call starts another, as Lambda starts a fresh environment. */
interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  ready: Promise<void>;
  /** Why it ended, once it has. */
  ended?: Error;
  /** Its handlers had loaded. */
  loaded?: boolean;
}

export class FunctionsWorker {
  private thread: Thread;
  private nextId = 1;
  private spawned = 0;
  private stopping = false;
  /** What the handlers read: the start's environment and every later `setEnv`, for a fresh thread too. */
  private readonly env: Record<string, string>;
  /** What answers the handlers' Step Functions calls (`serveStepFunctions`). */
  private stepFunctions: ((target: string, body: string) => Promise<{ status: number; body: string }>) | undefined;

  constructor(private readonly options: FunctionsWorkerOptions) {
    this.env = { ...options.env };
    this.thread = this.spawn();
  }

  /** Resolves once every handler module has loaded; rejects with the error one threw. */
  started(): Promise<void> {
    return this.thread.ready;
  }

  /** Environment set after start (the API's URL, the JWT issuer): it reaches the handlers before any later call. */
  setEnv(env: Record<string, string>): void {
    Object.assign(this.env, env);
    if (!this.thread.ended) this.post({ kind: 'env', env });
  }

  /**
   * Answers the Step Functions calls of the handlers' SDK client (their transport is the thread's
   * port: local/functions-host.ts) with the local engine's protocol (local/sfn/server.ts).
   */
  serveStepFunctions(answer: (target: string, body: string) => Promise<{ status: number; body: string }>): void {
    this.stepFunctions = answer;
  }

  /** To the instrument module, after every message posted before it. */
  instrumentMessage(message: unknown): void {
    if (!this.thread.ended) this.post({ kind: 'instrument', message });
  }

  invoke(name: FunctionName, payload: unknown, context?: Partial<LambdaLikeContext>): Promise<unknown> {
    if (this.stopping) return Promise.reject(new Error("the Lambda handlers' thread is stopping"));
    let message: HostMessage;
    try {
      // Built before the call is registered: a payload that is not JSON fails this call alone.
      message = {
        kind: 'invoke',
        id: this.nextId++,
        name,
        payload: payload === undefined ? undefined : JSON.stringify(payload),
        ...(context
          ? {
              context: {
                functionName: context.functionName ?? name,
                awsRequestId: context.awsRequestId ?? randomUUID(),
                invokedFunctionArn: context.invokedFunctionArn ?? name,
                deadline: Date.now() + (context.getRemainingTimeInMillis?.() ?? 60_000),
              },
            }
          : {}),
      };
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (this.thread.ended) this.thread = this.spawn();
    const { pending, worker } = this.thread;
    const called = new Promise<unknown>((resolve, reject) => pending.set(message.id, { resolve, reject }));
    if (pending.size === 1) worker.ref();
    this.post(message);
    return called;
  }

  /** The handler for one function, with the signature the engine and the HTTP API call. */
  handler<T = unknown>(name: FunctionName): (payload: unknown, context?: Partial<LambdaLikeContext>) => Promise<T> {
    return (payload, context) => this.invoke(name, payload, context) as Promise<T>;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.end(this.thread, new Error("the Lambda handlers' thread is stopping"));
    await this.thread.worker.terminate();
  }

  private spawn(): Thread {
    const { instrument } = this.options;
    const first = this.spawned++ === 0;
    const worker = typeScriptWorker(join(__dirname, 'functions-host.ts'), {
      env: { ...process.env, ...this.env },
      workerData: { instrument: instrument?.module },
    });
    const thread: Thread = { worker, pending: new Map(), ready: Promise.resolve() };
    thread.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (reply: HostReply) => {
        if ('ready' in reply) {
          thread.loaded = true;
          resolve();
          // Loading holds the process open; idle between calls, the thread does not.
          if (thread.pending.size === 0) worker.unref();
        } else if ('failed' in reply) {
          const error = rebuild(reply.failed);
          // The first thread's failure is the start's error; a fresh thread's is said here.
          if (!first) console.error(`local Lambda handlers' thread could not load its handlers: ${error.message}`);
          this.end(thread, error);
          reject(error);
          void worker.terminate();
        } else if ('instrument' in reply) {
          instrument?.onMessage(reply.instrument);
        } else if ('sfn' in reply) {
          void this.answerStepFunctions(thread, reply.sfn);
        } else {
          this.settle(thread, reply);
        }
      });
      worker.on('error', (error) => {
        this.end(thread, error);
        reject(error);
      });
      worker.on('exit', (code) => {
        const error = new Error(`the Lambda handlers' thread exited (code ${code})`);
        this.end(thread, error);
        reject(error);
      });
    });
    // Whoever starts the stack awaits `started()`; a thread that ends later has nobody waiting on it.
    thread.ready.catch(() => undefined);
    return thread;
  }

  private async answerStepFunctions(thread: Thread, call: SfnCall): Promise<void> {
    const answer = this.stepFunctions
      ? await this.stepFunctions(call.target, call.body)
      : { status: 503, body: JSON.stringify({ __type: 'ServiceUnavailable', message: 'the local Step Functions is not started yet' }) };
    // A thread that ended meanwhile has nobody waiting for it.
    if (!thread.ended) thread.worker.postMessage({ kind: 'sfn', id: call.id, ...answer } satisfies HostMessage);
  }

  private post(message: HostMessage): void {
    this.thread.worker.postMessage(message);
  }

  private settle(thread: Thread, reply: Extract<HostReply, { id: number }>): void {
    const call = thread.pending.get(reply.id);
    if (!call) return;
    thread.pending.delete(reply.id);
    if (thread.pending.size === 0) thread.worker.unref();
    if ('error' in reply) call.reject(rebuild(reply.error));
    else call.resolve(reply.result === undefined ? undefined : JSON.parse(reply.result));
  }

  /**
   * The calls in flight on a thread that ended fail as Lambda fails an invocation whose runtime
   * exited (`Runtime.ExitError`, which the ASL's States.ALL catches); the next call starts afresh.
   */
  private end(thread: Thread, cause: Error): void {
    if (thread.ended) return;
    thread.ended = cause;
    // A load failure is the caller's error; a thread that served and then ended is said here.
    if (!this.stopping && thread.loaded) {
      console.error(`local Lambda handlers' thread ended (${cause.message}): ${thread.pending.size} call(s) in flight fail with Runtime.ExitError; the next call starts a fresh thread`);
    }
    for (const call of thread.pending.values()) {
      const error = new Error(`the Lambda handlers' thread ended: ${cause.message}`);
      error.name = this.stopping ? 'Error' : 'Runtime.ExitError';
      call.reject(error);
    }
    thread.pending.clear();
  }
}
