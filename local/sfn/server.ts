import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalStepFunctions, SfnError, type ExecutionRecord } from './engine';
import { SFN_CONTENT_TYPE } from './protocol';

/**
 * The Step Functions JSON protocol (awsJson1_0, `X-Amz-Target: AWSStepFunctions.<Op>`) for the
 * subset Warden uses, so `@aws-sdk/client-sfn` works unchanged through AWS_ENDPOINT_URL_SFN.
 */

const MAX_BODY_BYTES = 1024 * 1024;


const seconds = (date: Date) => date.getTime() / 1000;

function describe(record: ExecutionRecord) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    ...(record.stopDate ? { stopDate: seconds(record.stopDate) } : {}),
    input: record.input,
    ...(record.output !== undefined ? { output: record.output } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
  };
}

type Operation = (engine: LocalStepFunctions, body: Record<string, unknown>) => unknown;

const str = (value: unknown, field: string): string => {
  if (typeof value !== 'string' || value.length === 0) throw new SfnError('ValidationException', `${field} is required`);
  return value;
};

const OPERATIONS: Record<string, Operation> = {
  StartExecution: async (engine, body) => {
    if (body.stateMachineArn !== engine.stateMachineArn) throw new SfnError('StateMachineDoesNotExist', 'State machine does not exist');
    const started = await engine.startExecution({ name: body.name as string | undefined, input: body.input as string | undefined });
    return { executionArn: started.executionArn, startDate: seconds(started.startDate) };
  },
  DescribeExecution: (engine, body) => describe(engine.describeExecution(str(body.executionArn, 'executionArn'))),
  GetExecutionHistory: (engine, body) => {
    const record = engine.describeExecution(str(body.executionArn, 'executionArn'));
    const events = record.history.map((event, index) => ({
      id: index + 1,
      timestamp: event.timestamp / 1000,
      type: event.type,
      ...(event.stateName ? { stateName: event.stateName } : {}),
      ...(event.error ? { error: event.error, cause: event.cause } : {}),
    }));
    return { events: body.reverseOrder === true ? events.reverse() : events };
  },
  SendTaskSuccess: async (engine, body) => {
    await engine.sendTaskSuccess(str(body.taskToken, 'taskToken'), str(body.output, 'output'));
    return {};
  },
  SendTaskFailure: async (engine, body) => {
    await engine.sendTaskFailure(str(body.taskToken, 'taskToken'), body.error as string | undefined, body.cause as string | undefined);
    return {};
  },
  SendTaskHeartbeat: (engine, body) => {
    engine.sendTaskHeartbeat(str(body.taskToken, 'taskToken'));
    return {};
  },
  StopExecution: async (engine, body) => ({
    stopDate: seconds(await engine.stopExecution(str(body.executionArn, 'executionArn'), body.error as string | undefined, body.cause as string | undefined)),
  }),
};

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SfnError('ValidationException', 'request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * One call of the protocol: its `X-Amz-Target` and body text, answered with the status and body
 * the HTTP server sends. The handlers' thread sends its SDK client's calls here over its port
 * (local/functions.ts), the rest over HTTP.
 */
export async function answerSfnCall(engine: LocalStepFunctions, target: string, text: string): Promise<{ status: number; body: string }> {
  const failure = (status: number, type: string, message: string) => ({ status, body: JSON.stringify({ __type: type, message }) });
  const operation = operationFor(target);
  if (!operation) return failure(400, 'UnknownOperationException', 'Unsupported operation');
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return failure(400, 'ValidationException', 'request too large');
  let body: Record<string, unknown>;
  try {
    body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  } catch {
    return failure(400, 'SerializationException', 'body is not JSON');
  }
  try {
    return { status: 200, body: JSON.stringify(await operation(engine, body)) };
  } catch (error) {
    if (error instanceof SfnError) return failure(400, error.type, error.message);
    return failure(500, 'InternalFailure', 'internal error');
  }
}

/** The operation an `X-Amz-Target` names, if it is one this engine serves. */
function operationFor(target: string): Operation | undefined {
  const name = target.replace(/^AWSStepFunctions\./, '');
  return Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
}

export interface RunningSfnServer {
  endpoint: string;
  server: Server;
  close(): Promise<void>;
}

export async function startSfnServer(engine: LocalStepFunctions, port = 0): Promise<RunningSfnServer> {
  const server = createServer((request, response) => {
    const reply = ({ status, body }: { status: number; body: string }) => {
      response.writeHead(status, { 'content-type': SFN_CONTENT_TYPE });
      response.end(body);
    };
    void (async () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      // Refused before its body is read, as before.
      if (request.method !== 'POST' || !operationFor(target)) {
        return reply({ status: 400, body: JSON.stringify({ __type: 'UnknownOperationException', message: 'Unsupported operation' }) });
      }
      let text: string;
      try {
        text = await readBody(request);
      } catch (error) {
        const type = error instanceof SfnError ? error.type : 'InternalFailure';
        return reply({ status: error instanceof SfnError ? 400 : 500, body: JSON.stringify({ __type: type, message: error instanceof SfnError ? error.message : 'internal error' }) });
      }
      reply(await answerSfnCall(engine, target, text));
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
