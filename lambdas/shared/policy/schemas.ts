import * as z from 'zod';
import { RoleName } from '../ids';

/**
 * The shape of an action's `policy.json` in the catalog: the numbers and names its Cedar policy
 * reads (the rule itself is `policy.cedar`), and `policies/routing.json`. A file that does not
 * match fails at load.
 */

export const ApprovalTier = z.strictObject({
  /** The id of the `Approve` permit in policy.cedar that selects this tier. */
  name: z.string().min(1).max(64),
  approverRoles: z.array(RoleName).min(1),
});
export type ApprovalTier = z.infer<typeof ApprovalTier>;

/** A field whose value is one of `order`: the policy sees its place as `<field>Rank` (lowest 0). */
const Rank = z.strictObject({
  fields: z.array(z.string().min(1)).min(1),
  order: z.array(z.string().min(1)).min(2),
});

const CumulativeCommon = {
  /** How the policy reads it: `context.facts.cumulative.<name>`, a Long (minor units of money, or steps). */
  name: z.string().regex(/^[a-z][A-Za-z0-9]{0,63}$/, 'must be camelCase, as Cedar reads it'),
  /**
   * What it is counted per: `requester` (the requester's verified subject) or field names. A sum
   * of money is also per currency, so amounts in different currencies never add up.
   */
  per: z.array(z.string().min(1)).min(1),
  /** The window, in days before the decision; absent: for the counterparty's lifetime (a refund per order). */
  windowDays: z.number().int().min(1).max(3650).optional(),
  /**
   * A date field the share counts from when that date is later than the request (an effect that
   * takes effect then, e.g. `effectiveDate`): a change scheduled for day 90 counts in the window
   * around day 90, not only in the one around its request.
   */
  countedFrom: z.string().min(1).optional(),
};

/**
 * A cumulative fact the action's policy reads: what is already committed to the same
 * counterparty, executed or still in flight, this request included. Either `sum` of a money
 * field, or `steps` up a rank (from one ranked field's value to another's).
 */
export const CumulativeMeasure = z.union([
  z.strictObject({ ...CumulativeCommon, sum: z.string().min(1) }),
  z.strictObject({ ...CumulativeCommon, steps: z.strictObject({ from: z.string().min(1), to: z.string().min(1) }) }),
]);
export type CumulativeMeasure = z.infer<typeof CumulativeMeasure>;

export const ActionPolicy = z.strictObject({
  id: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
  /**
   * How long an executed effect blocks an identical proposal (`duplicate_proposal`), in days
   * before today. Beyond it the same proposal is a new request (next month's identical PO).
   */
  duplicateWindowDays: z.number().int().min(1).max(3650),
  /** In escalation order: a human signal on an otherwise approved proposal goes to the first. */
  tiers: z
    .array(ApprovalTier)
    .min(1)
    .refine((tiers) => new Set(tiers.map((t) => t.name)).size === tiers.length, 'tier names must be unique'),
  /** The numbers the policy compares with, as `context.limits` (money in integer cents). */
  limits: z.record(z.string(), z.union([z.number().int(), z.string(), z.boolean()])),
  ranks: z.array(Rank).default([]),
  cumulative: z
    .array(CumulativeMeasure)
    .default([])
    .refine((measures) => new Set(measures.map((m) => m.name)).size === measures.length, 'cumulative names must be unique'),
});
export type ActionPolicy = z.infer<typeof ActionPolicy>;

// Not strict: triage and inference read their own settings from this file too.
export const RoutingPolicy = z.object({
  id: z.string().min(1).max(64),
  version: z.string().min(1).max(64),
  /** Model confidence below this routes to a human. */
  confidenceThreshold: z.number().min(0).max(1),
  /** Triage complexity from which the strong model tier is used. */
  complexityHighFrom: z.number().min(0).max(1),
});
export type RoutingPolicy = z.infer<typeof RoutingPolicy>;
