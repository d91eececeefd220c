import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { seedSystemOfRecord } from '../../../lambdas/shared/adapters/aws/seed';
import { purchaseOrderKey, purchaseOrderNumber } from '../../../actions/purchase_order/builtin';
import { refundKey } from '../../../actions/refund/builtin';
import { tierChangeKey } from '../../../actions/tier_upgrade/builtin';
import { normalizeVendorName, recordKeys } from '../../../lambdas/shared/adapters/aws/systemOfRecord';
import { DuplicateEffect, EffectPreconditionFailed, InvalidInput } from '../../../lambdas/shared/errors';
import { newRequestId } from '../../../lambdas/shared/ids';
import { duplicateWindowStart, isValidatedVendor, vendorKey } from '../../../lambdas/shared/policy';
import type { CustomerTier, Proposal } from '../../../lambdas/shared/schemas/actions';
import { useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${++counter}`;
const at = '2026-06-01T12:00:00.000Z';

async function item(key: { pk: string; sk: string }) {
  const { Item } = await stores().doc.send(
    new GetCommand({ TableName: stores().emulators.tableNames.records, Key: key, ConsistentRead: true }),
  );
  return Item;
}

/** An order as the refund action's builtin seeds one. */
function anOrder(orderId: string, customerId: string, total: number) {
  return { type: 'ORDER', id: orderId, attributes: { orderId, customerId, total, currency: 'USD', refundedTotal: 0 } };
}

/** A customer (and optionally an order) of this test only, so tests never share state. */
async function aCustomer(tier: CustomerTier, orderTotal?: number) {
  const customerId = unique('C');
  const orderId = unique('O');
  await seedSystemOfRecord(stores().doc, stores().emulators.tableNames.records, {
    vendors: [],
    customers: [{ customerId, tier }],
    records: orderTotal === undefined ? [] : [anOrder(orderId, customerId, orderTotal)],
  });
  return { customerId, orderId };
}

function execute(requestId: string, proposal: Proposal, fingerprint = `fp-${requestId}`, when = at, windowStart?: string) {
  return stores().records.execute({ requestId, fingerprint, proposal, at: when, ...(windowStart ? { duplicateWindowStart: windowStart } : {}) });
}

const purchaseOrder = (amount = 7850): Proposal => ({
  action: 'purchase_order',
  fields: { vendor: 'Alpha Tech Systems', amount, currency: 'USD', description: 'workstations' },
});
// Dated the day the effect runs (`at`), so the tier moves at once; later dates are scheduled
// (test/unit/actions/tier-upgrade-schedule.test.ts).
const tierUpgrade = (customerId: string, currentTier: CustomerTier, targetTier: CustomerTier): Proposal => ({
  action: 'tier_upgrade',
  fields: { customerId, currentTier, targetTier, effectiveDate: at.slice(0, 10), justification: 'they outgrew their plan' },
});
const refund = (customerId: string, orderId: string, amount: number): Proposal => ({
  action: 'refund',
  fields: { customerId, orderId, amount, reason: 'item arrived damaged' },
});

describe('DynamoSystemOfRecord reads', () => {
  it('finds seeded vendors by name, ignoring case and surrounding or repeated spaces', async () => {
    expect(await stores().records.findVendor('Alpha Tech Systems')).toEqual({ name: 'Alpha Tech Systems', validated: true });
    expect(await stores().records.findVendor('  alpha  TECH systems ')).toEqual({ name: 'Alpha Tech Systems', validated: true });
    expect(await stores().records.findVendor('Umbrella Supplies')).toEqual({ name: 'Umbrella Supplies', validated: false });
    expect(await stores().records.findVendor('Acme')).toBeUndefined();
    expect(await stores().records.findVendor('   ')).toBeUndefined();
  });

  it('keys vendors with the one vendor-name comparison, so the table, the policy and the seed agree', async () => {
    // The seed writer uses recordKeys.vendor: its keys are vendorKey, unchanged for the ASCII seed names.
    expect(recordKeys.vendor('Alpha Tech Systems').pk).toBe('VENDOR#alpha tech systems');
    expect(normalizeVendorName).toBe(vendorKey);
    expect(await item(recordKeys.vendor('Alpha Tech Systems'))).toMatchObject({ name: 'Alpha Tech Systems', validated: true });
    // NFKC: a full-width spelling and a no-break space find the same record, which the policy accepts.
    const proposed = 'Ａｌｐｈａ\u00A0Tech  SYSTEMS';
    const found = await stores().records.findVendor(proposed);
    expect(found).toEqual({ name: 'Alpha Tech Systems', validated: true });
    expect(isValidatedVendor(found, proposed)).toBe(true);
  });

  it('reads seeded customers and orders; unknown or invalid ids are undefined', async () => {
    expect(await stores().records.getCustomer('C-1003')).toEqual({ customerId: 'C-1003', tier: 'premium' });
    expect(await stores().records.getOrder('O-5002')).toEqual({
      orderId: 'O-5002',
      customerId: 'C-1003',
      total: 2400,
      currency: 'USD',
      refundedTotal: 0,
    });
    expect(await stores().records.getCustomer('C-9999')).toBeUndefined();
    expect(await stores().records.getCustomer('C#1001')).toBeUndefined();
    expect(await stores().records.getOrder('../O-5001')).toBeUndefined();
    expect(await stores().records.findEffect('never-executed')).toBeUndefined();
  });

  it('re-seeding never resets state that has changed', async () => {
    const { customerId, orderId } = await aCustomer('standard', 450);
    await execute(newRequestId(), refund(customerId, orderId, 100));
    await seedSystemOfRecord(stores().doc, stores().emulators.tableNames.records, {
      vendors: [],
      customers: [{ customerId, tier: 'standard' }],
      records: [anOrder(orderId, customerId, 450)],
    });
    expect((await stores().records.getOrder(orderId))?.refundedTotal).toBe(100);
  });
});

describe('DynamoSystemOfRecord.execute: purchase orders', () => {
  it('creates the PO once; a retry returns the same receipt and writes nothing', async () => {
    const requestId = newRequestId();
    const receipt = await execute(requestId, purchaseOrder());
    expect(receipt).toEqual({
      purchaseOrderNumber: purchaseOrderNumber(requestId),
      vendor: 'Alpha Tech Systems',
      amount: 7850,
      currency: 'USD',
      description: 'workstations',
      createdAt: at,
    });
    expect(receipt.purchaseOrderNumber).toMatch(/^PO-[0-9A-F]{10}$/);
    const poKey = purchaseOrderKey(purchaseOrderNumber(requestId));
    const [poBefore, effectBefore] = [await item(poKey), await item(recordKeys.effect(`fp-${requestId}`))];
    expect(poBefore).toMatchObject({ requestId, amount: 7850 });

    expect(await execute(requestId, purchaseOrder(), undefined, '2026-06-02T00:00:00.000Z')).toEqual(receipt);
    expect(await item(poKey)).toEqual(poBefore);
    expect(await item(recordKeys.effect(`fp-${requestId}`))).toEqual(effectBefore);
    expect(await stores().records.findEffect(`fp-${requestId}`)).toEqual({ requestId, at });
  });

  it('refuses a second request with the same fingerprint and writes no PO for it', async () => {
    const [first, second] = [newRequestId(), newRequestId()];
    const fingerprint = unique('fp');
    await execute(first, purchaseOrder(), fingerprint);
    const duplicate = execute(second, purchaseOrder(), fingerprint);
    await expect(duplicate).rejects.toBeInstanceOf(DuplicateEffect);
    await expect(duplicate).rejects.toMatchObject({ code: 'duplicate_proposal' });
    expect(await item(purchaseOrderKey(purchaseOrderNumber(second)))).toBeUndefined();
    expect(await stores().records.findEffect(fingerprint)).toEqual({ requestId: first, at });
  });

  it('lets one of two concurrent requests with the same fingerprint through', async () => {
    const fingerprint = unique('fp');
    const results = await Promise.allSettled([newRequestId(), newRequestId()].map((id) => execute(id, purchaseOrder(), fingerprint)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(DuplicateEffect);
  });

  it('rejects an invalid requestId before writing anything', async () => {
    const fingerprint = unique('fp');
    await expect(execute('../r', purchaseOrder(), fingerprint)).rejects.toBeInstanceOf(InvalidInput);
    expect(await stores().records.findEffect(fingerprint)).toBeUndefined();
  });
});

describe('DynamoSystemOfRecord.execute: the duplicate window', () => {
  // The first execution is at 2026-06-01T12:00Z; a window that starts after it makes that claim stale.
  const staleAfter = '2026-06-02T00:00:00.000Z';
  const later = '2026-07-01T08:00:00.000Z';

  it('takes over a claim older than the window, and the new request’s effect is executed', async () => {
    const [first, second] = [newRequestId(), newRequestId()];
    const fingerprint = unique('fp');
    await execute(first, purchaseOrder(), fingerprint);
    const receipt = await execute(second, purchaseOrder(), fingerprint, later, staleAfter);
    expect(receipt).toMatchObject({ purchaseOrderNumber: purchaseOrderNumber(second), createdAt: later });
    expect(await stores().records.findEffect(fingerprint)).toEqual({ requestId: second, at: later });
    expect(await item(purchaseOrderKey(purchaseOrderNumber(first)))).toMatchObject({ requestId: first });
  });

  it('refuses a claim inside the window (or with no window given)', async () => {
    const [first, second] = [newRequestId(), newRequestId()];
    const fingerprint = unique('fp');
    await execute(first, purchaseOrder(), fingerprint);
    await expect(execute(second, purchaseOrder(), fingerprint, later, at)).rejects.toBeInstanceOf(DuplicateEffect);
    await expect(execute(second, purchaseOrder(), fingerprint, later, '2026-05-01T00:00:00.000Z')).rejects.toBeInstanceOf(DuplicateEffect);
    await expect(execute(second, purchaseOrder(), fingerprint, later)).rejects.toBeInstanceOf(DuplicateEffect);
    expect(await stores().records.findEffect(fingerprint)).toEqual({ requestId: first, at });
    expect(await item(purchaseOrderKey(purchaseOrderNumber(second)))).toBeUndefined();
  });

  it('a retry of the holder never moves its claim’s time forward', async () => {
    const requestId = newRequestId();
    const fingerprint = unique('fp');
    const receipt = await execute(requestId, purchaseOrder(), fingerprint);
    expect(await execute(requestId, purchaseOrder(), fingerprint, later, '2026-05-01T00:00:00.000Z')).toEqual(receipt);
    expect(await stores().records.findEffect(fingerprint)).toEqual({ requestId, at });
  });

  it('never takes over a claim that has no time', async () => {
    const fingerprint = unique('fp');
    const holder = newRequestId();
    await stores().doc.send(
      new PutCommand({
        TableName: stores().emulators.tableNames.records,
        Item: { ...recordKeys.effect(fingerprint), fingerprint, requestId: holder, action: 'purchase_order' },
      }),
    );
    expect(await stores().records.findEffect(fingerprint)).toEqual({ requestId: holder });
    await expect(execute(newRequestId(), purchaseOrder(), fingerprint, later, staleAfter)).rejects.toBeInstanceOf(DuplicateEffect);
  });

  it('lets exactly one of two concurrent requests take over a stale claim', async () => {
    const fingerprint = unique('fp');
    await execute(newRequestId(), purchaseOrder(), fingerprint);
    const contenders = [newRequestId(), newRequestId()];
    const results = await Promise.allSettled(contenders.map((id) => execute(id, purchaseOrder(), fingerprint, later, staleAfter)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEffect);
    expect(contenders).toContain((await stores().records.findEffect(fingerprint))?.requestId);
  });

  it('works with the window start the policy computes', async () => {
    const fingerprint = unique('fp');
    await execute(newRequestId(), purchaseOrder(), fingerprint, '2026-06-01T12:00:00.000Z');
    // 30 days after 2026-06-01 the claim is still inside; 31 days after, it is not.
    await expect(
      execute(newRequestId(), purchaseOrder(), fingerprint, later, duplicateWindowStart('purchase_order', '2026-07-01')),
    ).rejects.toBeInstanceOf(DuplicateEffect);
    await expect(execute(newRequestId(), purchaseOrder(), fingerprint, later, duplicateWindowStart('purchase_order', '2026-07-02'))).resolves.toBeDefined();
  });

  it.each(['2026-06-02', '2026-06-02T00:00:00Z', 'yesterday'])('rejects a window start %j that does not compare with stored times', async (windowStart) => {
    const fingerprint = unique('fp');
    await expect(execute(newRequestId(), purchaseOrder(), fingerprint, later, windowStart)).rejects.toBeInstanceOf(InvalidInput);
    expect(await stores().records.findEffect(fingerprint)).toBeUndefined();
  });
});

describe('DynamoSystemOfRecord.execute: tier upgrades', () => {
  it('moves the tier once; a retry returns the same receipt and changes nothing', async () => {
    const { customerId } = await aCustomer('basic');
    const requestId = newRequestId();
    const receipt = await execute(requestId, tierUpgrade(customerId, 'basic', 'standard'));
    expect(receipt).toEqual({ customerId, fromTier: 'basic', toTier: 'standard', effectiveDate: '2026-06-01', status: 'applied' });
    const customerBefore = await item(recordKeys.customer(customerId));
    expect(customerBefore).toMatchObject({ tier: 'standard', tierEffectiveDate: '2026-06-01', lastUpgradeRequestId: requestId });
    const changeBefore = await item(tierChangeKey(requestId));

    expect(await execute(requestId, tierUpgrade(customerId, 'basic', 'standard'), undefined, '2026-07-01T00:00:00.000Z')).toEqual(receipt);
    expect(await item(recordKeys.customer(customerId))).toEqual(customerBefore);
    expect(await item(tierChangeKey(requestId))).toEqual(changeBefore);
  });

  it('refuses a duplicate fingerprint from another request', async () => {
    const { customerId } = await aCustomer('basic');
    const fingerprint = unique('fp');
    await execute(newRequestId(), tierUpgrade(customerId, 'basic', 'standard'), fingerprint);
    await expect(execute(newRequestId(), tierUpgrade(customerId, 'basic', 'standard'), fingerprint)).rejects.toBeInstanceOf(
      DuplicateEffect,
    );
  });

  it('fails with tier_mismatch when the tier moved since validation, and frees the fingerprint', async () => {
    const { customerId } = await aCustomer('basic');
    await execute(newRequestId(), tierUpgrade(customerId, 'basic', 'standard'));
    const fingerprint = unique('fp');
    const stale = execute(newRequestId(), tierUpgrade(customerId, 'basic', 'premium'), fingerprint);
    await expect(stale).rejects.toBeInstanceOf(EffectPreconditionFailed);
    await expect(stale).rejects.toMatchObject({ code: 'tier_mismatch' });
    expect((await stores().records.getCustomer(customerId))?.tier).toBe('standard');
    expect(await stores().records.findEffect(fingerprint)).toBeUndefined();
  });

  it('fails with customer_not_found for an unknown customer and creates no customer', async () => {
    const customerId = unique('C');
    await expect(execute(newRequestId(), tierUpgrade(customerId, 'basic', 'standard'))).rejects.toMatchObject({
      code: 'customer_not_found',
    });
    expect(await item(recordKeys.customer(customerId))).toBeUndefined();
  });

  it('completes a retry whose first attempt moved the tier but stopped before recording it', async () => {
    const { customerId } = await aCustomer('basic');
    const requestId = newRequestId();
    await stores().doc.send(
      new UpdateCommand({
        TableName: stores().emulators.tableNames.records,
        Key: recordKeys.customer(customerId),
        UpdateExpression: 'SET tier = :to, tierEffectiveDate = :d, lastUpgradeRequestId = :rid',
        ExpressionAttributeValues: { ':to': 'standard', ':d': '2026-06-01', ':rid': requestId },
      }),
    );
    const receipt = await execute(requestId, tierUpgrade(customerId, 'basic', 'standard'));
    expect(receipt).toEqual({ customerId, fromTier: 'basic', toTier: 'standard', effectiveDate: '2026-06-01', status: 'applied' });
    expect(await item(tierChangeKey(requestId))).toMatchObject({ requestId, customerId });
  });

  it('a retry never re-applies its upgrade over a newer change to the tier', async () => {
    const { customerId } = await aCustomer('basic');
    const requestId = newRequestId();
    const table = stores().emulators.tableNames.records;
    // The first attempt moved basic → standard and stopped before recording it ...
    await stores().doc.send(
      new UpdateCommand({
        TableName: table,
        Key: recordKeys.customer(customerId),
        UpdateExpression: 'SET tier = :to, tierEffectiveDate = :d, lastUpgradeRequestId = :rid',
        ExpressionAttributeValues: { ':to': 'standard', ':d': '2026-06-01', ':rid': requestId },
      }),
    );
    // ... then the tier changed again by other means (lastUpgradeRequestId still names our request).
    await stores().doc.send(
      new UpdateCommand({
        TableName: table,
        Key: recordKeys.customer(customerId),
        UpdateExpression: 'SET tier = :t',
        ExpressionAttributeValues: { ':t': 'premium' },
      }),
    );
    const retry = execute(requestId, tierUpgrade(customerId, 'basic', 'standard'));
    await expect(retry).rejects.toMatchObject({ code: 'tier_mismatch' });
    expect(await stores().records.getCustomer(customerId)).toEqual({ customerId, tier: 'premium' });
    expect(await item(tierChangeKey(requestId))).toBeUndefined();
  });
});

describe('DynamoSystemOfRecord.execute: refunds', () => {
  it('refunds once; a retry returns the same receipt and the order is unchanged', async () => {
    const { customerId, orderId } = await aCustomer('standard', 450);
    const requestId = newRequestId();
    const receipt = await execute(requestId, refund(customerId, orderId, 120));
    expect(receipt).toEqual({
      refundId: expect.stringMatching(/^RF-[0-9A-F]{10}$/),
      orderId,
      customerId,
      amount: 120,
      currency: 'USD',
      refundedTotalAfter: 120,
    });
    const orderBefore = await item(recordKeys.order(orderId));
    expect(orderBefore).toMatchObject({ refundedTotal: 120, refundIds: new Set([requestId]) });

    expect(await execute(requestId, refund(customerId, orderId, 120), undefined, '2026-07-01T00:00:00.000Z')).toEqual(receipt);
    expect(await item(recordKeys.order(orderId))).toEqual(orderBefore);
  });

  it('refuses a duplicate fingerprint from another request without refunding again', async () => {
    const { customerId, orderId } = await aCustomer('standard', 450);
    const fingerprint = unique('fp');
    await execute(newRequestId(), refund(customerId, orderId, 120), fingerprint);
    await expect(execute(newRequestId(), refund(customerId, orderId, 120), fingerprint)).rejects.toBeInstanceOf(DuplicateEffect);
    expect((await stores().records.getOrder(orderId))?.refundedTotal).toBe(120);
  });

  it('refuses a refund beyond what remains, but allows exactly the remainder', async () => {
    const { customerId, orderId } = await aCustomer('standard', 450);
    await execute(newRequestId(), refund(customerId, orderId, 120.1));
    const tooMuch = execute(newRequestId(), refund(customerId, orderId, 330));
    await expect(tooMuch).rejects.toBeInstanceOf(EffectPreconditionFailed);
    await expect(tooMuch).rejects.toMatchObject({ code: 'refund_exceeds_order' });
    expect((await stores().records.getOrder(orderId))?.refundedTotal).toBe(120.1);

    const rest = await execute(newRequestId(), refund(customerId, orderId, 329.9));
    expect(rest.refundedTotalAfter).toBe(450);
    await expect(execute(newRequestId(), refund(customerId, orderId, 0.01))).rejects.toMatchObject({ code: 'refund_exceeds_order' });
    await expect(execute(newRequestId(), refund(customerId, orderId, 451))).rejects.toMatchObject({ code: 'refund_exceeds_order' });
  });

  it('lets only one of two concurrent refunds that together exceed the order through', async () => {
    const { customerId, orderId } = await aCustomer('standard', 450);
    const results = await Promise.allSettled([newRequestId(), newRequestId()].map((id) => execute(id, refund(customerId, orderId, 300))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await stores().records.getOrder(orderId))?.refundedTotal).toBe(300);
  });

  it('fails with order_not_found for an unknown order or another customer', async () => {
    const { orderId } = await aCustomer('standard', 450);
    const other = await aCustomer('basic');
    await expect(execute(newRequestId(), refund(other.customerId, orderId, 10))).rejects.toMatchObject({ code: 'order_not_found' });
    await expect(execute(newRequestId(), refund(other.customerId, unique('O'), 10))).rejects.toMatchObject({
      code: 'order_not_found',
    });
    expect((await stores().records.getOrder(orderId))?.refundedTotal).toBe(0);
  });

  it('completes a retry whose first attempt refunded but stopped before recording it', async () => {
    const { customerId, orderId } = await aCustomer('standard', 450);
    const requestId = newRequestId();
    await stores().doc.send(
      new UpdateCommand({
        TableName: stores().emulators.tableNames.records,
        Key: recordKeys.order(orderId),
        UpdateExpression: 'SET refundedTotal = refundedTotal + :a ADD refundIds :ids',
        ExpressionAttributeValues: { ':a': 120, ':ids': new Set([requestId]) },
      }),
    );
    const receipt = await execute(requestId, refund(customerId, orderId, 120));
    expect(receipt).toMatchObject({ orderId, amount: 120, refundedTotalAfter: 120 });
    expect((await stores().records.getOrder(orderId))?.refundedTotal).toBe(120);
    expect(await item(refundKey(requestId))).toMatchObject({ requestId, amount: 120 });
  });
});
