import { expectProblem, useTestServer } from '../../support/http-client';

/**
 * ticket_routing over HTTP, declared only in actions/ticket_routing/ (seed 003's low-risk row):
 * support-agents route open tickets with no human, except into the security queue, which a
 * support-lead approves. Seed: T-2001 is open, T-2002 closed.
 */

const agent = { sub: 'tr-sam', roles: ['support-agent'] };
const supportLead = { sub: 'tr-lee', roles: ['support-lead'] };
/** May ask for tier upgrades, not for ticket routing. */
const accountManager = { sub: 'tr-amy', roles: ['account-manager'] };

const { client } = useTestServer();

const routing = (fields: Record<string, unknown>) => ({
  text: 'Route a support ticket',
  action: 'ticket_routing',
  fields: { ticketId: 'T-2001', queue: 'billing', priority: 'normal', summary: 'customer was charged twice', ...fields },
});

it('an open ticket to billing COMPLETES with no human, with a receipt of the routing', async () => {
  const requestId = await client.submitOk(agent, routing({}));
  const done = await client.waitForStatus(agent, requestId, 'COMPLETED');
  expect(done).toMatchObject({ status: 'COMPLETED', action: 'ticket_routing', decision: { outcome: 'approved' } });
  expect(done.approval).toBeUndefined();
  expect(done.result).toEqual(
    expect.objectContaining({ routingId: expect.stringMatching(/^TR-/), ticketId: 'T-2001', queue: 'billing', priority: 'normal', routedAt: expect.any(String) }),
  );
});

it.each([
  ['a closed ticket (T-2002)', 'ticket_closed', 'T-2002'],
  ['an unknown ticket (T-9999)', 'ticket_not_found', 'T-9999'],
])('%s is REJECTED %s, with no result', async (_case, reason, ticketId) => {
  const requestId = await client.submitOk(agent, routing({ ticketId }));
  const done = await client.waitForStatus(agent, requestId, 'REJECTED');
  expect(done).toMatchObject({ status: 'REJECTED', action: 'ticket_routing', decision: { outcome: 'rejected', reasons: [reason] } });
  expect(done.result).toBeUndefined();
});

it('a ticket id not of the form T- and 4 to 8 digits is refused by the schema', async () => {
  const response = await client.submit(agent, routing({ ticketId: 'T-12' }));
  expect(response.status).toBe(400);
});

it('into the security queue waits for a support-lead (security_queue); approved, it COMPLETES', async () => {
  const requestId = await client.submitOk(agent, routing({ queue: 'security', priority: 'urgent', summary: 'suspected account takeover' }));
  const pending = await client.waitForStatus(agent, requestId, 'PENDING_APPROVAL');
  expect(pending).toMatchObject({ decision: { outcome: 'pending_approval', reasons: ['security_queue'] } });
  expect(pending.result).toBeUndefined();

  const task = await client.waitForTask(supportLead, requestId);
  expect(task).toMatchObject({ action: 'ticket_routing', reasons: ['security_queue'], approverRoles: ['support-lead'] });
  expect((await client.decide(supportLead, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
  expect(await client.waitForStatus(agent, requestId, 'COMPLETED')).toMatchObject({
    approval: { status: 'APPROVED', decidedBy: supportLead.sub },
    result: expect.objectContaining({ ticketId: 'T-2001', queue: 'security', priority: 'urgent' }),
  });
});

it('a requester without the support-agent role is 403 action_not_permitted', async () => {
  expectProblem(await client.submit(accountManager, routing({ queue: 'sales' })), 403, 'action_not_permitted');
});

it('free text names the action and its fields, and COMPLETES with no human', async () => {
  const requestId = await client.submitOk(agent, { text: 'Please assign high priority ticket T-2001 to technical, login fails after the password reset' });
  const done = await client.waitForStatus(agent, requestId, 'COMPLETED');
  expect(done).toMatchObject({
    status: 'COMPLETED',
    proposal: { action: 'ticket_routing', fields: { ticketId: 'T-2001', queue: 'technical', priority: 'high', summary: 'login fails after the password reset' } },
    result: expect.objectContaining({ ticketId: 'T-2001', queue: 'technical', priority: 'high' }),
  });
});
