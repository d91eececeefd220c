import * as z from '../schemas/zod';
import { RoleName } from '../ids';

/**
 * The shape of an action's `policy.json` in the catalog: the numbers and names its Cedar policy
 * reads (the rule itself is `policy.cedar`), and `policies/routing.json`. A file that does not
 * match fails at load.
 */

export const ApprovalTier = z.strictObject({
  /** The id of the `Approve` permit in policy.cedar that selects this tier. */
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  approverRoles: z.array(RoleName).check(z.minLength(1)),
});
export type ApprovalTier = z.infer<typeof ApprovalTier>;

/** A field whose value is one of `order`: the policy sees its place as `<field>Rank` (lowest 0). */
const Rank = z.strictObject({
  fields: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  order: z.array(z.string().check(z.minLength(1))).check(z.minLength(2)),
});

const CumulativeCommon = {
  /** How the policy reads it: `context.facts.cumulative.<name>`, a Long (minor units of money, or steps). */
  name: z.string().check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, 'must be camelCase, as Cedar reads it')),
  /**
   * What it is counted per: `requester` (the requester's verified subject) or field names. A sum
   * of money is also per currency, so amounts in different currencies never add up.
   */
  per: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  /** The window, in days before the decision; absent: for the counterparty's lifetime (a refund per order). */
  windowDays: z.optional(z.number().check(z.int(), z.gte(1), z.lte(3650))),
  /**
   * A date field the share counts from when that date is later than the request (an effect that
   * takes effect then, e.g. `effectiveDate`): a change scheduled for day 90 counts in the window
   * around day 90, not only in the one around its request.
   */
  countedFrom: z.optional(z.string().check(z.minLength(1))),
};

/**
 * A cumulative fact the action's policy reads: what is already committed to the same
 * counterparty, executed or still in flight, this request included. Either `sum` of a money
 * field, or `steps` up a rank (from one ranked field's value to another's).
 */
export const CumulativeMeasure = z.union([
  z.strictObject({ ...CumulativeCommon, sum: z.string().check(z.minLength(1)) }),
  z.strictObject({ ...CumulativeCommon, steps: z.strictObject({ from: z.string().check(z.minLength(1)), to: z.string().check(z.minLength(1)) }) }),
]);
export type CumulativeMeasure = z.infer<typeof CumulativeMeasure>;

export const ActionPolicy = z.strictObject({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  version: z.string().check(z.minLength(1), z.maxLength(64)),
  /**
   * How long an executed effect blocks an identical proposal (`duplicate_proposal`), in days
   * before today. Beyond it the same proposal is a new request (next month's identical PO).
   */
  duplicateWindowDays: z.number().check(z.int(), z.gte(1), z.lte(3650)),
  /** In escalation order: a human signal on an otherwise approved proposal goes to the first. */
  tiers: z.array(ApprovalTier).check(z.minLength(1), z.refine((tiers) => new Set(tiers.map((t) => t.name)).size === tiers.length, 'tier names must be unique')),
  /** The numbers the policy compares with, as `context.limits` (money in integer cents). */
  limits: z.record(z.string(), z.union([z.number().check(z.int()), z.string(), z.boolean()])),
  ranks: z._default(z.array(Rank), []),
  cumulative: z._default(z.array(CumulativeMeasure), []).check(z.refine((measures) => new Set(measures.map((m) => m.name)).size === measures.length, 'cumulative names must be unique')),
});
export type ActionPolicy = z.infer<typeof ActionPolicy>;

// Not strict: triage and inference read their own settings from this file too.
export const RoutingPolicy = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  version: z.string().check(z.minLength(1), z.maxLength(64)),
  /** Model confidence below this routes to a human. */
  confidenceThreshold: z.number().check(z.gte(0), z.lte(1)),
  /** Triage complexity from which the strong model tier is used. */
  complexityHighFrom: z.number().check(z.gte(0), z.lte(1)),
});
export type RoutingPolicy = z.infer<typeof RoutingPolicy>;
