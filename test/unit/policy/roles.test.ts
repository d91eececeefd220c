import { AUDITOR_ROLE, knownRoles, shippedPolicies, type PolicySet } from '../../../lambdas/shared/policy';

/** The known roles come from the policy data (API.md "Identity"), never from a second list. */

function withRefund(policy: string): PolicySet {
  const refund = shippedPolicies().refund;
  // The shipped schema, read the way the loader reads it, with another Cedar text.
  const schema = require('node:fs').readFileSync(require('node:path').join(__dirname, '../../../actions/refund/policy.cedarschema'), 'utf8') as string;
  return { ...shippedPolicies(), refund: { ...refund, source: { policy, schema } } };
}

describe('knownRoles', () => {
  it('are the requester and approver roles of the shipped policies, and the auditor, sorted', () => {
    expect(knownRoles()).toEqual(['account-manager', 'auditor', 'credit-analyst', 'finance-director', 'procurement-manager', 'support-agent', 'support-lead']);
  });

  it('follow the policy data: a role a team adds to an approval tier is known', () => {
    const policies: PolicySet = {
      ...shippedPolicies(),
      tier_upgrade: { ...shippedPolicies().tier_upgrade, tiers: [{ name: 'account-manager', approverRoles: ['account-manager', 'claims-reviewer'] }] },
    };
    expect(knownRoles(policies)).toEqual([...knownRoles(), 'claims-reviewer'].sort());
  });

  it('follow the Cedar text: a requester role a policy names is known, one it no longer names is not', () => {
    const shipped = require('node:fs').readFileSync(require('node:path').join(__dirname, '../../../actions/refund/policy.cedar'), 'utf8') as string;
    const roles = knownRoles(withRefund(shipped.replace('Role::"support-agent"', 'Role::"claims-agent"')));
    expect(roles).toContain('claims-agent');
    // support-agent is still a tier_upgrade requester.
    expect(roles).toContain('support-agent');
    expect(roles).toContain(AUDITOR_ROLE);
  });
});
