import purchaseOrderJson from '../../../policies/purchase_order.json';
import refundJson from '../../../policies/refund.json';
import routingJson from '../../../policies/routing.json';
import tierUpgradeJson from '../../../policies/tier_upgrade.json';
import { evaluatePolicy, parsePolicySet, POLICIES } from '../../../lambdas/shared/policy';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

function rawPolicies() {
  // Deep copies: each test mutates its own.
  return structuredClone({ purchase_order: purchaseOrderJson, tier_upgrade: tierUpgradeJson, refund: refundJson, routing: routingJson });
}

describe('policy files', () => {
  it('load with their ids and versions', () => {
    expect(POLICIES.purchase_order).toMatchObject({ id: 'purchase-order', version: '2026-11-01', autonomousLimit: 5000 });
    expect(POLICIES.tier_upgrade).toMatchObject({ id: 'tier-upgrade', version: '2026-11-01' });
    expect(POLICIES.refund).toMatchObject({ id: 'refund', version: '2026-11-01' });
    expect(POLICIES.routing.confidenceThreshold).toBe(0.95);
  });

  it('give every action a duplicate window', () => {
    expect([POLICIES.purchase_order, POLICIES.tier_upgrade, POLICIES.refund].map((p) => p.duplicateWindowDays)).toEqual([30, 30, 30]);
  });

  it('fill in fromAmount 0 for a tier that does not state one', () => {
    expect(POLICIES.tier_upgrade.approvalTiers[0]).toEqual({ name: 'account-manager', fromAmount: 0, approverRoles: ['account-manager'] });
  });

  it.each([
    ['a missing threshold', (p: ReturnType<typeof rawPolicies>) => delete (p.purchase_order as Partial<typeof p.purchase_order>).autonomousLimit, 'purchase_order.autonomousLimit'],
    ['an unknown key', (p: ReturnType<typeof rawPolicies>) => Object.assign(p.refund, { autoApproveBelow: 100 }), 'refund'],
    ['refunds without approval', (p: ReturnType<typeof rawPolicies>) => Object.assign(p.refund, { alwaysRequiresApproval: false }), 'refund.alwaysRequiresApproval'],
    ['tiers out of order', (p: ReturnType<typeof rawPolicies>) => p.purchase_order.approvalTiers.reverse(), 'purchase_order.approvalTiers'],
    ['a tier with no approver', (p: ReturnType<typeof rawPolicies>) => (p.refund.approvalTiers[0].approverRoles = []), 'refund.approvalTiers.0.approverRoles'],
    ['a tier order missing a tier', (p: ReturnType<typeof rawPolicies>) => p.tier_upgrade.tierOrder.pop(), 'tier_upgrade.tierOrder'],
    ['a confidence threshold above 1', (p: ReturnType<typeof rawPolicies>) => (p.routing.confidenceThreshold = 1.5), 'routing.confidenceThreshold'],
    ['an empty requester role list', (p: ReturnType<typeof rawPolicies>) => (p.refund.requesterRoles = []), 'refund.requesterRoles'],
    ['no duplicate window', (p: ReturnType<typeof rawPolicies>) => delete (p.refund as Partial<typeof p.refund>).duplicateWindowDays, 'refund.duplicateWindowDays'],
    ['a zero duplicate window', (p: ReturnType<typeof rawPolicies>) => (p.purchase_order.duplicateWindowDays = 0), 'purchase_order.duplicateWindowDays'],
    ['a fractional duplicate window', (p: ReturnType<typeof rawPolicies>) => (p.tier_upgrade.duplicateWindowDays = 1.5), 'tier_upgrade.duplicateWindowDays'],
  ])('fail loudly with %s, naming the path', (_name, mutate, path) => {
    const raw = rawPolicies();
    mutate(raw);
    expect(() => parsePolicySet(raw)).toThrow(path);
  });

  it('drive the rules: a changed threshold in the data changes the decision', () => {
    const raw = rawPolicies();
    raw.purchase_order.autonomousLimit = 1000;
    raw.purchase_order.approvalTiers = [
      { name: 'procurement-manager', fromAmount: 0, approverRoles: ['procurement-manager'] },
      { name: 'cfo', fromAmount: 2000, approverRoles: ['cfo'] },
    ];
    const policies = parsePolicySet(raw);
    const proposal: Proposal = {
      action: 'purchase_order',
      fields: { vendor: 'Initech', amount: 2500, currency: 'USD', description: 'paper' },
    };
    const facts = { today: '2026-11-15', vendor: { name: 'Initech', validated: true } };
    expect(evaluatePolicy(proposal, facts, [], POLICIES).outcome).toBe('approved');
    expect(evaluatePolicy(proposal, facts, [], policies)).toMatchObject({
      outcome: 'pending_approval',
      reasons: ['above_autonomous_limit'],
      tier: 'cfo',
      approverRoles: ['cfo'],
    });
  });
});
