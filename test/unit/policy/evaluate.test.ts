import {
  canRequest,
  duplicateWindowStart,
  evaluatePolicy,
  isWithinDuplicateWindow,
  moneyToCents,
  shippedPolicies,
  utcToday,
  vendorKey,
} from '../../../lambdas/shared/policy';
import type { PolicyFacts } from '../../../lambdas/shared/policy';
import type { Customer, Order, Vendor } from '../../../lambdas/shared/ports';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

const TODAY = '2026-11-15';
const PO_POLICY = { id: 'purchase-order', version: '2026-12-03' };
const TU_POLICY = { id: 'tier-upgrade', version: '2026-12-04' };
const REFUND_POLICY = { id: 'refund', version: '2026-12-03' };

function purchaseOrder(amount: number, vendor = 'Alpha Tech Systems'): Proposal {
  return { action: 'purchase_order', fields: { vendor, amount, currency: 'USD', description: 'workstations' } };
}
function vendor(name: string, validated = true): Vendor {
  return { name, validated };
}
function tierUpgrade(fields: Partial<Extract<Proposal, { action: 'tier_upgrade' }>['fields']> = {}): Proposal {
  return {
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: 'they outgrew their plan', ...fields },
  };
}
function customer(customerId: string, tier: Customer['tier']): Customer {
  return { customerId, tier };
}
function refund(amount: number, orderId = 'O-5001', customerId = 'C-1002'): Proposal {
  return { action: 'refund', fields: { customerId, orderId, amount, reason: 'item arrived damaged' } };
}
function order(overrides: Partial<Order> = {}): Order {
  return { orderId: 'O-5001', customerId: 'C-1002', total: 450, currency: 'USD', refundedTotal: 0, ...overrides };
}
const agent = ['support-agent'];

describe('canRequest', () => {
  it.each([
    ['purchase_order', [], true],
    ['purchase_order', ['auditor'], true],
    ['tier_upgrade', ['support-agent'], true],
    ['tier_upgrade', ['account-manager'], true],
    ['tier_upgrade', ['support-lead'], false],
    ['tier_upgrade', [], false],
    ['refund', ['support-agent'], true],
    ['refund', ['account-manager'], false],
    ['refund', ['finance-director', 'auditor'], false],
    ['refund', ['auditor', 'support-agent'], true],
  ] as const)('%s with roles %j → %s', (action, roles, expected) => {
    expect(canRequest(action, roles)).toBe(expected);
  });

  it('answers each role set the same when asked again or with its roles in another order (answers are kept per pack, day and set)', () => {
    for (let round = 0; round < 2; round++) {
      expect(canRequest('refund', ['support-agent'])).toBe(true);
      expect(canRequest('refund', ['account-manager'])).toBe(false);
      expect(canRequest('refund', ['support-agent', 'auditor'])).toBe(true);
      expect(canRequest('refund', ['auditor', 'support-agent', 'auditor'])).toBe(true);
      expect(canRequest('refund', ['finance-director', 'auditor'])).toBe(false);
      expect(canRequest('tier_upgrade', ['support-agent'], undefined, '2031-01-01')).toBe(true);
      expect(canRequest('tier_upgrade', [], undefined, '2031-01-01')).toBe(false);
    }
  });
});

describe('moneyToCents: what Cedar compares', () => {
  it.each([
    [119.9, 11990, 11990],
    [0.1 + 0.2, 30, 31],
    [4_999.999, 499_999, 500_000],
    [4_999.99, 499_999, 499_999],
    [450.00000000000006, 45_000, 45_001],
    [1e-7, 0, 1],
    [Number.MIN_VALUE, 0, 1],
    [-0, 0, 0],
    [-5.001, -501, -500],
  ])('%d → floor %d, ceil %d', (amount, floorCents, ceilCents) => {
    expect(moneyToCents(amount)).toEqual({ floorCents, ceilCents });
  });

  it('saturates what is not a representable amount, towards "too large" for NaN', () => {
    const max = Number.MAX_SAFE_INTEGER;
    for (const amount of [Number.NaN, Number.POSITIVE_INFINITY, 1e308, 2 ** 53 + 2]) expect(moneyToCents(amount)).toEqual({ floorCents: max, ceilCents: max });
    expect(moneyToCents(Number.NEGATIVE_INFINITY)).toEqual({ floorCents: -max, ceilCents: -max });
  });
});

