import { expectProblem, useTestServer, type Caller } from '../../support/http-client';

/**
 * Who may decide an approval task, and how a decision is consumed (API.md "Approval tasks",
 * DESIGN.md §5): role and tier from the verified token only, nobody decides their own request,
 * the approval token is single use, and of two concurrent decisions exactly one wins.
 */

const requester = { sub: 'ap-alice', roles: ['support-agent'] };
const procurement = { sub: 'ap-pat', roles: ['procurement-manager'] };
const procurement2 = { sub: 'ap-pia', roles: ['procurement-manager'] };
const finance = { sub: 'ap-fran', roles: ['finance-director'] };
const supportLead = { sub: 'ap-lee', roles: ['support-lead'] };

const { client } = useTestServer();

let lot = 0;
/**
 * A purchase order pending for `approver`, unique per call (no duplicate_proposal between tests).
 * Limits are cumulative per requester and vendor: the procurement-manager's orders alternate
 * between two vendors so that their totals stay in that tier; the finance-director's go to a third.
 */
async function pendingPurchaseOrder(approver: Caller, amount = 7000, by: Caller = requester) {
  lot += 1;
  const vendor = approver === finance ? 'Initech' : lot % 2 === 0 ? 'Alpha Tech Systems' : 'Globex Corporation';
  const requestId = await client.submitOk(by, {
    text: `Approver rules lot ${lot}`,
    action: 'purchase_order',
    fields: { vendor, amount: amount + lot, description: `approver rules lot ${lot}` },
  });
  const task = await client.waitForTask(approver, requestId);
  return { requestId, task };
}

describe('authority', () => {
  it('a caller without the approver role: not listed, GET 404, decision 403 not_authorized_approver', async () => {
    const { requestId, task } = await pendingPurchaseOrder(procurement);
    expect(await client.listedTask(supportLead, requestId)).toBeUndefined();
    expectProblem(await client.getTask(supportLead, task.taskId), 404, 'not_found');
    expectProblem(await client.decide(supportLead, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }), 403, 'not_authorized_approver');
    // A refused decision consumed nothing: the task is still there to decide.
    expect(await client.waitForStatus(requester, requestId, 'PENDING_APPROVAL')).toMatchObject({ status: 'PENDING_APPROVAL', approval: { status: 'PENDING' } });
    expect((await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
  });

  it('the wrong tier: a procurement-manager on a ≥ 50,000 order is refused with 403, the finance director is not', async () => {
    const { requestId, task } = await pendingPurchaseOrder(finance, 55_000);
    expect(task.approverRoles).toEqual(['finance-director']);
    expect(await client.listedTask(procurement, requestId)).toBeUndefined();
    expectProblem(await client.getTask(procurement, task.taskId), 404, 'not_found');
    expectProblem(await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }), 403, 'not_authorized_approver');
    expect((await client.decide(finance, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
    expect(await client.waitForStatus(requester, requestId, 'COMPLETED')).toMatchObject({ status: 'COMPLETED', approval: { decidedBy: finance.sub } });
  });

  it('self-approval: a requester who holds the approver role does not see the task and gets 403 self_approval_forbidden', async () => {
    const selfish = { sub: 'ap-sally', roles: ['support-agent', 'procurement-manager'] };
    const { requestId, task } = await pendingPurchaseOrder(procurement, 8000, selfish);
    expect(task.requestedBy).toBe(selfish.sub);
    expect(await client.listedTask(selfish, requestId)).toBeUndefined();
    expectProblem(await client.getTask(selfish, task.taskId), 404, 'not_found');
    expectProblem(await client.decide(selfish, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }), 403, 'self_approval_forbidden');
    expect(await client.waitForStatus(selfish, requestId, 'PENDING_APPROVAL')).toMatchObject({ status: 'PENDING_APPROVAL' });
  });
});

describe('the approval token', () => {
  it('a wrong token is 409 approval_token_mismatch and consumes nothing; the right one then works', async () => {
    const { requestId, task } = await pendingPurchaseOrder(procurement);
    const wrong = await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: `${task.approvalToken}x` });
    expectProblem(wrong, 409, 'approval_token_mismatch');
    expect(wrong.text).not.toContain(task.approvalToken);
    expect(await client.listedTask(procurement, requestId)).toMatchObject({ taskId: task.taskId, approvalToken: task.approvalToken });
    expect((await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
  });

  it('a replay of a decided task is 409 task_already_decided, whatever it asks for and whoever sends it', async () => {
    const { requestId, task } = await pendingPurchaseOrder(procurement);
    expect((await client.decide(procurement, task.taskId, { decision: 'reject', approvalToken: task.approvalToken })).status).toBe(200);
    expectProblem(await client.decide(procurement, task.taskId, { decision: 'reject', approvalToken: task.approvalToken }), 409, 'task_already_decided');
    expectProblem(await client.decide(procurement2, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }), 409, 'task_already_decided');
    const done = await client.waitForStatus(requester, requestId, 'REJECTED');
    expect(done).toMatchObject({ status: 'REJECTED', approval: { status: 'REJECTED', decidedBy: procurement.sub } });
    expect(done.result).toBeUndefined();
  });

  it('two concurrent decisions: exactly one 200 and one 409, and the request follows the winner', async () => {
    const { requestId, task } = await pendingPurchaseOrder(procurement);
    const [approve, reject] = await Promise.all([
      client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }),
      client.decide(procurement2, task.taskId, { decision: 'reject', approvalToken: task.approvalToken }),
    ]);
    expect([approve.status, reject.status].sort()).toEqual([200, 409]);
    const loser = approve.status === 409 ? approve : reject;
    expectProblem(loser, 409, 'task_already_decided');

    const approved = approve.status === 200;
    const done = await client.waitForStatus(requester, requestId, approved ? 'COMPLETED' : 'REJECTED');
    expect(done).toMatchObject({
      status: approved ? 'COMPLETED' : 'REJECTED',
      approval: { status: approved ? 'APPROVED' : 'REJECTED', decidedBy: approved ? procurement.sub : procurement2.sub },
    });
    const decisions = ((await client.getAudit(requester, requestId)).body.entries as { step: string; event: string }[]).filter(
      (e) => e.event === 'approval.decided',
    );
    expect(decisions).toHaveLength(1);
  });
});

