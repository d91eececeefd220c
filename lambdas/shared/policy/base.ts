/**
 * What every action's Cedar pack shares: who asks, the three outcomes, and the types Warden
 * converts values to. An action's `policy.cedarschema` adds `type Limits`, `type Facts` and
 * `entity Proposal` (its fields, plus `requester: User`).
 */
export const BASE_SCHEMA = `
entity Role;
entity User in [Role] = { roles: Set<String> };
// The action itself, as the resource of the permission check made before any fact is read.
entity Kind;

// Money as integer cents. With a whole-cent limit L: x < L is floorCents < L, x >= L is
// floorCents >= L, x <= L is ceilCents <= L, x > L is ceilCents > L (exact for any amount).
type Money = { floorCents: Long, ceilCents: Long };
// A name as the system of record keys it (NFKC, trimmed, inner whitespace as one space, lower case).
type PartyName = String;

// today: the UTC date of the decision; limits: policy.json's numbers; facts: records read for it.
type Context = { today: datetime, limits: Limits, facts: Facts };

// May this principal ask for it (resource Kind: before any fact is read)?
action Request appliesTo { principal: User, resource: [Kind, Proposal], context: Context };
// May it run with no human? Denied: the forbid ids are the reasons a human decides.
action RunAutonomously appliesTo { principal: User, resource: Proposal, context: Context };
// Which approver tier: one permit per tier, id = tier name, written mutually exclusive.
action Approve appliesTo { principal: User, resource: Proposal, context: Context };
`;

/** Separation of duties on every action: the requester is never an approver of their own proposal. */
export const BASE_POLICIES = `
@id("own_request")
forbid(principal, action == Action::"Approve", resource)
when { principal == resource.requester };
`;

/**
 * The authority check at decision time, the same for every action: the approver must hold one
 * of the roles the proposal's tier named when it was validated, and must not be its requester.
 * Policy ids are the refusal codes the approval API returns.
 */
export const AUTHORITY_SCHEMA = `
entity Role;
entity User in [Role] = { roles: Set<String> };
entity Task = { requester: User, approverRoles: Set<String> };
action Decide appliesTo { principal: User, resource: Task, context: {} };
`;

export const AUTHORITY_POLICIES = `
@id("tier_approver")
permit(principal, action == Action::"Decide", resource)
when { principal.roles.containsAny(resource.approverRoles) };

@id("self_approval_forbidden")
forbid(principal, action == Action::"Decide", resource)
when { principal == resource.requester };
`;