describe('helpers', () => {
  it('vendorKey folds case and whitespace', () => {
    expect(vendorKey('  alpha   TECH systems ')).toBe(vendorKey('Alpha Tech Systems'));
  });
  it('vendorKey folds compatibility forms (NFKC): full-width letters name the same vendor', () => {
    expect(vendorKey('Ａｌｐｈａ\u00A0Tech Systems')).toBe('alpha tech systems');
  });
  it('duplicateWindowStart is duplicateWindowDays before today, at midnight UTC', () => {
    expect(shippedPolicies().purchase_order.duplicateWindowDays).toBe(30);
    expect(duplicateWindowStart('purchase_order', '2026-11-15')).toBe('2026-10-16T00:00:00.000Z');
    expect(duplicateWindowStart('refund', '2026-03-01')).toBe('2026-01-30T00:00:00.000Z');
    expect(() => duplicateWindowStart('refund', '1/3/2026')).toThrow('YYYY-MM-DD');
  });
  it('isWithinDuplicateWindow: at or after the start is inside, before it is not', () => {
    const start = '2026-10-16T00:00:00.000Z';
    expect(isWithinDuplicateWindow('2026-10-16T00:00:00.000Z', start)).toBe(true);
    expect(isWithinDuplicateWindow('2026-11-14T23:59:59.999Z', start)).toBe(true);
    expect(isWithinDuplicateWindow('2026-10-15T23:59:59.999Z', start)).toBe(false);
  });
  it('utcToday reads the UTC date, not the local one', () => {
    expect(utcToday(new Date('2026-11-15T23:59:59.999Z'))).toBe('2026-11-15');
    expect(utcToday(new Date('2026-11-15T23:30:00-05:00'))).toBe('2026-11-16');
  });
  it('rejects a malformed today instead of guessing', () => {
    expect(() => evaluatePolicy(purchaseOrder(10), { today: '15/11/2026' }, [])).toThrow('YYYY-MM-DD');
  });
});

