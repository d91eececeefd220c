import * as z from 'zod/mini';
import policy from './policy.json';
import { choice, date, defineAction, freeText, IsoDate, recordId } from '../../lambdas/shared/catalog';
import { CustomerTier, TIERS } from '../../lambdas/shared/schemas/customers';
import { tierUpgradeBuiltin } from './builtin';

const fields = z.strictObject({
  customerId: recordId('customer', { prefix: 'C-' }),
  currentTier: choice(TIERS, { nouns: ['tier', 'plan'] }),
  targetTier: choice(TIERS, { nouns: ['tier', 'plan'] }),
  effectiveDate: date(),
  justification: freeText({ min: 10, max: 500 }),
});
export type TierUpgradeFields = z.output<typeof fields>;

/**
 * The customer on file and its tier as of the decision's day; absent when there is none.
 * `scheduled`: a change already recorded that takes effect later (a second one waits for it).
 */
export const TierUpgradeFacts = z.object({
  customer: z.optional(z.object({
      customerId: z.string().check(z.minLength(1)),
      tier: CustomerTier,
      scheduled: z.optional(z.object({ tier: CustomerTier, effectiveDate: IsoDate })),
    })),
});

/**
 * The tier change as made. `status`: `applied` when the tier moved, `scheduled` when the
 * effective date was still to come and the change waits on the customer record for it.
 */
export const TierUpgradeReceipt = z.object({
  customerId: z.string(),
  fromTier: z.string(),
  toTier: z.string(),
  effectiveDate: z.string(),
  status: z.optional(z.enum(['applied', 'scheduled'])),
});

export const tierUpgrade = defineAction({
  name: 'tier_upgrade',
  title: 'tier upgrade',
  description:
    "Moves a customer from their current service tier (basic, standard, premium) to a higher one from a date in " +
    "the future, with the reason for it. The current tier must be the customer's tier on record; a jump of more " +
    'than one tier goes to an account manager.',
  policy,
  riskClass: 'medium',
  fields,
  summaryFields: ['customerId', 'currentTier', 'targetTier', 'effectiveDate'],
  cues: {
    phrases: [/\bupgrad(?:e|es|ed|ing)\b/i, /\btier\b/i, /\bmove\s+(?:customer\s+)?\S+\s+up\b/i],
    words: ['upgrade'],
    plurals: ['tier upgrades', 'upgrades'],
    // "Move customer C-1002 from standard to premium": a tier upgrade whatever the verb.
    change: { from: 'currentTier', to: 'targetTier' },
  },
  examples: [
    {
      text: 'Upgrade customer C-1001 from basic to standard from 2027-01-01, they outgrew their plan',
      fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: 'they outgrew their plan' },
    },
    {
      text: 'Please move C-1002 from standard to premium tier effective 2027-03-15; they signed a larger contract',
      fields: { customerId: 'C-1002', currentTier: 'standard', targetTier: 'premium', effectiveDate: '2027-03-15', justification: 'they signed a larger contract' },
    },
    {
      text: 'upgrade C-1001 basic -> standard from 1 Jan 2027 because their team doubled in size',
      fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: 'their team doubled in size' },
    },
    {
      text: 'Customer C-1002 wants to go from standard to premium tier starting 15 February 2027, reason: volume growth this year',
      fields: { customerId: 'C-1002', currentTier: 'standard', targetTier: 'premium', effectiveDate: '2027-02-15', justification: 'volume growth this year' },
    },
    {
      text: 'Can we upgrade C-1001 from Basic to Standard effective 2027-06-30? Justification: needs priority support',
      fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-06-30', justification: 'needs priority support' },
    },
    {
      text: 'Bump C-1001 up a tier from basic to standard starting 2027-08-01 as they added 40 seats',
      fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-08-01', justification: 'they added 40 seats' },
    },
    {
      text: 'Upgrade customer C-1001 from basic to premium from 2027-02-01, strategic account expansion',
      fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'premium', effectiveDate: '2027-02-01', justification: 'strategic account expansion' },
    },
  ],
  facts: TierUpgradeFacts,
  receipt: TierUpgradeReceipt,
  builtin: tierUpgradeBuiltin,
});

export interface TierUpgradeProposal {
  action: typeof tierUpgrade.name;
  fields: TierUpgradeFields;
}
