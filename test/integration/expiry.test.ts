import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { httpEvent } from '../support/http-events';

/** The approval wait's TimeoutSeconds, with a stack whose timeout is two seconds. */

const requester = { sub: 'alice', roles: ['support-agent'] };
const procurement = { sub: 'pat', roles: ['procurement-manager'] };

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ approvalTimeoutSeconds: 2 });
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