describe('purchase_order', () => {
  const validated = (): PolicyFacts => ({ today: TODAY, vendor: vendor('Alpha Tech Systems') });

  const inCurrency = (amount: number, currency: string, vendorName = 'Alpha Tech Systems'): Proposal => ({
    action: 'purchase_order',
    fields: { vendor: vendorName, amount, currency, description: 'desks' },
  });

  it('never auto-approves an order in a currency the limit is not written in, and sends it to the highest tier', () => {
    const decision = evaluatePolicy(inCurrency(4_000, 'EUR'), validated(), []);
    expect(decision).toMatchObject({ outcome: 'pending_approval', reasons: ['above_autonomous_limit'], tier: 'finance-director' });
    expect(decision.approverRoles).toEqual(['finance-director']);
  });

  it('49,000 GBP is not "under 50,000": without exchange rates its size is unknown → finance-director', () => {
    expect(evaluatePolicy(inCurrency(49_000, 'GBP'), validated(), [])).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['above_autonomous_limit'],
      tier: 'finance-director',
      approverRoles: ['finance-director'],
    });
    // The same number in the limit's currency stays with the amount's tier.
    expect(evaluatePolicy(inCurrency(49_000, 'USD'), validated(), []).tier).toBe('procurement-manager');
  });

  it('a foreign order from an unvalidated vendor keeps both reasons and the highest tier', () => {
    expect(evaluatePolicy(inCurrency(100, 'JPY', 'Umbrella Supplies'), { today: TODAY, vendor: vendor('Umbrella Supplies', false) }, [])).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['above_autonomous_limit', 'unvalidated_vendor'],
      tier: 'finance-director',
    });
  });

  it.each([0, -5, 1_000_000.01, Number.NaN])('the range still applies to the number in another currency: %d EUR → amount_out_of_range', (amount) => {
    expect(evaluatePolicy(inCurrency(amount, 'EUR'), validated(), [])).toMatchObject({ outcome: 'rejected', reasons: ['amount_out_of_range'] });
  });

  it.each([
    [0.01, 'approved', [], undefined],
    [4_999.99, 'approved', [], undefined],
    [5_000, 'pending_approval', ['above_autonomous_limit'], 'procurement-manager'],
    [49_999.99, 'pending_approval', ['above_autonomous_limit'], 'procurement-manager'],
    [50_000, 'pending_approval', ['above_autonomous_limit'], 'finance-director'],
    [1_000_000, 'pending_approval', ['above_autonomous_limit'], 'finance-director'],
    [1_000_000.01, 'rejected', ['amount_out_of_range'], undefined],
    [1e308, 'rejected', ['amount_out_of_range'], undefined],
    [0, 'rejected', ['amount_out_of_range'], undefined],
    [-0, 'rejected', ['amount_out_of_range'], undefined],
    [-5, 'rejected', ['amount_out_of_range'], undefined],
    [Number.NaN, 'rejected', ['amount_out_of_range'], undefined],
    [Number.POSITIVE_INFINITY, 'rejected', ['amount_out_of_range'], undefined],
  ])('validated vendor, amount %d → %s %j (%s)', (amount, outcome, reasons, tier) => {
    const decision = evaluatePolicy(purchaseOrder(amount), validated(), []);
    expect(decision).toMatchObject({ outcome, reasons, policy: PO_POLICY });
    expect(decision.tier).toBe(tier);
    if (tier) expect(decision.approverRoles).toEqual([tier]);
    else expect(decision.approverRoles).toBeUndefined();
  });

  it.each([
    ['unknown vendor', undefined],
    ['vendor on file but not validated', vendor('Umbrella Supplies', false)],
    ['a record for a different vendor', vendor('Initech')],
  ])('%s under the limit → lowest tier, unvalidated_vendor', (_name, found) => {
    expect(evaluatePolicy(purchaseOrder(100, 'Umbrella Supplies'), { today: TODAY, vendor: found }, [])).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['unvalidated_vendor'],
      tier: 'procurement-manager',
      approverRoles: ['procurement-manager'],
    });
  });

  it.each([
    [7_850, 'procurement-manager'],
    [75_000, 'finance-director'],
  ])('unvalidated vendor at %d → the amount’s tier, both reasons', (amount, tier) => {
    expect(evaluatePolicy(purchaseOrder(amount, 'Umbrella Supplies'), { today: TODAY, vendor: vendor('Umbrella Supplies', false) }, [])).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['above_autonomous_limit', 'unvalidated_vendor'],
      tier,
    });
  });

  it('an out-of-range amount is rejected even for an unvalidated vendor', () => {
    expect(evaluatePolicy(purchaseOrder(2_000_000, 'Nobody'), { today: TODAY }, [])).toMatchObject({
      outcome: 'rejected',
      reasons: ['amount_out_of_range'],
    });
  });

  it('matches vendor names case-insensitively and trimmed', () => {
    expect(evaluatePolicy(purchaseOrder(100, '  alpha tech SYSTEMS '), validated(), []).outcome).toBe('approved');
  });
});

