import { compilePolicy, shippedPolicies, type LoadedActionPolicy, type PolicySet } from './policies';

/** Reads every request, whoever made it (API.md "Identity"); the one role no policy names. */
export const AUDITOR_ROLE = 'auditor';

/**
 * Every role Warden knows, sorted: each role an action's Cedar policy names (`Role::"…"`: its
 * requesters and approvers), each approver role of its tiers, and the auditor. A role outside this
 * set could never request, approve or read anything.
 */
export function knownRoles(policies: PolicySet = shippedPolicies()): string[] {
  const roles = new Set<string>([AUDITOR_ROLE]);
  for (const [action, policy] of Object.entries(policies)) {
    if (action === 'routing') continue;
    const loaded = policy as LoadedActionPolicy;
    for (const role of compilePolicy(loaded).roles) roles.add(role);
    for (const tier of loaded.tiers) for (const role of tier.approverRoles) roles.add(role);
  }
  return [...roles].sort();
}
