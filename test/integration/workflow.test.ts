import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { httpEvent } from '../support/http-events';

/**
 * The governed flow end to end, without AWS: the real ASL file on the local Step Functions, the
 * real handlers, the real adapters against the DynamoDB and S3 emulators. Assertions are what a
 * user sees: status codes, the request as GET returns it, the audit trail.
 */

const requester = { sub: 'alice', roles: ['support-agent'] };
const procurement = { sub: 'pat', roles: ['procurement-manager'] };
const financeDirector = { sub: 'fran', roles: ['finance-director'] };
const auditor = { sub: 'audrey', roles: ['auditor'] };

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack();
});

afterAll(async () => {
  await stack?.stop();
});

type Body = Record<string, unknown>;
const bodyOf = (response: APIGatewayProxyStructuredResultV2): Body => JSON.parse(String(response.body)) as Body;

async function submit(caller: { sub: string; roles: string[] }, body: unknown, headers: Record<string, string> = {}) {
  return stack.gateway(httpEvent({ routeKey: 'POST /v1/requests', path: '/v1/requests', caller, body, headers }));
}

async function getRequest(caller: { sub: string; roles: string[] }, requestId: string) {
  return stack.gateway(
    httpEvent({ routeKey: 'GET /v1/requests/{requestId}', path: `/v1/requests/${requestId}`, caller, pathParameters: { requestId } }),
  );
}

async function getAudit(caller: { sub: string; roles: string[] }, requestId: string) {
  return stack.gateway(
    httpEvent({
      routeKey: 'GET /v1/requests/{requestId}/audit',
      path: `/v1/requests/${requestId}/audit`,
      caller,
      pathParameters: { requestId },
    }),
  );
}

function executionArnOf(requestId: string): string {
  return `${stack.engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
}

/** Waits for the execution to end (the engine resolves it; no sleeping). */
async function settle(requestId: string) {
  return stack.engine.waitForEnd(executionArnOf(requestId));
}

/** Polls until the request reaches `status` (the execution is parked in the approval wait). */
async function until(requestId: string, status: string, caller = requester): Promise<Body> {
  for (let i = 0; i < 500; i++) {
    const current = bodyOf(await getRequest(caller, requestId));
    if (current.status === status) return current;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`request ${requestId} never reached ${status}`);
}

function transitions(requestId: string): number {
  return stack.engine.describeExecution(executionArnOf(requestId)).history.filter((e) => e.type === 'StateEntered').length;
}

async function listedTaskFor(caller: { sub: string; roles: string[] }, requestId: string) {
  const listed = await stack.approval(httpEvent({ routeKey: 'GET /v1/tasks', path: '/v1/tasks', caller }));
  expect(listed.statusCode).toBe(200);
  const tasks = bodyOf(listed).tasks as Body[];
  return tasks.find((t) => t.requestId === requestId);
}

/** Polls the approver's task list until the request's task shows up (it is indexed last). */
async function pendingTaskFor(caller: { sub: string; roles: string[] }, requestId: string) {
  for (let i = 0; i < 500; i++) {
    const task = await listedTaskFor(caller, requestId);
    if (task) return task;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no task for ${requestId} listed for ${caller.sub}`);
}

async function decide(caller: { sub: string; roles: string[] }, taskId: string, body: unknown) {
  return stack.approval(
    httpEvent({
      routeKey: 'POST /v1/tasks/{taskId}/decision',
      path: `/v1/tasks/${taskId}/decision`,
      caller,
      pathParameters: { taskId },
      body,
    }),
  );
}

