import { expectProblem, useTestServer, type Json } from '../../support/http-client';

/**
 * The approval wait's timeout over HTTP (DESIGN.md §5), with a server whose
 * approvalTimeoutSeconds is 2: the request ends EXPIRED — never "rejected", never executed —
 * and a decision that comes late is 410 task_expired.
 */

const requester = { sub: 'ex-alice', roles: ['support-agent'] };
const procurement = { sub: 'ex-pat', roles: ['procurement-manager'] };

const { client } = useTestServer({ approvalTimeoutSeconds: 2 });

const body = {
  text: 'Monitors for the design team',
  action: 'purchase_order',
  fields: { vendor: 'Alpha Tech Systems', amount: 9100, description: 'monitors for the design team' },
};

it('an unanswered approval ends EXPIRED, never executed; a late decision is 410 task_expired', async () => {
  const requestId = await client.submitOk(requester, body);
  const task = await client.waitForTask(procurement, requestId);
  const waitMs = Date.parse(String(task.expiresAt)) - Date.parse(String(task.createdAt));
  expect(Math.abs(waitMs - 2000)).toBeLessThan(500);

  const done = await client.waitForStatus(requester, requestId, 'EXPIRED');
  expect(done).toMatchObject({
    status: 'EXPIRED',
    decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'] },
    approval: { taskId: task.taskId, status: 'EXPIRED' },
  });
  expect(done.result).toBeUndefined();
  expect((done.approval as Json).decidedBy).toBeUndefined();

  expect(await client.listedTask(procurement, requestId)).toBeUndefined();
  const late = await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken });
  expectProblem(late, 410, 'task_expired');

  const audit = await client.getAudit(requester, requestId);
  expect(audit.body.verified).toBe(true);
  const entries = audit.body.entries as { step: string; event: string; actor: { type: string } }[];
  expect(entries.map((e) => e.step)).not.toContain('Execute');
  expect(entries.filter((e) => e.actor.type === 'human').map((e) => e.step)).toEqual(['Submit']);

  // Still nothing executed later: the request stays EXPIRED.
  expect(await client.waitForStatus(requester, requestId, 'EXPIRED')).toMatchObject({ status: 'EXPIRED' });
});

it('the expired proposal was never executed: the same proposal may be submitted again and waits for approval', async () => {
  const requestId = await client.submitOk(requester, { ...body, text: 'Monitors for the design team, second try' });
  const pending = await client.waitForStatus(requester, requestId, 'PENDING_APPROVAL');
  expect(pending).toMatchObject({ status: 'PENDING_APPROVAL', decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'] } });
  // Decided in time, it runs: the expiry of the first request did not poison the second.
  const task = await client.waitForTask(procurement, requestId);
  const decided = await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken });
  expect(decided.status).toBe(200);
  expect(await client.waitForStatus(requester, requestId, 'COMPLETED')).toMatchObject({ status: 'COMPLETED', result: { amount: 9100 } });
});
