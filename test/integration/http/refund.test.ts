import { expectProblem, useTestServer, type Json } from '../../support/http-client';

/**
 * refund over HTTP (DESIGN.md §3): only support-agents may ask; the order must exist and belong
 * to the customer; the amount must fit what is left on the order; every refund waits for a
 * human with a dry-run attached — a support-lead under 1,000, a finance-director from 1,000.
 *
 * Seed: O-5001 belongs to C-1002 ($450), O-5002 to C-1003 ($2,400). Only the $120 refund on
 * O-5001 executes here before the "what is left" test, which is declared after it.
 */

const agent = { sub: 'rf-sue', roles: ['support-agent'] };
const supportLead = { sub: 'rf-lee', roles: ['support-lead'] };
const finance = { sub: 'rf-fran', roles: ['finance-director'] };
/** May ask for tier upgrades, not for refunds. */
const accountManager = { sub: 'rf-amy', roles: ['account-manager'] };

const { client } = useTestServer();

const refund = (fields: Record<string, unknown>, text = 'Refund for a customer') => ({ text, action: 'refund', fields: { reason: 'item arrived damaged', ...fields } });

describe('who may ask', () => {
  it.each([
    ['with fields', refund({ customerId: 'C-1002', orderId: 'O-5001', amount: 20 })],
    ['without fields', { text: 'Refund $20 on order O-5001 for customer C-1002, item arrived damaged', action: 'refund' }],
  ])('naming the action (%s) without the support-agent role is 403 action_not_permitted at once', async (_form, body) => {
    const response = await client.submit(accountManager, body);
    expectProblem(response, 403, 'action_not_permitted');
  });

  it('the same ask in free text is accepted, then REJECTED action_not_permitted, with no task for anyone', async () => {
    const requestId = await client.submitOk(accountManager, { text: 'Refund $25 on order O-5001 for customer C-1002, box was empty' });
    const done = await client.waitForStatus(accountManager, requestId, 'REJECTED');
    expect(done).toMatchObject({ status: 'REJECTED', action: 'refund', decision: { outcome: 'rejected', reasons: ['action_not_permitted'] } });
    expect(done.result).toBeUndefined();
    expect(done.approval).toBeUndefined();
    expect(await client.listedTask(supportLead, requestId)).toBeUndefined();
  });
});

describe('policy rejections', () => {
  it.each([
    ['more than the order total (structured)', 'refund_exceeds_order', refund({ customerId: 'C-1002', orderId: 'O-5001', amount: 450.01 })],
    ['more than the order total (free text)', 'refund_exceeds_order', { text: 'Refund $500 on order O-5001 for customer C-1002, customer changed their mind' }],
    ["someone else's order (structured)", 'order_not_found', refund({ customerId: 'C-1003', orderId: 'O-5001', amount: 20 })],
    ["someone else's order (free text)", 'order_not_found', { text: 'Refund $20 on order O-5002 for customer C-1002, item arrived damaged' }],
    ['an order that does not exist', 'order_not_found', refund({ customerId: 'C-1002', orderId: 'O-9999', amount: 20 })],
  ])('%s is REJECTED %s', async (_case, reason, body) => {
    const requestId = await client.submitOk(agent, body);
    const done = await client.waitForStatus(agent, requestId, 'REJECTED');
    expect(done).toMatchObject({ status: 'REJECTED', action: 'refund', decision: { outcome: 'rejected', reasons: [reason] } });
    expect(done.result).toBeUndefined();
    expect(done.approval).toBeUndefined();
  });
});