describe('tier_upgrade', () => {
  const facts = (c?: Customer, today = TODAY): PolicyFacts => ({ today, customer: c });

  it('one step up on a matching record → approved', () => {
    expect(evaluatePolicy(tierUpgrade(), facts(customer('C-1001', 'basic')), agent)).toEqual({
      outcome: 'approved',
      reasons: [],
      policy: TU_POLICY,
    });
    expect(
      evaluatePolicy(tierUpgrade({ customerId: 'C-1002', currentTier: 'standard', targetTier: 'premium' }), facts(customer('C-1002', 'standard')), ['account-manager']).outcome,
    ).toBe('approved');
  });

  it('basic → premium → pending, account-manager, multi_step_upgrade', () => {
    expect(evaluatePolicy(tierUpgrade({ targetTier: 'premium' }), facts(customer('C-1001', 'basic')), agent)).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['multi_step_upgrade'],
      tier: 'account-manager',
      approverRoles: ['account-manager'],
    });
  });

  it('unknown customer → customer_not_found', () => {
    expect(evaluatePolicy(tierUpgrade({ customerId: 'C-9999' }), facts(undefined), agent)).toMatchObject({
      outcome: 'rejected',
      reasons: ['customer_not_found'],
    });
  });

  it('a record for another customer id counts as not found', () => {
    expect(evaluatePolicy(tierUpgrade({ customerId: 'C-9999' }), facts(customer('C-1001', 'basic')), agent).reasons).toEqual(['customer_not_found']);
  });

  it('stated current tier differs from the record → tier_mismatch', () => {
    expect(evaluatePolicy(tierUpgrade({ customerId: 'C-1002' }), facts(customer('C-1002', 'standard')), agent)).toMatchObject({
      outcome: 'rejected',
      reasons: ['tier_mismatch'],
    });
  });

  it.each([
    ['same tier', 'standard', 'standard'],
    ['a downgrade', 'premium', 'standard'],
    ['a two-step downgrade', 'premium', 'basic'],
  ] as const)('%s → invalid_transition', (_name, currentTier, targetTier) => {
    expect(
      evaluatePolicy(tierUpgrade({ customerId: 'C-1003', currentTier, targetTier }), facts(customer('C-1003', currentTier)), agent),
    ).toMatchObject({ outcome: 'rejected', reasons: ['invalid_transition'] });
  });

  it.each([
    ['2026-11-14', 'rejected'],
    ['2026-11-15', 'approved'],
    ['2026-11-16', 'approved'],
  ] as const)('effective %s (today 2026-11-15) → %s', (effectiveDate, outcome) => {
    const decision = evaluatePolicy(tierUpgrade({ effectiveDate }), facts(customer('C-1001', 'basic')), agent);
    expect(decision.outcome).toBe(outcome);
    if (outcome === 'rejected') expect(decision.reasons).toEqual(['effective_date_in_past']);
  });

  it('today is injected: the same proposal flips with the injected date only', () => {
    const p = tierUpgrade({ effectiveDate: '2027-01-01' });
    expect(evaluatePolicy(p, facts(customer('C-1001', 'basic'), '2027-01-01'), agent).outcome).toBe('approved');
    expect(evaluatePolicy(p, facts(customer('C-1001', 'basic'), '2027-01-02'), agent).reasons).toEqual(['effective_date_in_past']);
  });

  it('reports every rejection reason together', () => {
    const decision = evaluatePolicy(
      tierUpgrade({ customerId: 'C-1003', currentTier: 'standard', targetTier: 'basic', effectiveDate: '2020-01-01' }),
      facts(customer('C-1003', 'premium')),
      agent,
    );
    expect(decision).toMatchObject({ outcome: 'rejected', reasons: ['tier_mismatch', 'invalid_transition', 'effective_date_in_past'] });
  });

  it('a change scheduled after today → tier_change_scheduled; one a facts connector reports as due is not pending', () => {
    const withChange = (effectiveDate: string): PolicyFacts => {
      const scheduled = { ...customer('C-1001', 'basic'), scheduled: { tier: 'standard', effectiveDate } };
      return { today: TODAY, customer: scheduled };
    };
    expect(evaluatePolicy(tierUpgrade({ effectiveDate: '2027-02-01' }), withChange('2026-11-16'), agent)).toEqual({
      outcome: 'rejected',
      reasons: ['tier_change_scheduled'],
      policy: TU_POLICY,
    });
    expect(evaluatePolicy(tierUpgrade({ effectiveDate: '2027-02-01' }), withChange(TODAY), agent).outcome).toBe('approved');
  });

  it('a rejection wins over a multi-step approval', () => {
    expect(
      evaluatePolicy(tierUpgrade({ targetTier: 'premium', effectiveDate: '2026-01-01' }), facts(customer('C-1001', 'basic')), agent),
    ).toMatchObject({ outcome: 'rejected', reasons: ['effective_date_in_past'] });
  });
});

