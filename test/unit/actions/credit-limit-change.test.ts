import { canRequest, evaluatePolicy, type PolicyFacts } from '../../../lambdas/shared/policy';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

/**
 * credit_limit_change's policy (actions/credit_limit_change/policy.cedar) through the engine, with
 * the facts its ERP answers: every reason code, both tiers, decreases, and the 10,000 boundary.
 */

const TODAY = '2026-12-01';
const POLICY = { id: 'credit-limit-change', version: '2026-12-01' };
const MANAGER = ['account-manager'];

function change(newLimit: number, customerId = 'C-1001', currency = 'USD'): Proposal {
  return { action: 'credit_limit_change', fields: { customerId, newLimit, currency, reason: 'they doubled their monthly orders' } } as Proposal;
}
/** What the ERP answers for the customer: the current limit, or nothing. */
function facts(creditLimit?: number, customerId = 'C-1001', currency = 'USD'): PolicyFacts {
  return { today: TODAY, ...(creditLimit === undefined ? {} : { customer: { customerId, creditLimit, currency } }) } as unknown as PolicyFacts;
}
const pending = (tier: string, dryRun: Record<string, unknown>) => ({
  outcome: 'pending_approval',
  reasons: ['high_risk_action'],
  policy: POLICY,
  tier,
  approverRoles: [tier],
  dryRun,
});

describe('who may request it', () => {
  it('only an account manager', () => {
    expect(canRequest('credit_limit_change', MANAGER)).toBe(true);
    expect(canRequest('credit_limit_change', ['support-agent', 'credit-analyst', 'finance-director'])).toBe(false);
    expect(evaluatePolicy(change(6000), facts(5000), ['support-agent'])).toEqual({ outcome: 'rejected', reasons: ['action_not_permitted'], policy: POLICY });
  });
});

describe('rejections', () => {
  it.each([
    ['an unknown customer (the ERP leaves it out)', change(6000, 'C-9999'), facts(), ['customer_not_found']],
    ["another customer's record", change(6000, 'C-1001'), facts(5000, 'C-1002'), ['customer_not_found']],
    ['a new limit over 1,000,000', change(1_000_000.01), facts(5000), ['amount_out_of_range']],
    ['the current limit again', change(5000), facts(5000), ['no_change']],
    ['over 1,000,000 for an unknown customer: both', change(2_000_000, 'C-9999'), facts(), ['customer_not_found', 'amount_out_of_range']],
  ])('%s', (_case, proposal, known, reasons) => {
    expect(evaluatePolicy(proposal, known, MANAGER)).toEqual({ outcome: 'rejected', reasons, policy: POLICY });
  });

  it('1,000,000 exactly is in range; the same number in another currency is a change', () => {
    expect(evaluatePolicy(change(1_000_000), facts(995_000), MANAGER).outcome).toBe('pending_approval');
    expect(evaluatePolicy(change(5000, 'C-1001', 'EUR'), facts(5000), MANAGER).outcome).toBe('pending_approval');
  });
});

describe('always a human, with the current and the new limit', () => {
  it('an increase under 10,000 goes to a credit analyst', () => {
    expect(evaluatePolicy(change(8000), facts(5000), MANAGER)).toEqual(
      pending('credit-analyst', { customerId: 'C-1001', currentLimit: 5000, currentCurrency: 'USD', newLimit: 8000, currency: 'USD', change: 3000 }),
    );
  });

  it('the boundary: 9,999.99 more is a credit analyst, 10,000 more a finance director', () => {
    expect(evaluatePolicy(change(14_999.99), facts(5000), MANAGER)).toMatchObject({ tier: 'credit-analyst', dryRun: { change: 9999.99 } });
    expect(evaluatePolicy(change(15_000), facts(5000), MANAGER)).toMatchObject({ tier: 'finance-director', dryRun: { change: 10000 } });
    // A fraction of a cent above the boundary's cent cannot slip under it.
    expect(evaluatePolicy(change(14_999.991), facts(5000), MANAGER)).toMatchObject({ tier: 'finance-director' });
  });

  it('an increase of 10,000 or more goes to a finance director', () => {
    expect(evaluatePolicy(change(75_000, 'C-1003'), facts(50_000, 'C-1003'), MANAGER)).toEqual(
      pending('finance-director', { customerId: 'C-1003', currentLimit: 50_000, currentCurrency: 'USD', newLimit: 75_000, currency: 'USD', change: 25_000 }),
    );
  });

  it('any decrease goes to a credit analyst, however large', () => {
    expect(evaluatePolicy(change(100, 'C-1003'), facts(50_000, 'C-1003'), MANAGER)).toMatchObject({ tier: 'credit-analyst', dryRun: { change: -49_900 } });
  });

  it('in another currency the increase is unknown: a finance director, and no change figure', () => {
    expect(evaluatePolicy(change(5500, 'C-1001', 'EUR'), facts(5000), MANAGER)).toEqual(
      pending('finance-director', { customerId: 'C-1001', currentLimit: 5000, currentCurrency: 'USD', newLimit: 5500, currency: 'EUR' }),
    );
  });

  it('no role of the requester lets it run with no human', () => {
    for (const roles of [MANAGER, ['account-manager', 'credit-analyst', 'finance-director']]) {
      expect(evaluatePolicy(change(5001), facts(5000), roles).outcome).toBe('pending_approval');
    }
  });
});
