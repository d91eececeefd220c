import { parentPort, workerData } from 'node:worker_threads';
import { FUNCTION_NAMES, handlerModule, type FunctionName, type HostMessage, type HostReply, type InstrumentModule, type SerializedError } from './functions-protocol';
import type * as Clients from '../lambdas/shared/adapters/aws/clients';
import { SFN_CONTENT_TYPE } from './sfn/protocol';

/**
 * The worker side of `FunctionsWorker` (local/functions.ts): the Lambda handlers, loaded once in a
 * thread of their own with the environment the stack hands them, called with JSON payloads as
 * Lambda calls them, and answering JSON or the error they threw (its name is what the ASL's
 * Retry and Catch match).
 */

if (!parentPort) throw new Error('local/functions-host.ts runs as a worker thread started by local/functions.ts');
const port = parentPort;

type Handler = (payload: unknown, context: unknown) => Promise<unknown>;

function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
    try {
      fields[key] = JSON.parse(JSON.stringify(value)) as unknown;
    } catch {
      // A field that is not JSON does not cross, as it would not leave a Lambda.
    }
  }
  return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}), fields };
}

/** The parts of a Smithy HTTP request and response the Step Functions client's transport reads and writes. */
interface SdkHttpRequest {
  headers: Record<string, string>;
  body?: unknown;
}
interface SdkHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const sfnCalls = new Map<number, { resolve(answer: { status: number; body: string }): void; reject(error: Error): void }>();
let nextSfnCall = 1;

/**
 * The transport of the handlers' Step Functions client (the SDK's `requestHandler`): each call
 * crosses the thread's port to the local engine, which answers it as its HTTP server would. The
 * client serialises, signs and parses as it does over HTTP. A loopback HTTP call cost this thread
 * 0.64 ms of CPU against 0.21 ms for the same SDK call without the connection, and the engine's
 * thread its HTTP parsing.
 */
const sfnOverPort = {
  handle(request: SdkHttpRequest, options?: { abortSignal?: AbortSignal }): Promise<{ response: SdkHttpResponse }> {
    const signal = options?.abortSignal;
    // As the SDK's Node handler rejects an aborted call: its reason, or an AbortError.
    const abortError = () => (signal?.reason instanceof Error ? signal.reason : Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    if (signal?.aborted) return Promise.reject(abortError());
    const target = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'x-amz-target')?.[1] ?? '';
    const bytes = request.body as Uint8Array | string | undefined;
    // Its bytes as they are: the SDK's JSON body is a Uint8Array that warns when read as a string.
    const body = bytes === undefined ? '' : typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    const id = nextSfnCall++;
    const onAbort = () => sfnCalls.get(id)?.reject(abortError());
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      sfnCalls.set(id, { resolve, reject });
      signal?.addEventListener('abort', onAbort, { once: true });
      port.postMessage({ sfn: { id, target, body } } satisfies HostReply);
    })
      .finally(() => {
        sfnCalls.delete(id);
        signal?.removeEventListener('abort', onAbort);
      })
      .then(({ status, body: answer }) => ({
        response: { statusCode: status, headers: { 'content-type': SFN_CONTENT_TYPE }, body: Buffer.from(answer, 'utf8') },
      }));
  },
  updateHttpClientConfig(): void {},
  httpHandlerConfigs(): Record<string, never> {
    return {};
  },
  destroy(): void {},
};

function main(): void {
  // The stack's environment is this thread's process.env already (the Worker's `env`).
  const { instrument } = workerData as { instrument?: string };
  const handlers = new Map<FunctionName, Handler>();
  for (const name of FUNCTION_NAMES) {
    // Loaded now, all of them: a handler that cannot load fails the start, not its first call.
    const module = require(handlerModule(name)) as { handler: Handler };
    handlers.set(name, module.handler);
  }
  // The handlers' Step Functions client (one per thread, as per container) talks to the engine over the port.
  const { sfnClient } = require('../lambdas/shared/adapters/aws/clients') as typeof Clients;
  (sfnClient().config as { requestHandler: unknown }).requestHandler = sfnOverPort;
  const instrumented = instrument ? (require(instrument) as InstrumentModule).instrument((message) => port.postMessage({ instrument: message } satisfies HostReply)) : undefined;
  port.on('message', (message: HostMessage) => {
    if (message.kind === 'env') {
      Object.assign(process.env, message.env);
      return;
    }
    if (message.kind === 'instrument') {
      instrumented?.(message.message);
      return;
    }
    if (message.kind === 'sfn') {
      sfnCalls.get(message.id)?.resolve({ status: message.status, body: message.body });
      return;
    }
    const { id, name, payload, context } = message;
    const handler = handlers.get(name);
    const reply = (answer: HostReply) => port.postMessage(answer);
    if (!handler) {
      reply({ id, error: { name: 'Lambda.ResourceNotFoundException', message: `Function not found: ${name}`, fields: {} } });
      return;
    }
    // The HTTP API calls its handlers with no context, as it does in-process.
    const lambdaContext = context && {
      functionName: context.functionName,
      awsRequestId: context.awsRequestId,
      invokedFunctionArn: context.invokedFunctionArn,
      getRemainingTimeInMillis: () => Math.max(0, context.deadline - Date.now()),
    };
    let input: unknown;
    try {
      input = payload === undefined ? undefined : (JSON.parse(payload) as unknown);
    } catch (error) {
      reply({ id, error: serializeError(error) });
      return;
    }
    // A result that is not JSON (a BigInt, a cycle) fails this call alone, as Lambda fails to serialise it.
    Promise.resolve()
      .then(() => handler(input, lambdaContext))
      .then((result) => (result === undefined ? undefined : JSON.stringify(result)))
      .then(
        (result) => reply({ id, result }),
        (error: unknown) => reply({ id, error: serializeError(error) }),
      );
  });
  port.postMessage({ ready: true } satisfies HostReply);
}

try {
  main();
} catch (error) {
  port.postMessage({ failed: serializeError(error) } satisfies HostReply);
}
