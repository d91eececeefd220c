import { ACTIONS } from '../schemas/actions';
import { POLICIES } from './policies';
import type { ActionPolicy, PolicySet } from './schemas';

/** Reads every request, whoever made it (API.md "Identity"); the one role no policy file names. */
export const AUDITOR_ROLE = 'auditor';

/**
 * Every role Warden knows, sorted: each requester and approver role the policies name, and the
 * auditor. A role outside this set could never request, approve or read anything.
 */
export function knownRoles(policies: PolicySet = POLICIES): string[] {
  const roles = new Set<string>([AUDITOR_ROLE]);
  for (const action of ACTIONS) {
    const policy: ActionPolicy = policies[action];
    for (const role of policy.requesterRoles ?? []) roles.add(role);
    for (const tier of policy.approvalTiers) for (const role of tier.approverRoles) roles.add(role);
  }
  return [...roles].sort();
}
