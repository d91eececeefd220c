import purchaseOrderPolicy from '../../../actions/purchase_order/policy.json';
import refundPolicy from '../../../actions/refund/policy.json';
import tierUpgradePolicy from '../../../actions/tier_upgrade/policy.json';
import routingPolicy from '../../../policies/routing.json';

/**
 * An independent reading of the policies: the verdict DESIGN.md §3 gives a proposal, with the
 * numbers read here from each catalog action's `policy.json` and none of the product's policy
 * engine (no Cedar), schema or vendor code. The property tests compare the validator's decision
 * with it. Requester roles are Cedar rules in the product, so they are written out here from §3.
 *
 * The verdict is about the proposal's meaning: extra fields are ignored (they must not change
 * anything), and a proposal whose known fields do not form one (missing, wrong type, not money)
 * is `invalid`, which may never be approved either.
 */

export type Verdict =
  | { kind: 'approve' }
  | { kind: 'human'; tier: string; rank: number }
  | { kind: 'reject'; because: string }
  | { kind: 'invalid'; because: string };

/** DESIGN.md §3's seed data, written out here rather than read from the product's SEED. */
export const ORACLE_SEED = {
  validatedVendors: ['Alpha Tech Systems', 'Globex Corporation', 'Initech'],
  customers: { 'C-1001': 'basic', 'C-1002': 'standard', 'C-1003': 'premium' } as Record<string, string>,
  orders: {
    'O-5001': { customerId: 'C-1002', total: 450 },
    'O-5002': { customerId: 'C-1003', total: 2400 },
  } as Record<string, { customerId: string; total: number }>,
};

export const CONFIDENCE_THRESHOLD: number = routingPolicy.confidenceThreshold;

/** DESIGN.md §6: the only ids that may become keys. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Vendor names compare as documented (`vendors.ts`): NFKC, trimmed, inner whitespace runs as
 * one space, lower case. Written again here so a change to the product's rule shows up.
 */
export function sameVendorName(a: string, b: string): boolean {
  const key = (s: string) => s.normalize('NFKC').trim().split(/\s+/).join(' ').toLowerCase();
  return key(a) === key(b);
}

export function isValidatedVendorName(name: string): boolean {
  return ORACLE_SEED.validatedVendors.some((v) => sameVendorName(v, name));
}

