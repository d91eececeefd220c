import { useTestServer, type Json } from '../../support/http-client';

/**
 * Issue 12, findings 1–3, as the red team sent them: limits read what is already committed to
 * the same counterparty, executed or still in flight, and concurrent requests cannot both slip
 * under one. Each test uses its own vendor, order or customer, so the figures are its own.
 */

const { client } = useTestServer();

const nobody = (sub: string) => ({ sub, roles: [] as string[] });
const agent = { sub: 'cl-agent', roles: ['support-agent'] };
const procurementManager = { sub: 'cl-pm', roles: ['procurement-manager'] };
const financeDirector = { sub: 'cl-fd', roles: ['finance-director'] };
const supportLead = { sub: 'cl-lead', roles: ['support-lead'] };

const po = (vendor: string, amount: number, description: string) => ({
  text: 'Create a purchase order',
  action: 'purchase_order',
  fields: { vendor, amount, currency: 'USD', description },
});

const RESTING = ['COMPLETED', 'PENDING_APPROVAL', 'REJECTED', 'FAILED', 'EXPIRED'];

async function settled(caller: { sub: string; roles: string[] }, requestIds: string[]): Promise<Json[]> {
  return Promise.all(requestIds.map((id) => client.waitForStatus(caller, id, ...RESTING)));
}

/** The cumulative figure the approval packet shows under `name`. */
async function packetFigure(approver: { sub: string; roles: string[] }, requestId: string, name: string): Promise<Json | undefined> {
  const task = await client.waitForTask(approver, requestId);
  const detail = await client.getTask(approver, task.taskId);
  expect(detail.status).toBe(200);
  const figures = (detail.body.evidence as { decision: { cumulative?: Json[] } }).decision.cumulative ?? [];
  return figures.find((figure) => figure.name === name);
}

it('finding 1: five concurrent POs of $4,999.99 to one vendor: one runs with no human, four wait for one', async () => {
  const requester = nobody('cl-splitter');
  const ids = await Promise.all(
    [1, 2, 3, 4, 5].map((i) => client.submitOk(requester, po('Globex Corporation', 4999.99, `server rack part ${i} of 5`))),
  );
  const views = await settled(requester, ids);
  const statuses = views.map((view) => view.status);
  expect(statuses.filter((s) => s === 'COMPLETED')).toHaveLength(1);
  expect(statuses.filter((s) => s === 'PENDING_APPROVAL')).toHaveLength(4);
  for (const view of views.filter((v) => v.status === 'PENDING_APPROVAL')) {
    expect(view.decision).toMatchObject({ outcome: 'pending_approval', reasons: ['above_autonomous_limit'] });
  }
});

it('finding 1, per vendor overall: a second requester cannot add to what another already moved to the vendor with no human', async () => {
  const first = await client.submitOk(nobody('cl-ann'), po('Initech', 3000, 'monitors for the new office'));
  expect((await client.waitForStatus(nobody('cl-ann'), first, 'COMPLETED', 'PENDING_APPROVAL')).status).toBe('COMPLETED');
  const second = await client.submitOk(nobody('cl-bob'), po('Initech', 3000, 'docking stations for the new office'));
  const view = await client.waitForStatus(nobody('cl-bob'), second, ...RESTING);
  expect(view).toMatchObject({ status: 'PENDING_APPROVAL', decision: { reasons: ['above_autonomous_limit'] } });
  expect(await packetFigure(procurementManager, second, 'vendor')).toMatchObject({ total: 6000, unit: 'USD', windowDays: 30 });
});

