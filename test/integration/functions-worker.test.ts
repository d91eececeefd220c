import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { httpEvent } from '../support/http-events';

/**
 * The local stack with its Lambda handlers on a thread of their own (`functions: 'worker'`, as
 * `npm start` runs them): what crosses between the engine or the API and the handlers is what
 * crosses the Lambda service (JSON, an error's name, message and fields), a thread that ends
 * fails only the calls it had in flight, and the next call is served by a fresh one that reads
 * the same environment. The HTTP suites run on this mode too (test/support/http-client.ts), all
 * but one that mocks a module the handlers load.
 */

const INSTRUMENT = join(__dirname, '../fixtures/functions/instrument.ts');
const requester = { sub: 'wendy', roles: ['support-agent'] };

type Answer = { env: string; value: string | null; threadId: number };

let stack: LocalStack;
let answers: Answer[];

beforeAll(async () => {
  answers = [];
  stack = await startLocalStack({ functions: 'worker', instrument: { module: INSTRUMENT, onMessage: (message) => answers.push(message as Answer) } });
});

afterAll(async () => {
  await stack?.stop();
});

/** What the handlers' thread holds for `name`: asked through the fixture, answered after every earlier message. */
async function threadEnv(name: string): Promise<Answer> {
  const before = answers.length;
  stack.worker!.instrumentMessage({ env: name });
  // Any call answers after the instrument's reply to a message posted before it.
  await stack.gateway(httpEvent({ routeKey: 'GET /health', path: '/health' }));
  expect(answers.length).toBe(before + 1);
  return answers[before];
}

const bodyOf = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body)) as Record<string, unknown>;