describe('the task list', () => {
  it('pages with limit and nextToken: every task the caller may decide, once', async () => {
    for (let i = 0; i < 3; i++) await pendingPurchaseOrder(procurement);
    const all = await client.listTasks(procurement, 'limit=100');
    expect(all.status).toBe(200);
    const expected = (all.body.tasks as { taskId: string }[]).map((task) => task.taskId);
    expect(expected.length).toBeGreaterThanOrEqual(3);

    const paged: string[] = [];
    let query = 'limit=1';
    for (let page = 0; page < 50; page++) {
      const response = await client.listTasks(procurement, query);
      expect(response.status).toBe(200);
      const tasks = response.body.tasks as { taskId: string; status: string }[];
      expect(tasks.length).toBeLessThanOrEqual(1);
      paged.push(...tasks.map((task) => task.taskId));
      const next = response.body.nextToken;
      if (typeof next !== 'string') break;
      query = `limit=1&nextToken=${encodeURIComponent(next)}`;
    }
    expect(paged.sort()).toEqual([...expected].sort());
  });

  it('a nextToken that no page gave out is a 4xx problem, never 500', async () => {
    const response = await client.listTasks(procurement, 'nextToken=not-a-page-token');
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('task ids', () => {
  it('an unknown task id is 404 on GET and on decision', async () => {
    expectProblem(await client.getTask(procurement, 't_doesnotexist000000000000'), 404, 'not_found');
    expectProblem(await client.decide(procurement, 't_doesnotexist000000000000', { decision: 'approve', approvalToken: 'abc' }), 404, 'not_found');
  });

  const hostile: [string, string][] = [
    ['a path traversal', encodeURIComponent('../x')],
    ['a deeper traversal', encodeURIComponent('../../checkpoints/r_1/t_1.json')],
    ['300 characters', 't'.repeat(300)],
    ['a literal "%00"', encodeURIComponent('%00')],
    ['a NUL byte', '%00'],
    ['a newline', '%0A'],
    ['quotes and angle brackets', encodeURIComponent(`"'><script>`)],
    ['a malformed escape', '%E0%A4%A'],
  ];

  it.each(hostile)('%s as a task id is 404 problem+json on GET and on decision, never 500', async (_name, rawId) => {
    const token = await client.tokenFor(procurement);
    expectProblem(await client.call(`/v1/tasks/${rawId}`, { token }), 404, 'not_found');
    expectProblem(
      await client.call(`/v1/tasks/${rawId}/decision`, { token, body: { decision: 'approve', approvalToken: 'abc' } }),
      404,
      'not_found',
    );
  });
});