it('finding 3: $60,000 as 2 × $30,000 goes to the finance-director the whole would need; a rejection frees its share', async () => {
  const requester = nobody('cl-splits-approver');
  const first = await client.submitOk(requester, po('Alpha Tech Systems', 30000, 'workstations, batch 1'));
  await client.waitForStatus(requester, first, 'PENDING_APPROVAL');
  expect((await client.waitForTask(procurementManager, first)).approverRoles).toEqual(['procurement-manager']);

  const second = await client.submitOk(requester, po('Alpha Tech Systems', 30000, 'workstations, batch 2'));
  await client.waitForStatus(requester, second, 'PENDING_APPROVAL');
  const task = await client.waitForTask(financeDirector, second);
  expect(task.approverRoles).toEqual(['finance-director']);
  expect(await packetFigure(financeDirector, second, 'requesterVendor')).toMatchObject({ total: 60000, unit: 'USD', windowDays: 30 });

  // Rejected, the second no longer counts: $15,000 more makes $45,000, a procurement-manager's.
  expect((await client.decide(financeDirector, task.taskId, { decision: 'reject', approvalToken: task.approvalToken })).status).toBe(200);
  await client.waitForStatus(requester, second, 'REJECTED');
  const third = await client.submitOk(requester, po('Alpha Tech Systems', 15000, 'workstations, batch 3'));
  await client.waitForStatus(requester, third, 'PENDING_APPROVAL');
  expect((await client.waitForTask(procurementManager, third)).approverRoles).toEqual(['procurement-manager']);
  expect(await packetFigure(procurementManager, third, 'requesterVendor')).toMatchObject({ total: 45000 });

  // Another requester's $30,000 to the same vendor is counted with theirs alone for the tier, with everyone's for the vendor.
  const other = nobody('cl-other-requester');
  const fourth = await client.submitOk(other, po('Alpha Tech Systems', 30000, 'workstations for another team'));
  await client.waitForStatus(other, fourth, 'PENDING_APPROVAL');
  expect((await client.waitForTask(procurementManager, fourth)).approverRoles).toEqual(['procurement-manager']);
  expect(await packetFigure(procurementManager, fourth, 'requesterVendor')).toMatchObject({ total: 30000 });
  expect(await packetFigure(procurementManager, fourth, 'vendor')).toMatchObject({ total: 75000 });
});

it("finding 3: O-5002's $2,400 refunded as 3 × $800 needs the finance-director from the second", async () => {
  const refund = (i: number) => ({
    text: 'Refund on an order',
    action: 'refund',
    fields: { customerId: 'C-1003', orderId: 'O-5002', amount: 800, reason: `partial refund ${i} of 3, late delivery` },
  });
  const ids: string[] = [];
  for (const i of [1, 2, 3]) {
    const id = await client.submitOk(agent, refund(i));
    await client.waitForStatus(agent, id, 'PENDING_APPROVAL');
    ids.push(id);
  }
  expect((await client.waitForTask(supportLead, ids[0])).approverRoles).toEqual(['support-lead']);
  expect((await client.waitForTask(financeDirector, ids[1])).approverRoles).toEqual(['finance-director']);
  expect((await client.waitForTask(financeDirector, ids[2])).approverRoles).toEqual(['finance-director']);
  expect(await packetFigure(financeDirector, ids[2], 'order')).toMatchObject({ total: 2400, unit: 'USD' });
});

it('finding 2: two one-step tier upgrades a second apart: the second waits for an account manager', async () => {
  const today = new Date().toISOString().slice(0, 10);
  const upgrade = (currentTier: string, targetTier: string) => ({
    text: 'Upgrade a customer',
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier, targetTier, effectiveDate: today, justification: 'they outgrew their plan' },
  });
  const first = await client.submitOk(agent, upgrade('basic', 'standard'));
  expect((await client.waitForStatus(agent, first, ...RESTING)).status).toBe('COMPLETED');
  const second = await client.submitOk(agent, upgrade('standard', 'premium'));
  const view = await client.waitForStatus(agent, second, ...RESTING);
  expect(view).toMatchObject({ status: 'PENDING_APPROVAL', decision: { reasons: ['multi_step_upgrade'] } });
  expect(await packetFigure({ sub: 'cl-am', roles: ['account-manager'] }, second, 'customerSteps')).toMatchObject({ total: 2, unit: 'steps', windowDays: 90 });
});
