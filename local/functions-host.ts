import { parentPort, workerData } from 'node:worker_threads';
import { FUNCTION_NAMES, handlerModule, type FunctionName, type HostMessage, type HostReply, type InstrumentModule, type SerializedError } from './functions-protocol';

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

function main(): void {
  // The stack's environment is this thread's process.env already (the Worker's `env`).
  const { instrument } = workerData as { instrument?: string };
  const handlers = new Map<FunctionName, Handler>();
  for (const name of FUNCTION_NAMES) {
    // Loaded now, all of them: a handler that cannot load fails the start, not its first call.
    const module = require(handlerModule(name)) as { handler: Handler };
    handlers.set(name, module.handler);
  }
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
