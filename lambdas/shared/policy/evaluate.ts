import type { PurchaseOrderProposal } from '../../../actions/purchase_order/action';
import type { RefundProposal } from '../../../actions/refund/action';
import type { TierUpgradeProposal } from '../../../actions/tier_upgrade/action';
import type { Customer, Order, Vendor } from '../ports';
import type { ActionName, Proposal } from '../schemas/actions';
import type { Decision, PolicyRef, ReasonCode } from '../schemas/workflow';
import { vendorKey } from '../vendors';
import { POLICIES } from './policies';
import type { ApprovalTier, PolicySet } from './schemas';

/** What the rules may know beyond the proposal: records already read, and today's date. */
export interface PolicyFacts {
  /** The vendor record found for a purchase order's vendor (undefined: not on the list). */
  vendor?: Vendor;
  customer?: Customer;
  /** The order a refund names, with what was already refunded on it. */
  order?: Order;
  /** Today in UTC, `YYYY-MM-DD`: injected so that no rule ever reads the clock. */
  today: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Today's date in UTC as the rules compare it. */
export function utcToday(now: Date): string {
  return now.toISOString().slice(0, 10);
}

// The one vendor-name comparison (also the system of record's key); re-exported for policy callers.
export { vendorKey };

export function policyRef(action: ActionName, policies: PolicySet = POLICIES): PolicyRef {
  const { id, version } = policies[action];
  return { id, version };
}

/** Whether a principal with these roles may request the action at all (null roles: anyone authenticated). */
export function canRequest(action: ActionName, roles: readonly string[], policies: PolicySet = POLICIES): boolean {
  const allowed = policies[action].requesterRoles;
  return allowed === null || roles.some((role) => allowed.includes(role));
}

/** The tier that applies to an amount: the highest one whose `fromAmount` it reaches. */
export function approvalTierFor(tiers: readonly ApprovalTier[], amount: number): ApprovalTier {
  let chosen = tiers[0];
  for (const tier of tiers) if (amount >= tier.fromAmount) chosen = tier;
  return chosen;
}

/** The tier a human signal escalates an otherwise approved proposal to. */
export function lowestApprovalTier(action: ActionName, policies: PolicySet = POLICIES): ApprovalTier {
  return policies[action].approvalTiers[0];
}

/** The tier whose approvers may decide any amount: where an order of unknown size goes. */
export function highestApprovalTier(action: ActionName, policies: PolicySet = POLICIES): ApprovalTier {
  const tiers = policies[action].approvalTiers;
  return tiers[tiers.length - 1];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The start of the action's duplicate window (`duplicateWindowDays` before `today`, at 00:00
 * UTC) as an ISO timestamp. An identical effect executed at or after it is a duplicate; one
 * executed before it is not, and its claim on the fingerprint may be taken over. ISO
 * timestamps compare correctly as strings, in code and in a DynamoDB condition alike.
 */
export function duplicateWindowStart(action: ActionName, today: string, policies: PolicySet = POLICIES): string {
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

function rejected(policy: PolicyRef, reasons: ReasonCode[]): Decision {
  return { outcome: 'rejected', reasons, policy };
}

function pending(policy: PolicyRef, reasons: ReasonCode[], tier: ApprovalTier, extra: Partial<Decision> = {}): Decision {
  return { outcome: 'pending_approval', reasons, policy, tier: tier.name, approverRoles: [...tier.approverRoles], ...extra };
}

function approved(policy: PolicyRef): Decision {
  return { outcome: 'approved', reasons: [], policy };
}

// Money on records is in cents; rounding the difference avoids 0.1 + 0.2 style drift.
function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The policy decision for a schema-valid proposal (DESIGN.md §3). Pure: the same proposal,
 * facts and roles always give the same decision. Rejection reasons win over approval reasons.
 */
export function evaluatePolicy(
  proposal: Proposal,
  facts: PolicyFacts,
  requesterRoles: readonly string[],
  policies: PolicySet = POLICIES,
): Decision {
  if (!ISO_DATE.test(facts.today)) throw new Error(`facts.today must be YYYY-MM-DD, got ${JSON.stringify(facts.today)}`);
  const ref = policyRef(proposal.action, policies);
  if (!canRequest(proposal.action, requesterRoles, policies)) return rejected(ref, ['action_not_permitted']);
  switch (proposal.action) {
    case 'purchase_order':
      return evaluatePurchaseOrder(proposal, facts, policies, ref);
    case 'tier_upgrade':
      return evaluateTierUpgrade(proposal, facts, policies, ref);
    case 'refund':
      return evaluateRefund(proposal, facts, policies, ref);
  }
}

/** Whether the vendor record is the proposal's vendor and is validated. */
export function isValidatedVendor(vendor: Vendor | undefined, proposedName: string): boolean {
  return vendor !== undefined && vendor.validated === true && vendorKey(vendor.name) === vendorKey(proposedName);
}

function evaluatePurchaseOrder(proposal: PurchaseOrderProposal, facts: PolicyFacts, policies: PolicySet, ref: PolicyRef): Decision {
  const policy = policies.purchase_order;
  const { amount, vendor, currency } = proposal.fields;
  // On the number, whatever the currency: ≤ 0 is never money. Written so that NaN fails too.
  if (!(amount > policy.amount.minExclusive && amount <= policy.amount.maxInclusive)) return rejected(ref, ['amount_out_of_range']);

  // No exchange rates here: in another currency the order's size is unknown, so it is never
  // taken to be under the limit and only the highest tier (who may decide any amount) decides it.
  const foreign = currency !== policy.limitCurrency;
  const reasons: ReasonCode[] = [];
  if (!(amount < policy.autonomousLimit) || foreign) reasons.push('above_autonomous_limit');
  if (policy.requireValidatedVendor && !isValidatedVendor(facts.vendor, vendor)) reasons.push('unvalidated_vendor');
  if (reasons.length === 0) return approved(ref);
  if (foreign) return pending(ref, reasons, highestApprovalTier('purchase_order', policies));
  // Under the limit an unvalidated vendor lands in the lowest tier, above it the amount's tier: one lookup covers both.
  return pending(ref, reasons, approvalTierFor(policy.approvalTiers, amount));
}

function evaluateTierUpgrade(proposal: TierUpgradeProposal, facts: PolicyFacts, policies: PolicySet, ref: PolicyRef): Decision {
  const policy = policies.tier_upgrade;
  const { customerId, currentTier, targetTier, effectiveDate } = proposal.fields;
  const reasons: ReasonCode[] = [];

  const customer = facts.customer?.customerId === customerId ? facts.customer : undefined;
  if (!customer) reasons.push('customer_not_found');
  else if (customer.tier !== currentTier) reasons.push('tier_mismatch');

  // The transition as stated; a stated tier that differs from the record is tier_mismatch above.
  const steps = policy.tierOrder.indexOf(targetTier) - policy.tierOrder.indexOf(currentTier);
  if (steps <= 0) reasons.push('invalid_transition');
  // ISO dates compare correctly as strings.
  if (effectiveDate < facts.today) reasons.push('effective_date_in_past');

  if (reasons.length > 0) return rejected(ref, reasons);
  if (steps > policy.maxAutonomousSteps) return pending(ref, ['multi_step_upgrade'], policy.approvalTiers[0]);
  return approved(ref);
}

function evaluateRefund(proposal: RefundProposal, facts: PolicyFacts, policies: PolicySet, ref: PolicyRef): Decision {
  const policy = policies.refund;
  const { customerId, orderId, amount } = proposal.fields;
  const order = facts.order;
  // Someone else's order is reported exactly like a missing one: no hint that it exists.
  if (!order || order.orderId !== orderId || order.customerId !== customerId) return rejected(ref, ['order_not_found']);

  const remaining = roundCents(order.total - order.refundedTotal);
  if (!(amount <= remaining)) return rejected(ref, ['refund_exceeds_order']);

  return pending(ref, ['high_risk_action'], approvalTierFor(policy.approvalTiers, amount), {
    dryRun: {
      orderId,
      customerId,
      orderTotal: order.total,
      alreadyRefunded: order.refundedTotal,
      refundAmount: amount,
      remainingAfterRefund: roundCents(remaining - amount),
    },
  });
}