describe('every refund waits for a human, with a dry-run', () => {
  it('the seed phrasing ($120 on O-5001) goes to a support-lead with the dry-run as evidence; approved, it COMPLETES', async () => {
    const requestId = await client.submitOk(agent, { text: 'Refund $120 on order O-5001 for customer C-1002, item arrived damaged' });
    const pending = await client.waitForStatus(agent, requestId, 'PENDING_APPROVAL');
    expect(pending).toMatchObject({
      status: 'PENDING_APPROVAL',
      route: 'generative',
      proposal: { action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: expect.any(String) } },
      decision: { outcome: 'pending_approval', reasons: ['high_risk_action'] },
    });

    const listed = await client.waitForTask(supportLead, requestId);
    expect(listed).toMatchObject({ action: 'refund', reasons: ['high_risk_action'], approverRoles: ['support-lead'] });
    expect(await client.listedTask(finance, requestId)).toBeUndefined();

    const detail = await client.getTask(supportLead, listed.taskId);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ ...listed, evidence: expect.any(Object) });
    expect(detail.body.evidence).toMatchObject({
      tier: 'support-lead',
      proposal: { action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120 } },
      decision: { outcome: 'pending_approval', reasons: ['high_risk_action'] },
      confidence: expect.any(Number),
      model: { provider: 'rules' },
      triageReason: expect.any(String),
      dryRun: { orderId: 'O-5001', customerId: 'C-1002', orderTotal: 450, alreadyRefunded: 0, refundAmount: 120, remainingAfterRefund: 330 },
    });

    const decided = await client.decide(supportLead, listed.taskId, { decision: 'approve', approvalToken: listed.approvalToken });
    expect(decided.status).toBe(200);
    const done = await client.waitForStatus(agent, requestId, 'COMPLETED');
    expect(done).toMatchObject({ status: 'COMPLETED', approval: { status: 'APPROVED', decidedBy: supportLead.sub } });
    expect(done.result).toEqual(expect.objectContaining({ orderId: 'O-5001', amount: 120 }));
  });

  it('after that refund only $330 is left on O-5001: $400 more is REJECTED refund_exceeds_order', async () => {
    const requestId = await client.submitOk(agent, refund({ customerId: 'C-1002', orderId: 'O-5001', amount: 400, reason: 'second complaint' }));
    expect(await client.waitForStatus(agent, requestId, 'REJECTED')).toMatchObject({ decision: { reasons: ['refund_exceeds_order'] } });
  });

  // Before any other refund on O-5002: the tier reads every refund on the order
  // (cumulative-limits.test.ts), so this one is the first. It is left waiting.
  it('just under 1,000 (999.99, the first refund on O-5002) stays with a support-lead', async () => {
    const requestId = await client.submitOk(agent, refund({ customerId: 'C-1003', orderId: 'O-5002', amount: 999.99, reason: 'partial outage credit' }));
    expect(await client.waitForTask(supportLead, requestId)).toMatchObject({ approverRoles: ['support-lead'] });
    expect(await client.listedTask(finance, requestId)).toBeUndefined();
  });

  it('≥ 1,000 (O-5002) is the finance-director tier: the support-lead cannot see or decide it', async () => {
    const requestId = await client.submitOk(agent, refund({ customerId: 'C-1003', orderId: 'O-5002', amount: 1000, reason: 'service outage credit' }));
    const task = await client.waitForTask(finance, requestId);
    expect(task).toMatchObject({ reasons: ['high_risk_action'], approverRoles: ['finance-director'] });
    expect(await client.listedTask(supportLead, requestId)).toBeUndefined();
    expectProblem(await client.getTask(supportLead, task.taskId), 404, 'not_found');
    expectProblem(await client.decide(supportLead, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }), 403, 'not_authorized_approver');

    const detail = await client.getTask(finance, task.taskId);
    expect((detail.body.evidence as Json).dryRun).toMatchObject({ orderId: 'O-5002', orderTotal: 2400, refundAmount: 1000, remainingAfterRefund: 1400 });
    expect((await client.decide(finance, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
    expect(await client.waitForStatus(agent, requestId, 'COMPLETED')).toMatchObject({
      status: 'COMPLETED',
      approval: { status: 'APPROVED', decidedBy: finance.sub },
      result: expect.objectContaining({ orderId: 'O-5002', amount: 1000 }),
    });
  });
});