describe('refund', () => {
  it.each([
    [0.01, 'support-lead'],
    [120, 'support-lead'],
    [450, 'support-lead'],
  ])('%d within the order → always pending, %s, with a dry-run', (amount, tier) => {
    expect(evaluatePolicy(refund(amount), { today: TODAY, order: order() }, agent)).toEqual({
      outcome: 'pending_approval',
      reasons: ['high_risk_action'],
      policy: REFUND_POLICY,
      tier,
      approverRoles: [tier],
      dryRun: { orderId: 'O-5001', customerId: 'C-1002', orderTotal: 450, alreadyRefunded: 0, refundAmount: amount, remainingAfterRefund: Math.round((450 - amount) * 100) / 100 },
    });
  });

  it.each([
    [999.99, 'support-lead'],
    [1_000, 'finance-director'],
    [2_400, 'finance-director'],
  ])('tier boundary: %d → %s', (amount, tier) => {
    const big = order({ orderId: 'O-5002', customerId: 'C-1003', total: 2400 });
    expect(evaluatePolicy(refund(amount, 'O-5002', 'C-1003'), { today: TODAY, order: big }, agent)).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['high_risk_action'],
      tier,
    });
  });

  it('more than the order total → refund_exceeds_order', () => {
    expect(evaluatePolicy(refund(450.01), { today: TODAY, order: order() }, agent)).toEqual({
      outcome: 'rejected',
      reasons: ['refund_exceeds_order'],
      policy: REFUND_POLICY,
    });
  });

  it('prior refunds reduce what is left, to the cent', () => {
    const partlyRefunded = order({ refundedTotal: 330.1 });
    expect(evaluatePolicy(refund(119.9), { today: TODAY, order: partlyRefunded }, agent)).toMatchObject({
      outcome: 'pending_approval',
      dryRun: { alreadyRefunded: 330.1, refundAmount: 119.9, remainingAfterRefund: 0 },
    });
    expect(evaluatePolicy(refund(120), { today: TODAY, order: partlyRefunded }, agent).reasons).toEqual(['refund_exceeds_order']);
  });

  it('a fully refunded order takes no more', () => {
    expect(evaluatePolicy(refund(0.01), { today: TODAY, order: order({ refundedTotal: 450 }) }, agent).reasons).toEqual(['refund_exceeds_order']);
  });

  it.each([
    ['no such order', undefined],
    ['an order of another customer', order({ customerId: 'C-1003' })],
    ['a record for another order id', order({ orderId: 'O-5002' })],
  ])('%s → order_not_found', (_name, found) => {
    expect(evaluatePolicy(refund(10), { today: TODAY, order: found }, agent)).toMatchObject({ outcome: 'rejected', reasons: ['order_not_found'] });
  });
});

describe('requester permission is checked first', () => {
  it.each([
    ['tier_upgrade', tierUpgrade(), ['procurement-manager']],
    ['refund', refund(10), ['account-manager']],
    ['refund over the order', refund(10_000), []],
  ] as const)('%s without the role → action_not_permitted only', (_name, proposal, roles) => {
    const decision = evaluatePolicy(proposal, { today: TODAY, order: order(), customer: customer('C-1001', 'basic') }, roles);
    expect(decision.outcome).toBe('rejected');
    expect(decision.reasons).toEqual(['action_not_permitted']);
  });
});