function isRealDate(s: string): boolean {
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0..99 as 1900..1999.
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const isMoney = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** ISO 4217: the yen has no minor unit; every other code the generators send has two (issue 12, finding 8). */
const minorUnitsOf = (currency: string) => (currency === 'JPY' ? 0 : 2);

/** An amount with more decimals than its currency has: not a sum of money ($4,999.999, ¥100.5). */
function finerThan(currency: string, amount: number): boolean {
  const scale = 10 ** minorUnitsOf(currency);
  return Math.round(amount * scale) / scale !== amount;
}
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

interface Tier {
  name: string;
  approverRoles: string[];
}

/** policy.json writes money in integer cents; the oracle compares amounts as numbers. */
const units = (cents: number) => cents / 100;

/** §3's two money tiers: the first below `fromCents`, the second from it. */
function tierFor(fromCents: number, amount: number): number {
  return amount >= units(fromCents) ? 1 : 0;
}

/** DESIGN.md §3: who may request what (null: any authenticated user). */
const REQUESTERS: Record<'purchase_order' | 'tier_upgrade' | 'refund', readonly string[] | null> = {
  purchase_order: null,
  tier_upgrade: ['support-agent', 'account-manager'],
  refund: ['support-agent'],
};

export const POLICY_TIERS: Record<'purchase_order' | 'tier_upgrade' | 'refund', readonly Tier[]> = {
  purchase_order: purchaseOrderPolicy.tiers,
  tier_upgrade: tierUpgradePolicy.tiers,
  refund: refundPolicy.tiers,
};

export function tierRank(action: 'purchase_order' | 'tier_upgrade' | 'refund', tier: string | undefined): number {
  return POLICY_TIERS[action].findIndex((t) => t.name === tier);
}

const human = (tiers: readonly Tier[], rank: number): Verdict => ({ kind: 'human', tier: tiers[rank].name, rank });

function mayRequest(requesterRoles: readonly string[] | null, roles: readonly string[]): boolean {
  return requesterRoles === null || roles.some((r) => requesterRoles.includes(r));
}

export function purchaseOrderVerdict(fields: Record<string, unknown>, roles: readonly string[]): Verdict {
  const p = purchaseOrderPolicy;
  const { vendor, amount, description } = fields;
  const currency = fields.currency === undefined ? 'USD' : fields.currency;
  if (!isText(vendor) || !isText(description) || typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    return { kind: 'invalid', because: 'vendor, description or currency' };
  }
  if (typeof amount !== 'number') return { kind: 'invalid', because: 'amount is not a number' };
  if (!mayRequest(REQUESTERS.purchase_order, roles)) return { kind: 'reject', because: 'action_not_permitted' };
  const limits = p.limits;
  // "amount ≤ 0 or > 1,000,000 → reject"; NaN and the infinities are not amounts either.
  if (!(Number.isFinite(amount) && amount > units(limits.minExclusiveCents) && amount <= units(limits.maxInclusiveCents)) || finerThan(currency, amount)) {
    return { kind: 'reject', because: 'amount_out_of_range' };
  }
  const tiers: readonly Tier[] = p.tiers;
  // README: another currency is never auto-approved and goes to the highest tier.
  if (currency !== limits.limitCurrency) return human(tiers, tiers.length - 1);
  if (amount >= units(limits.autonomousLimitCents)) return human(tiers, tierFor(limits.financeDirectorFromCents, amount));
  if (!isValidatedVendorName(vendor)) return human(tiers, tierFor(limits.financeDirectorFromCents, amount));
  return { kind: 'approve' };
}

export function tierUpgradeVerdict(fields: Record<string, unknown>, roles: readonly string[], today: string): Verdict {
  const p = tierUpgradePolicy;
  const { customerId, currentTier, targetTier, effectiveDate, justification } = fields;
  const order: readonly string[] = p.ranks[0].order;
  if (typeof customerId !== 'string' || !ID.test(customerId)) return { kind: 'invalid', because: 'customerId' };
  if (typeof currentTier !== 'string' || typeof targetTier !== 'string' || !order.includes(currentTier) || !order.includes(targetTier)) {
    return { kind: 'invalid', because: 'tiers' };
  }
  if (typeof effectiveDate !== 'string' || !isRealDate(effectiveDate)) return { kind: 'invalid', because: 'effectiveDate' };
  // API.md: justification 10..500 characters.
  if (typeof justification !== 'string' || justification.trim().length < 10 || justification.trim().length > 500) {
    return { kind: 'invalid', because: 'justification' };
  }
  if (!mayRequest(REQUESTERS.tier_upgrade, roles)) return { kind: 'reject', because: 'action_not_permitted' };
  const onFile = Object.prototype.hasOwnProperty.call(ORACLE_SEED.customers, customerId) ? ORACLE_SEED.customers[customerId] : undefined;
  if (onFile === undefined) return { kind: 'reject', because: 'customer_not_found' };
  if (onFile !== currentTier) return { kind: 'reject', because: 'tier_mismatch' };
  const steps = order.indexOf(targetTier) - order.indexOf(currentTier);
  if (steps <= 0) return { kind: 'reject', because: 'invalid_transition' };
  if (effectiveDate < today) return { kind: 'reject', because: 'effective_date_in_past' };
  if (steps > p.limits.maxAutonomousSteps) return human(p.tiers, 0);
  return { kind: 'approve' };
}

export function refundVerdict(fields: Record<string, unknown>, roles: readonly string[]): Verdict {
  const p = refundPolicy;
  const { customerId, orderId, amount, reason } = fields;
  if (typeof customerId !== 'string' || !ID.test(customerId) || typeof orderId !== 'string' || !ID.test(orderId)) {
    return { kind: 'invalid', because: 'ids' };
  }
  if (!isText(reason)) return { kind: 'invalid', because: 'reason' };
  if (typeof amount !== 'number') return { kind: 'invalid', because: 'amount is not a number' };
  if (!isMoney(amount) || finerThan('USD', amount)) return { kind: 'reject', because: 'amount_out_of_range' };
  if (!mayRequest(REQUESTERS.refund, roles)) return { kind: 'reject', because: 'action_not_permitted' };
  const order = Object.prototype.hasOwnProperty.call(ORACLE_SEED.orders, orderId) ? ORACLE_SEED.orders[orderId] : undefined;
  if (!order || order.customerId !== customerId) return { kind: 'reject', because: 'order_not_found' };
  if (amount > order.total) return { kind: 'reject', because: 'refund_exceeds_order' };
  // "always needs approval": never `approve`, whatever the amount.
  return human(p.tiers, tierFor(p.limits.financeDirectorFromCents, amount));
}