describe('auto-approved purchase order (structured, no model)', () => {
  it('completes, executes once, and leaves a verified audit trail', async () => {
    const submitted = await submit(requester, {
      text: 'Office chairs from Globex',
      action: 'purchase_order',
      fields: { vendor: 'Globex Corporation', amount: 1200, description: 'office chairs' },
    });
    expect(submitted.statusCode).toBe(202);
    const { requestId, status } = bodyOf(submitted) as { requestId: string; status: string };
    expect(status).toBe('QUEUED');

    const execution = await settle(requestId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(transitions(requestId)).toBeLessThanOrEqual(8);

    const request = bodyOf(await getRequest(requester, requestId));
    expect(request).toMatchObject({
      requestId,
      status: 'COMPLETED',
      requestedBy: 'alice',
      action: 'purchase_order',
      route: 'deterministic',
      decision: { outcome: 'approved', reasons: [] },
    });
    expect((request.result as Body).purchaseOrderNumber).toMatch(/^PO-/);

    const audit = bodyOf(await getAudit(auditor, requestId));
    expect(audit.verified).toBe(true);
    const steps = (audit.entries as Body[]).map((e) => e.step);
    expect(steps).toEqual(['Submit', 'Triage', 'Validate', 'Execute', 'Finalize']);
  });
});

describe('purchase order above the autonomous limit (free text, rules provider)', () => {
  it('pauses for a procurement-manager, who approves; then it executes', async () => {
    const submitted = await submit(requester, { text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations' });
    expect(submitted.statusCode).toBe(202);
    const { requestId } = bodyOf(submitted) as { requestId: string };

    const pending = await until(requestId, 'PENDING_APPROVAL');
    expect(pending).toMatchObject({
      route: 'generative',
      proposal: { action: 'purchase_order', fields: { vendor: 'Alpha Tech Systems', amount: 7850 } },
      decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'] },
      approval: { status: 'PENDING' },
    });

    // The finance director is not this proposal's tier; the requester may not approve at all.
    const task = await pendingTaskFor(procurement, requestId);
    expect(await listedTaskFor(financeDirector, requestId)).toBeUndefined();
    expect(await listedTaskFor(requester, requestId)).toBeUndefined();
    expect(task).toBeDefined();
    expect(JSON.stringify(task)).not.toMatch(/taskToken/);

    const decided = await decide(procurement, String(task!.taskId), { decision: 'approve', approvalToken: task!.approvalToken, comment: 'ok' });
    expect(decided.statusCode).toBe(200);
    expect(bodyOf(decided)).toMatchObject({ requestId, status: 'APPROVED', decidedBy: 'pat' });

    const replay = await decide(procurement, String(task!.taskId), { decision: 'approve', approvalToken: task!.approvalToken });
    expect(replay.statusCode).toBe(409);
    expect(bodyOf(replay).code).toBe('task_already_decided');

    expect((await settle(requestId)).status).toBe('SUCCEEDED');
    expect(transitions(requestId)).toBeLessThanOrEqual(11);
    const done = bodyOf(await getRequest(requester, requestId));
    expect(done).toMatchObject({ status: 'COMPLETED', approval: { status: 'APPROVED', decidedBy: 'pat' } });
    expect((done.result as Body).purchaseOrderNumber).toMatch(/^PO-/);

    const audit = bodyOf(await getAudit(requester, requestId));
    expect(audit.verified).toBe(true);
    const humans = (audit.entries as Body[]).filter((e) => (e.actor as Body).type === 'human').map((e) => (e.actor as Body).id);
    expect(humans).toEqual(['alice', 'pat']);
  });

  it('ends REJECTED, with nothing executed, when the approver rejects', async () => {
    const { requestId } = bodyOf(await submit(requester, { text: 'Create a PO for Initech for $12,000 of laptops' })) as { requestId: string };
    await until(requestId, 'PENDING_APPROVAL');
    const task = await pendingTaskFor(procurement, requestId);
    const decided = await decide(procurement, String(task!.taskId), { decision: 'reject', approvalToken: task!.approvalToken });
    expect(decided.statusCode).toBe(200);
    await settle(requestId);
    const request = bodyOf(await getRequest(requester, requestId));
    expect(request).toMatchObject({ status: 'REJECTED', approval: { status: 'REJECTED', decidedBy: 'pat' } });
    expect(request.result).toBeUndefined();
  });
});

describe('policy rejections and visibility', () => {
  it('rejects an amount out of range without asking anyone', async () => {
    const { requestId } = bodyOf(
      await submit(requester, {
        text: 'A very large order',
        action: 'purchase_order',
        fields: { vendor: 'Initech', amount: 2_000_000, description: 'a building' },
      }),
    ) as { requestId: string };
    await settle(requestId);
    const request = bodyOf(await getRequest(requester, requestId));
    expect(request).toMatchObject({ status: 'REJECTED', decision: { outcome: 'rejected', reasons: ['amount_out_of_range'] } });
  });

  it('hides a request from another user (404) and shows it to an auditor', async () => {
    const { requestId } = bodyOf(
      await submit(requester, { text: 'x', action: 'purchase_order', fields: { vendor: 'Initech', amount: 10, description: 'pens' } }),
    ) as { requestId: string };
    await settle(requestId);
    expect((await getRequest({ sub: 'mallory', roles: ['support-agent'] }, requestId)).statusCode).toBe(404);
    expect((await getRequest(auditor, requestId)).statusCode).toBe(200);
  });
});
