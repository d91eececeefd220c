import { useTestServer, type Json } from '../../support/http-client';

/**
 * A two-step tier upgrade (basic → premium) waits for one account-manager (DESIGN.md §3). Its
 * own server: it needs C-1001, the only basic customer, still on basic. The rejected request is
 * declared first, so the approved one still finds C-1001 on basic.
 */

const agent = { sub: 'ms-sam', roles: ['support-agent'] };
const accountManager = { sub: 'ms-amy', roles: ['account-manager'] };
const supportLead = { sub: 'ms-lee', roles: ['support-lead'] };

const { client } = useTestServer();

it('free text basic → premium pauses with multi_step_upgrade; the account-manager rejects it; nothing changes', async () => {
  const requestId = await client.submitOk(agent, {
    text: 'Upgrade customer C-1001 from basic to premium from 2099-03-01, they need priority support',
  });
  const pending = await client.waitForStatus(agent, requestId, 'PENDING_APPROVAL');
  expect(pending).toMatchObject({
    status: 'PENDING_APPROVAL',
    route: 'generative',
    proposal: { action: 'tier_upgrade', fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'premium', effectiveDate: '2099-03-01' } },
    decision: { outcome: 'pending_approval', reasons: ['multi_step_upgrade'] },
  });

  const task = await client.waitForTask(accountManager, requestId);
  expect(task).toMatchObject({ action: 'tier_upgrade', reasons: ['multi_step_upgrade'], approverRoles: ['account-manager'] });
  const decided = await client.decide(accountManager, task.taskId, { decision: 'reject', approvalToken: task.approvalToken });
  expect(decided.status).toBe(200);

  const done = await client.waitForStatus(agent, requestId, 'REJECTED');
  expect(done).toMatchObject({ status: 'REJECTED', approval: { status: 'REJECTED', decidedBy: accountManager.sub } });
  expect(done.result).toBeUndefined();
});

it('structured basic → premium: only an account-manager sees it; approved, it COMPLETES', async () => {
  const requestId = await client.submitOk(agent, {
    text: 'Premium for C-1001',
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'premium', effectiveDate: '2099-04-01', justification: 'signed the enterprise contract' },
  });
  const task = await client.waitForTask(accountManager, requestId);
  expect(task).toMatchObject({ reasons: ['multi_step_upgrade'], approverRoles: ['account-manager'], requestedBy: agent.sub });
  expect(await client.listedTask(supportLead, requestId)).toBeUndefined();

  const detail = await client.getTask(accountManager, task.taskId);
  expect(detail.status).toBe(200);
  expect(detail.body.evidence).toMatchObject({
    tier: 'account-manager',
    proposal: { action: 'tier_upgrade', fields: { customerId: 'C-1001', targetTier: 'premium' } },
    decision: { outcome: 'pending_approval', reasons: ['multi_step_upgrade'] },
  });

  const decided = await client.decide(accountManager, task.taskId, { decision: 'approve', approvalToken: task.approvalToken });
  expect(decided.status).toBe(200);
  expect(decided.body).toMatchObject({ status: 'APPROVED', decidedBy: accountManager.sub });

  const done = await client.waitForStatus(agent, requestId, 'COMPLETED');
  expect(done).toMatchObject({
    status: 'COMPLETED',
    approval: { status: 'APPROVED', decidedBy: accountManager.sub },
    result: { customerId: 'C-1001', fromTier: 'basic', toTier: 'premium', effectiveDate: '2099-04-01' },
  });
  expect((done.approval as Json).taskId).toBe(task.taskId);
});
