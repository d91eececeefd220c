import purchaseOrderJson from '../../../policies/purchase_order.json';
import refundJson from '../../../policies/refund.json';
import routingJson from '../../../policies/routing.json';
import tierUpgradeJson from '../../../policies/tier_upgrade.json';
import { AUDITOR_ROLE, knownRoles, parsePolicySet } from '../../../lambdas/shared/policy';

/** The known roles come from the policy data (API.md "Identity"), never from a second list. */

function rawPolicies() {
  return structuredClone({ purchase_order: purchaseOrderJson, tier_upgrade: tierUpgradeJson, refund: refundJson, routing: routingJson });
}

describe('knownRoles', () => {
  it('are the requester and approver roles of the shipped policies, and the auditor, sorted', () => {
    expect(knownRoles()).toEqual(['account-manager', 'auditor', 'finance-director', 'procurement-manager', 'support-agent', 'support-lead']);
  });

  it('follow the policy files: a role a team adds to an approval tier is known', () => {
    const raw = rawPolicies();
    raw.refund.approvalTiers.push({ name: 'credit', fromAmount: 5000, approverRoles: ['credit-analyst'] });
    expect(knownRoles(parsePolicySet(raw))).toEqual([...knownRoles(), 'credit-analyst'].sort());
  });

  it('a role no policy names any more is not known; the auditor always is', () => {
    const raw = rawPolicies();
    raw.tier_upgrade.requesterRoles = ['support-agent'];
    raw.tier_upgrade.approvalTiers = [{ name: 'owner', approverRoles: ['account-owner'] }];
    const roles = knownRoles(parsePolicySet(raw));
    expect(roles).toContain('account-owner');
    expect(roles).not.toContain('account-manager');
    expect(roles).toContain(AUDITOR_ROLE);
  });

});
