import * as z from 'zod';
import { CustomerTier, TIERS } from '../schemas/actions';

/**
 * The shape of the policy files in `policies/`. Every threshold, approval tier and role the
 * rules use comes from these files; a file that does not match fails at module load.
 */

const RoleName = z.string().min(1).max(128);

/** `null` means any authenticated principal may request the action. */
const RequesterRoles = z.array(RoleName).min(1).nullable();

const PolicyMeta = {
  id: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
};

/**
 * How long an executed effect blocks an identical proposal (`duplicate_proposal`), in days
 * before today. Beyond it the same proposal is a new request (next month's identical PO).
 */
const DuplicateWindowDays = z.number().int().min(1).max(3650);

export const ApprovalTier = z.strictObject({
  name: z.string().min(1).max(64),
  /** The tier applies from this amount (inclusive) up to the next tier's `fromAmount`. */
  fromAmount: z.number().finite().min(0).default(0),
  approverRoles: z.array(RoleName).min(1),
});
export type ApprovalTier = z.infer<typeof ApprovalTier>;

/** Ordered lowest first; the first tier starts at 0 so every amount has a tier. */
const ApprovalTiers = z
  .array(ApprovalTier)
  .min(1)
  .superRefine((tiers, ctx) => {
    if (tiers[0]?.fromAmount !== 0) ctx.addIssue({ code: 'custom', message: 'the first approval tier must start at fromAmount 0' });
    for (let i = 1; i < tiers.length; i++) {
      if (tiers[i].fromAmount <= tiers[i - 1].fromAmount) {
        ctx.addIssue({ code: 'custom', path: [i, 'fromAmount'], message: 'approval tiers must be in strictly ascending fromAmount order' });
      }
    }
    if (new Set(tiers.map((t) => t.name)).size !== tiers.length) {
      ctx.addIssue({ code: 'custom', message: 'approval tier names must be unique' });
    }
  });

export const PurchaseOrderPolicy = z
  .strictObject({
    ...PolicyMeta,
    action: z.literal('purchase_order'),
    requesterRoles: RequesterRoles,
    duplicateWindowDays: DuplicateWindowDays,
    amount: z.strictObject({ minExclusive: z.number().finite().min(0), maxInclusive: z.number().finite().positive() }),
    requireValidatedVendor: z.boolean(),
    /** Amounts strictly below this (with a validated vendor) are approved without a human. */
    autonomousLimit: z.number().finite().positive(),
    /** The currency the limits are written in: an order in any other cannot be shown to be under them. */
    limitCurrency: z.string().regex(/^[A-Z]{3}$/),
    approvalTiers: ApprovalTiers,
  })
  .refine((p) => p.amount.minExclusive < p.autonomousLimit && p.autonomousLimit <= p.amount.maxInclusive, {
    message: 'autonomousLimit must lie inside the allowed amount range',
  });
export type PurchaseOrderPolicy = z.infer<typeof PurchaseOrderPolicy>;

export const TierUpgradePolicy = z
  .strictObject({
    ...PolicyMeta,
    action: z.literal('tier_upgrade'),
    requesterRoles: RequesterRoles,
    duplicateWindowDays: DuplicateWindowDays,
    /** Lowest to highest; an upgrade moves right. */
    tierOrder: z.array(CustomerTier),
    /** Upgrades of at most this many steps are approved without a human. */
    maxAutonomousSteps: z.number().int().min(0),
    approvalTiers: ApprovalTiers,
  })
  .refine((p) => p.tierOrder.length === TIERS.length && new Set(p.tierOrder).size === TIERS.length, {
    message: `tierOrder must list each of ${TIERS.join(', ')} exactly once`,
    path: ['tierOrder'],
  });
export type TierUpgradePolicy = z.infer<typeof TierUpgradePolicy>;

export const RefundPolicy = z.strictObject({
  ...PolicyMeta,
  action: z.literal('refund'),
  requesterRoles: RequesterRoles,
  duplicateWindowDays: DuplicateWindowDays,
  // Refunds move money out: DESIGN.md §3 says always approve by a human, so a file that
  // tries to switch that off fails to load instead of silently auto-approving.
  alwaysRequiresApproval: z.literal(true),
  approvalTiers: ApprovalTiers,
});
export type RefundPolicy = z.infer<typeof RefundPolicy>;

// Not strict: triage and inference read their own settings from this file too.
export const RoutingPolicy = z.object({
  ...PolicyMeta,
  /** Model confidence below this routes to a human. */
  confidenceThreshold: z.number().min(0).max(1),
  /** Triage complexity from which the strong model tier is used. */
  complexityHighFrom: z.number().min(0).max(1),
});
export type RoutingPolicy = z.infer<typeof RoutingPolicy>;

export const PolicySet = z.strictObject({
  purchase_order: PurchaseOrderPolicy,
  tier_upgrade: TierUpgradePolicy,
  refund: RefundPolicy,
  routing: RoutingPolicy,
});
export type PolicySet = z.infer<typeof PolicySet>;
/** What `parsePolicySet` accepts: the raw JSON of each file. */
export type RawPolicySet = z.input<typeof PolicySet>;
export type ActionPolicy = PolicySet['purchase_order' | 'tier_upgrade' | 'refund'];
