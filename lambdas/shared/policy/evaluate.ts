import * as z from '../schemas/zod';
import { fieldsOf } from '../catalog/registry';
import { sharesOf } from '../limits/shares';
import type { Customer, Order, Vendor } from '../ports';
import { describeIssues, type ActionName, type Proposal } from '../schemas/actions';
import type { Decision, DryRun, PolicyRef, ReasonCode } from '../schemas/workflow';
import { vendorKey } from '../vendors';
import { keptAnswers } from '../lazy';
import { ask, PolicyEngineError, toCedarValue, userEntity, type CedarEntity, type CedarType } from './cedar';
import { compilePolicy, shippedPolicies, type CompiledPolicy, type PolicySet } from './policies';
import type { ApprovalTier } from './schemas';

/** What the rules may know beyond the proposal: records already read, and today's date. */
export interface PolicyFacts {
  /** The vendor record found for a purchase order's vendor (undefined: not on the list). */
  vendor?: Vendor;
  customer?: Customer;
  /** The order a refund names, with what was already refunded on it. */
  order?: Order;
  /** Today in UTC, `YYYY-MM-DD`: injected so that no rule ever reads the clock. */
  today: string;
  /** The totals of the cumulative facts policy.json declares (minor units or steps), this request included. */
  cumulative?: Record<string, number>;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Today's date in UTC as the rules compare it. */
export function utcToday(now: Date): string {
  return now.toISOString().slice(0, 10);
}

// The one vendor-name comparison (also the system of record's key); re-exported for policy callers.
export { vendorKey };

export function policyRef(action: ActionName, policies: PolicySet = shippedPolicies()): PolicyRef {
  const { id, version } = policies[action];
  return { id, version };
}

/**
 * Whether a principal with these roles may request the action at all: Cedar's `Request` on the
 * action itself (resource `Kind`), before any fact is read; only the policies that do not look
 * at a proposal apply.
 */
export function canRequest(action: ActionName, roles: readonly string[], policies: PolicySet = shippedPolicies(), today = utcToday(new Date())): boolean {
  const pack = compilePolicy(policies[action]);
  // The answer follows from the pack, the day and the set of roles alone: asked once per container for each.
  const key = `${today} ${JSON.stringify([...new Set(roles)].sort())}`;
  let answers = requestAnswers.get(pack);
  if (!answers) requestAnswers.set(pack, (answers = keptAnswers<boolean>(256)));
  return answers(key, () => {
    const kind: CedarEntity = { uid: { type: 'Kind', id: action }, attrs: {}, parents: [] };
    // No record is read yet and nothing is reserved: every cumulative total is 0.
    const cumulative = Object.fromEntries(pack.policy.cumulative.map((measure) => [measure.name, 0]));
    return ask(pack.key, { principal: userEntity('requester', roles), action: 'Request', resource: kind, context: context(pack, { today, cumulative }) }).allowed;
  });
}

/** canRequest's answers per compiled pack, by day and role set. */
const requestAnswers = new WeakMap<CompiledPolicy, (key: string, answer: () => boolean) => boolean>();

/** The tier a human signal escalates an otherwise approved proposal to. */
export function lowestApprovalTier(action: ActionName, policies: PolicySet = shippedPolicies()): ApprovalTier {
  return policies[action].tiers[0];
}

/** The tier whose approvers may decide any amount: where an order of unknown size goes. */
export function highestApprovalTier(action: ActionName, policies: PolicySet = shippedPolicies()): ApprovalTier {
  const tiers = policies[action].tiers;
  return tiers[tiers.length - 1];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The start of the action's duplicate window (`duplicateWindowDays` before `today`, at 00:00
 * UTC) as an ISO timestamp. An identical effect executed at or after it is a duplicate; one
 * executed before it is not, and its claim on the fingerprint may be taken over. ISO
 * timestamps compare correctly as strings, in code and in a DynamoDB condition alike.
 */
export function duplicateWindowStart(action: ActionName, today: string, policies: PolicySet = shippedPolicies()): string {
  if (!ISO_DATE.test(today)) throw new Error(`today must be YYYY-MM-DD, got ${JSON.stringify(today)}`);
  const start = Date.parse(`${today}T00:00:00.000Z`) - policies[action].duplicateWindowDays * DAY_MS;
  if (Number.isNaN(start)) throw new Error(`today is not a calendar date: ${today}`);
  return new Date(start).toISOString();
}

/**
 * Whether an effect executed at `executedAt` (ISO timestamp) falls inside the duplicate window.
 * An unreadable or missing time counts as inside: an effect of unknown age is still a duplicate.
 */
export function isWithinDuplicateWindow(executedAt: string | undefined, windowStart: string): boolean {
  const executed = executedAt === undefined ? Number.NaN : Date.parse(executedAt);
  return Number.isNaN(executed) || executed >= Date.parse(windowStart);
}

/** The schema's declared type of one attribute of a record type (the Proposal, the context). */
function attributeType(type: CedarType | undefined, attr: string, pack: CompiledPolicy): CedarType {
  const found = type?.attributes?.[attr];
  if (!found) throw new PolicyEngineError(`${pack.key}: the schema declares no ${attr}`);
  return found;
}

/**
 * The cumulative totals of a decision evaluated alone (no ledger: nothing else committed): each
 * is this proposal's own share.
 */
function aloneTotals(pack: CompiledPolicy, proposal: Proposal): Record<string, number> | undefined {
  const { cumulative, ranks } = pack.policy;
  if (cumulative.length === 0) return undefined;
  const shares = sharesOf({ action: proposal.action, cumulative, ranks }, fieldsOf(proposal.action), proposal.fields as Record<string, unknown>, 'requester');
  return Object.fromEntries(shares.map((share) => [share.name, share.units]));
}

function context(pack: CompiledPolicy, facts: PolicyFacts): Record<string, unknown> {
  const { today, ...records } = facts;
  const shape: CedarType = { type: 'Record', attributes: pack.schema.commonTypes?.Context?.attributes };
  return toCedarValue({ today, limits: pack.policy.limits, facts: records }, shape, pack.schema, 'context') as Record<string, unknown>;
}

/**
 * The proposal as the Cedar `Proposal` entity: the fields the schema declares, converted by
 * their declared types; each ranked field (policy.json `ranks`) also as `<field>Rank`.
 */
function proposalEntity(pack: CompiledPolicy, fields: Record<string, unknown>, requester: CedarEntity): CedarEntity {
  const values: Record<string, unknown> = { ...fields };
  for (const rank of pack.policy.ranks) {
    for (const field of rank.fields) {
      const place = rank.order.indexOf(String(fields[field]));
      if (place < 0) throw new PolicyEngineError(`${pack.key}: ${field} ${JSON.stringify(fields[field])} is not one of ${rank.order.join(', ')}`);
      values[`${field}Rank`] = place;
    }
  }
  const shape = pack.schema.entityTypes.Proposal?.shape;
  const attrs: Record<string, unknown> = { requester: { __entity: requester.uid } };
  for (const attr of Object.keys(shape?.attributes ?? {})) {
    if (attr === 'requester') continue;
    attrs[attr] = toCedarValue(values[attr], attributeType(shape, attr, pack), pack.schema, `proposal.${attr}`);
  }
  return { uid: { type: 'Proposal', id: 'proposal' }, attrs, parents: [] };
}

/** The policy ids among `ids`, in the order the policy file declares them. */
function inFileOrder(pack: CompiledPolicy, ids: readonly string[]): ReasonCode[] {
  return pack.order.filter((id) => ids.includes(id)) as ReasonCode[];
}

/**
 * The policy decision for a schema-valid proposal (DESIGN.md §3), by the action's Cedar policy:
 * `Request` (denied: rejected, reasons = the forbid ids), `RunAutonomously` (allowed: approved),
 * then `Approve` with a probe holding every tier's roles (exactly one tier permit must match).
 * Pure: the same proposal, facts and roles always give the same decision. Without
 * `facts.cumulative` the proposal is evaluated alone: each cumulative total is its own share.
 */
export function evaluatePolicy(
  proposal: Proposal,
  facts: PolicyFacts,
  requesterRoles: readonly string[],
  policies: PolicySet = shippedPolicies(),
): Decision {
  if (!ISO_DATE.test(facts.today)) throw new Error(`facts.today must be YYYY-MM-DD, got ${JSON.stringify(facts.today)}`);
  const ref = policyRef(proposal.action, policies);
  const pack = compilePolicy(policies[proposal.action]);
  const requester = userEntity('requester', requesterRoles);
  const resource = proposalEntity(pack, proposal.fields as Record<string, unknown>, requester);
  const alone = facts.cumulative === undefined ? aloneTotals(pack, proposal) : undefined;
  const ctx = context(pack, alone ? { ...facts, cumulative: alone } : facts);
  const request = { principal: requester, resource, context: ctx };

  const asked = ask(pack.key, { ...request, action: 'Request' });
  if (!asked.allowed) {
    const reasons = inFileOrder(pack, asked.policyIds);
    // No permit at all, or the permission forbid: only that, no fact is reported to them.
    const notPermitted = reasons.length === 0 || reasons.includes('action_not_permitted');
    return { outcome: 'rejected', reasons: notPermitted ? ['action_not_permitted'] : reasons, policy: ref };
  }

  const autonomous = ask(pack.key, { ...request, action: 'RunAutonomously' });
  if (autonomous.allowed) return { outcome: 'approved', reasons: [], policy: ref };
  const reasons = inFileOrder(pack, autonomous.policyIds);
  if (reasons.length === 0) throw new PolicyEngineError(`${pack.key}: RunAutonomously denied with no reason (no permit matched)`);

  const tier = tierFor(pack, resource, ctx, requester);
  const dryRun = dryRunOf(pack, proposal, facts);
  return {
    outcome: 'pending_approval',
    reasons,
    policy: ref,
    tier: tier.name,
    approverRoles: [...tier.approverRoles],
    ...(dryRun !== undefined ? { dryRun } : {}),
  };
}

/** The action's dry run, checked against the shape it declares: an approver never sees one that does not match. */
function dryRunOf(pack: CompiledPolicy, proposal: Proposal, facts: PolicyFacts): DryRun | undefined {
  const declared = pack.policy.dryRun;
  const shown = declared?.of(proposal.fields as never, facts as unknown as Record<string, unknown>);
  if (!declared || shown === undefined) return undefined;
  const parsed = z.safeParse(declared.schema, shown);
  if (!parsed.success) throw new PolicyEngineError(`${pack.key}: the dry run does not match its schema: ${describeIssues(parsed.error, 'dryRun')}`);
  return parsed.data;
}

/** The one tier whose `Approve` permit matches: a probe principal holds every tier's roles. */
function tierFor(pack: CompiledPolicy, resource: CedarEntity, ctx: Record<string, unknown>, requester: CedarEntity): ApprovalTier {
  const tiers = pack.policy.tiers;
  const probe = userEntity('tier-probe', [...new Set(tiers.flatMap((t) => t.approverRoles))]);
  const answer = ask(pack.key, { principal: probe, action: 'Approve', resource, context: ctx, others: [requester] });
  const matched = tiers.filter((t) => answer.policyIds.includes(t.name));
  if (matched.length !== 1) throw new PolicyEngineError(`${pack.key}: expected exactly one approver tier, got [${matched.map((t) => t.name).join(', ')}]`);
  return matched[0];
}

/** Whether the vendor record is the proposal's vendor and is validated (the policies' own test, for callers outside them). */
export function isValidatedVendor(vendor: Vendor | undefined, proposedName: string): boolean {
  return vendor !== undefined && vendor.validated === true && vendorKey(vendor.name) === vendorKey(proposedName);
}
