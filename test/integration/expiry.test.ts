import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { deadlineMarginMs, decideTask } from '../../lambdas/shared/approval';
import { auditLog, clock, orchestrator, requestStore, stateStore, taskIndex } from '../../lambdas/shared/runtime';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { httpEvent } from '../support/http-events';

/** The approval wait's TimeoutSeconds, with a stack whose timeout is two seconds. */

const requester = { sub: 'alice', roles: ['support-agent'] };
const procurement = { sub: 'pat', roles: ['procurement-manager'] };

const TIMEOUT_SECONDS = 2;

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ approvalTimeoutSeconds: TIMEOUT_SECONDS });
});
afterAll(async () => {
  await stack?.stop();
});

const bodyOf = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body)) as Record<string, unknown>;

it('ends EXPIRED, never executed, and a late decision gets 410 task_expired', async () => {
  const submitted = await stack.gateway(
    httpEvent({
      routeKey: 'POST /v1/requests',
      path: '/v1/requests',
      caller: requester,
      body: { text: 'Create a PO for Alpha Tech Systems for $9,100 of monitors' },
    }),
  );
  const { requestId } = bodyOf(submitted) as { requestId: string };
  const executionArn = `${stack.engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
  const get = async () =>
    bodyOf(
      await stack.gateway(
        httpEvent({ routeKey: 'GET /v1/requests/{requestId}', path: `/v1/requests/${requestId}`, caller: requester, pathParameters: { requestId } }),
      ),
    );

  let task: Record<string, unknown> | undefined;
  for (let i = 0; i < 200 && !task; i++) {
    const listed = bodyOf(await stack.approval(httpEvent({ routeKey: 'GET /v1/tasks', path: '/v1/tasks', caller: procurement })));
    task = (listed.tasks as Record<string, unknown>[]).find((t) => t.requestId === requestId);
    if (!task) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(task).toBeDefined();
  expect((await get()).status).toBe('PENDING_APPROVAL');

  const execution = await stack.engine.waitForEnd(executionArn);
  expect(execution.status).toBe('SUCCEEDED');
  const request = await get();
  expect(request).toMatchObject({ status: 'EXPIRED', approval: { status: 'EXPIRED' } });
  expect(request.result).toBeUndefined();

  const late = await stack.approval(
    httpEvent({
      routeKey: 'POST /v1/tasks/{taskId}/decision',
      path: `/v1/tasks/${String(task!.taskId)}/decision`,
      caller: procurement,
      pathParameters: { taskId: String(task!.taskId) },
      body: { decision: 'approve', approvalToken: task!.approvalToken },
    }),
  );
  expect(late.statusCode).toBe(410);
  expect(bodyOf(late).code).toBe('task_expired');
});


/** Submits a PO that needs a procurement manager and returns the request, its execution and its task as listed. */
async function pendingRequest(): Promise<{ requestId: string; executionArn: string; task: Record<string, unknown> }> {
  const submitted = await stack.gateway(
    httpEvent({
      routeKey: 'POST /v1/requests',
      path: '/v1/requests',
      caller: requester,
      body: { text: 'Create a PO for Alpha Tech Systems for $9,100 of monitors' },
    }),
  );
  const { requestId } = bodyOf(submitted) as { requestId: string };
  const executionArn = `${stack.engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
  let task: Record<string, unknown> | undefined;
  for (let i = 0; i < 200 && !task; i++) {
    const listed = bodyOf(await stack.approval(httpEvent({ routeKey: 'GET /v1/tasks', path: '/v1/tasks', caller: procurement })));
    task = (listed.tasks as Record<string, unknown>[]).find((t) => t.requestId === requestId);
    if (!task) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!task) throw new Error('no task was listed');
  return { requestId, executionArn, task };
}

// Red team finding 4: the task's deadline was computed in the dehydrate step, after the wait's timer had started.
it("counts the task's deadline from the moment the wait began, a margin before the workflow stops waiting", async () => {
  const { executionArn, task } = await pendingRequest();
  const execution = await stack.engine.waitForEnd(executionArn);
  const entered = execution.history.find((e) => e.type === 'StateEntered' && e.stateName === 'AwaitApproval')!.timestamp;
  const timedOut = execution.history.find((e) => e.type === 'StateFailed' && e.stateName === 'AwaitApproval' && e.error === 'States.Timeout')!.timestamp;
  const expiresAt = Date.parse(String(task.expiresAt));
  const margin = deadlineMarginMs(TIMEOUT_SECONDS);

  expect(margin).toBe(200);
  // $$.State.EnteredTime is read in the same step that enters the state (the event's own clock reading may be a millisecond apart).
  expect(Math.abs(expiresAt - (entered + TIMEOUT_SECONDS * 1000 - margin))).toBeLessThanOrEqual(2);
  expect(timedOut - expiresAt).toBeGreaterThanOrEqual(margin);
});

it('ends EXPIRED, with request.finalized last, when the wait times out while an accepted decision is on its way', async () => {
  const { requestId, executionArn, task } = await pendingRequest();
  const states = stateStore();
  // The decision is accepted in time (it holds the task), then is held up until the workflow has timed out and finalized.
  const deps = {
    tasks: taskIndex(),
    requests: requestStore(),
    audit: auditLog(),
    orchestrator: orchestrator(),
    clock: clock(),
    states: {
      putCheckpoint: states.putCheckpoint.bind(states),
      getCheckpoint: async (key: string) => {
        await stack.engine.waitForEnd(executionArn);
        return states.getCheckpoint(key);
      },
    },
  };

  const decided = decideTask(procurement, String(task.taskId), { decision: 'approve', approvalToken: String(task.approvalToken) }, deps);

  await expect(decided).rejects.toMatchObject({ status: 410, code: 'task_expired' });
  const request = bodyOf(
    await stack.gateway(httpEvent({ routeKey: 'GET /v1/requests/{requestId}', path: `/v1/requests/${requestId}`, caller: requester, pathParameters: { requestId } })),
  );
  expect(request).toMatchObject({ status: 'EXPIRED', approval: { status: 'EXPIRED' } });
  expect(request.result).toBeUndefined();
  const trail = bodyOf(
    await stack.gateway(
      httpEvent({ routeKey: 'GET /v1/requests/{requestId}/audit', path: `/v1/requests/${requestId}/audit`, caller: requester, pathParameters: { requestId } }),
    ),
  ) as { verified: boolean; entries: { event: string; data: Record<string, unknown> }[] };
  expect(trail.verified).toBe(true);
  expect(trail.entries.at(-1)).toMatchObject({ event: 'request.finalized', data: { status: 'EXPIRED' } });
  expect(trail.entries.map((e) => e.event)).not.toContain('approval.decided');
  const listed = bodyOf(await stack.approval(httpEvent({ routeKey: 'GET /v1/tasks', path: '/v1/tasks', caller: procurement, query: { status: 'EXPIRED' } })));
  expect((listed.tasks as Record<string, unknown>[]).map((t) => t.taskId)).toContain(task.taskId);
});