/** A structured routing of T-2001 to `queue`, accepted, and its execution once it has ended. */
async function routeAndWait(queue: string, summary: string) {
  const submitted = await stack.gateway(
    httpEvent({
      routeKey: 'POST /v1/requests',
      path: '/v1/requests',
      caller: requester,
      body: { text: `Route ticket T-2001 to ${queue}`, action: 'ticket_routing', fields: { ticketId: 'T-2001', queue, priority: 'normal', summary } },
    }),
  );
  expect(submitted.statusCode).toBe(202);
  const requestId = String(bodyOf(submitted).requestId);
  const executionArn = `${stack.engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
  return { requestId, executionArn, execution: await stack.engine.waitForEnd(executionArn) };
}

describe("the local stack's handlers on their own thread", () => {
  it('runs the governed flow: a structured ticket routing is COMPLETED, its audit verified', async () => {
    const { requestId, execution } = await routeAndWait('billing', 'charged twice');
    expect(execution.status).toBe('SUCCEEDED');
    const read = await stack.gateway(
      httpEvent({ routeKey: 'GET /v1/requests/{requestId}', path: `/v1/requests/${requestId}`, caller: requester, pathParameters: { requestId } }),
    );
    expect(bodyOf(read)).toMatchObject({ requestId, status: 'COMPLETED', action: 'ticket_routing' });
    const audit = await stack.gateway(
      httpEvent({
        routeKey: 'GET /v1/requests/{requestId}/audit',
        path: `/v1/requests/${requestId}/audit`,
        caller: { sub: 'audrey', roles: ['auditor'] },
        pathParameters: { requestId },
      }),
    );
    expect(bodyOf(audit)).toMatchObject({ verified: true });
  });

  it("a handler's error arrives with the name, message and fields it has in-process (what the ASL's Catch and the failure codes match)", async () => {
    const garbage = { requestId: 42 };
    const inWorker = await stack.worker!.invoke('triage', garbage).then(
      () => undefined,
      (error: unknown) => error,
    );
    // The same module in this thread, against the same emulators (startLocalStack set the environment here too).
    const { handler } = await import('../../lambdas/triage/handler');
    const inProcess = await handler(garbage).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(inProcess).toBeInstanceOf(Error);
    expect(inWorker).toBeInstanceOf(Error);
    const fields = (error: unknown) => {
      const { name, message, code, status } = error as Error & { code?: string; status?: number };
      return { name, message, code, status };
    };
    expect(fields(inWorker)).toEqual(fields(inProcess));
    expect(fields(inWorker)).toMatchObject({ name: 'InvalidWorkflowState', code: 'invalid_workflow_state', status: 500 });
  });

  it('a payload that is not JSON fails that call alone, before it reaches the thread', async () => {
    await expect(stack.worker!.invoke('triage', { amount: BigInt(1) })).rejects.toThrow(/BigInt/);
    expect((await stack.gateway(httpEvent({ routeKey: 'GET /health', path: '/health' }))).statusCode).toBe(200);
  });

  it('environment set after start reaches the handlers, and a fresh thread after a crash reads it too', async () => {
    // To the thread only (stack.setEnv sets this process's too): a fresh thread must have it from the worker's own keeping.
    stack.worker!.setEnv({ WARDEN_TEST_SET_LATER: 'after-start' });
    expect(process.env.WARDEN_TEST_SET_LATER).toBeUndefined();
    const first = await threadEnv('WARDEN_TEST_SET_LATER');
    expect(first.value).toBe('after-start');

    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      // The crash is handled before the call posted after it: that call is in flight when the thread ends.
      stack.worker!.instrumentMessage({ crash: 'thrown on the handlers’ thread' });
      const inFlight = await stack.gateway(httpEvent({ routeKey: 'GET /health', path: '/health' })).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      expect(inFlight).toMatchObject({ name: 'Runtime.ExitError', message: expect.stringContaining('thrown on the handlers’ thread') });
      expect(logged.mock.calls.map((args) => args.join(' '))).toEqual([expect.stringMatching(/thread ended \(thrown on the handlers’ thread\): 1 call\(s\) in flight fail with Runtime\.ExitError/)]);
    } finally {
      logged.mockRestore();
    }

    // The next call starts a fresh thread, with the start's environment and what was set since.
    const health = await stack.gateway(httpEvent({ routeKey: 'GET /health', path: '/health' }));
    expect(health.statusCode).toBe(200);
    const second = await threadEnv('WARDEN_TEST_SET_LATER');
    expect(second).toMatchObject({ value: 'after-start' });
    expect(second.threadId).not.toBe(first.threadId);
    expect((await threadEnv('RECORDS_TABLE')).value).toBe(stack.env.RECORDS_TABLE);
  });
});

describe("the handlers' Step Functions client", () => {
  /** What the thread's own client answers for DescribeExecution of `executionArn`. */
  async function describeFromThread(executionArn: string): Promise<Record<string, unknown>> {
    const before = answers.length;
    stack.worker!.instrumentMessage({ describe: executionArn });
    for (let i = 0; i < 400 && answers.length === before; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return answers[before] as unknown as Record<string, unknown>;
  }

  it('reaches the local engine through the thread, not its HTTP endpoint, with the errors the SDK names', async () => {
    const { requestId, executionArn } = await routeAndWait('technical', 'no sound on the headset');

    // A fresh thread whose SDK endpoint for Step Functions answers nothing: its client still reaches the engine.
    const logged = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      stack.worker!.setEnv({ AWS_ENDPOINT_URL_SFN: 'http://127.0.0.1:9' });
      stack.worker!.instrumentMessage({ crash: 'a fresh thread, please' });
      await stack.gateway(httpEvent({ routeKey: 'GET /health', path: '/health' })).catch(() => undefined);
    } finally {
      logged.mockRestore();
    }
    expect((await stack.gateway(httpEvent({ routeKey: 'GET /health', path: '/health' }))).statusCode).toBe(200);
    expect((await threadEnv('AWS_ENDPOINT_URL_SFN')).value).toBe('http://127.0.0.1:9');

    try {
      expect(await describeFromThread(executionArn)).toMatchObject({ described: { status: 'SUCCEEDED', name: requestId } });
      expect(await describeFromThread(`${executionArn}-missing`)).toMatchObject({ describedError: { name: 'ExecutionDoesNotExist' } });
    } finally {
      // For whatever runs next: the stack's own endpoint again, for this thread and a fresh one.
      stack.worker!.setEnv({ AWS_ENDPOINT_URL_SFN: stack.env.AWS_ENDPOINT_URL_SFN });
    }
  });
});

describe('a handlers thread that cannot load', () => {
  it('fails the start with why', async () => {
    const missing = join(__dirname, '../fixtures/functions/no-such-module.ts');
    await expect(startLocalStack({ functions: 'worker', instrument: { module: missing, onMessage: () => undefined } })).rejects.toThrow(/no-such-module/);
  });
});
