import * as z from 'zod';
import { Id } from '../ids';

/**
 * The three actions Warden ships, one zod schema each. These are the API's `fields`, the
 * model's structured output (as JSON schema) and the validator's first check: one source.
 */
export const ACTIONS = ['purchase_order', 'tier_upgrade', 'refund'] as const;
export const ActionName = z.enum(ACTIONS);
export type ActionName = z.infer<typeof ActionName>;

export const TIERS = ['basic', 'standard', 'premium'] as const;
export const CustomerTier = z.enum(TIERS);
export type CustomerTier = z.infer<typeof CustomerTier>;

/** A positive, finite amount of money (NaN, Infinity and zero are not money). */
export const Amount = z.number().finite().positive();

/** `YYYY-MM-DD` that is a real calendar date. */
export const IsoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'must be a real calendar date');

export const PurchaseOrderFields = z.strictObject({
  vendor: z.string().trim().min(1).max(200),
  amount: Amount,
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
    .default('USD'),
  description: z.string().trim().min(1).max(500),
});
export type PurchaseOrderFields = z.infer<typeof PurchaseOrderFields>;

export const TierUpgradeFields = z.strictObject({
  customerId: Id,
  currentTier: CustomerTier,
  targetTier: CustomerTier,
  effectiveDate: IsoDate,
  justification: z.string().trim().min(10).max(500),
});
export type TierUpgradeFields = z.infer<typeof TierUpgradeFields>;

export const RefundFields = z.strictObject({
  customerId: Id,
  orderId: Id,
  amount: Amount,
  reason: z.string().trim().min(1).max(500),
});
export type RefundFields = z.infer<typeof RefundFields>;

export const FIELDS_SCHEMA = {
  purchase_order: PurchaseOrderFields,
  tier_upgrade: TierUpgradeFields,
  refund: RefundFields,
} as const;

export const Proposal = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('purchase_order'), fields: PurchaseOrderFields }),
  z.strictObject({ action: z.literal('tier_upgrade'), fields: TierUpgradeFields }),
  z.strictObject({ action: z.literal('refund'), fields: RefundFields }),
]);
export type Proposal = z.infer<typeof Proposal>;
export type PurchaseOrderProposal = Extract<Proposal, { action: 'purchase_order' }>;
export type TierUpgradeProposal = Extract<Proposal, { action: 'tier_upgrade' }>;
export type RefundProposal = Extract<Proposal, { action: 'refund' }>;

/** Parse `fields` for a named action; the result carries zod's issues with their paths. */
export function parseFields(action: ActionName, fields: unknown) {
  return FIELDS_SCHEMA[action].safeParse(fields);
}

/** `fields.amount: must be > 0` — the path a client needs to fix its body. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(safeSegment)].filter(Boolean).join('.');
      // zod quotes unknown keys verbatim; a key can be anything a client sent, secrets included.
      const message = issue.code === 'unrecognized_keys' ? `unrecognized key(s): ${issue.keys.map(safeSegment).join(', ')}` : issue.message;
      return `${path || '(body)'}: ${message}`;
    })
    .join('; ');
}

/** A path segment as sent, when it is a plain short name or an index; anything else is `<key>`. */
function safeSegment(segment: PropertyKey): string {
  if (typeof segment === 'number') return String(segment);
  const plain = typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(segment) && !/^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(segment);
  return plain ? segment : '<key>';
}
