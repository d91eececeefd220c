import * as z from 'zod/mini';
import policy from './policy.json';
import { currency, defineAction, freeText, money, recordId } from '../../lambdas/shared/catalog';

const fields = z.strictObject({
  customerId: recordId('customer', { prefix: 'C-' }),
  newLimit: money(),
  currency: currency(),
  reason: freeText({ min: 10, max: 500 }),
});
export type CreditLimitChangeFields = z.output<typeof fields>;

/** The customer's current credit limit in the team's system (its ERP); absent when there is no such customer. */
export const CreditLimitFacts = z.object({
  customer: z.optional(z.object({
      customerId: z.string().check(z.minLength(1)),
      creditLimit: z.number().check(z.gte(0)),
      currency: z.string().check(z.regex(/^[A-Z]{3}$/)),
    })),
});

/** The limit before and after, as the approver sees it; `change` only when both are in one currency. */
export const CreditLimitDryRun = z.strictObject({
  customerId: z.string(),
  currentLimit: z.number(),
  currentCurrency: z.string(),
  newLimit: z.number(),
  currency: z.string(),
  change: z.optional(z.number()),
});

/** The change as the team's system made it. */
export const CreditLimitReceipt = z.object({
  changeId: z.string().check(z.minLength(1), z.maxLength(128)),
  customerId: z.string(),
  previousLimit: z.number(),
  newLimit: z.number(),
  currency: z.string(),
});

export const creditLimitChange = defineAction({
  name: 'credit_limit_change',
  title: 'credit limit change',
  description:
    "Sets a customer's credit limit in the team's ERP to a new amount, with the reason. The customer must exist " +
    'there and the new limit must differ from the current one and be at most 1,000,000; every change goes to a ' +
    'human, with a dry run of the current and the new limit: a credit analyst for a decrease or an increase under ' +
    '10,000, a finance director for a larger one.',
  policy,
  riskClass: 'high',
  fields,
  summaryFields: ['customerId', 'newLimit', 'currency'],
  dryRun: { schema: CreditLimitDryRun, of: creditLimitDryRun },
  cues: {
    phrases: [/\bcredit[\s-]+(?:limit|line)s?\b/i],
    words: ['credit'],
    plurals: ['credit limit changes', 'credit limits'],
  },
  examples: [
    {
      text: 'Raise the credit limit for customer C-1001 to $8,000, they doubled their monthly orders',
      fields: { customerId: 'C-1001', newLimit: 8000, currency: 'USD', reason: 'they doubled their monthly orders' },
    },
    {
      text: 'Set the credit limit of C-1002 to 25,000 USD because they signed a two-year contract',
      fields: { customerId: 'C-1002', newLimit: 25000, currency: 'USD', reason: 'they signed a two-year contract' },
    },
    {
      text: 'Increase customer C-1003 credit limit to $75,000, reason: annual volume review',
      fields: { customerId: 'C-1003', newLimit: 75000, currency: 'USD', reason: 'annual volume review' },
    },
    {
      text: 'Lower the credit limit for C-1002 to $15,000, late payments this quarter',
      fields: { customerId: 'C-1002', newLimit: 15000, currency: 'USD', reason: 'late payments this quarter' },
    },
    {
      text: 'Credit limit for customer C-1001 should go to 12k, seasonal stock build-up',
      fields: { customerId: 'C-1001', newLimit: 12000, currency: 'USD', reason: 'seasonal stock build-up' },
    },
    {
      text: 'Bump the credit line of C-1001 to $9,500 as they added three new stores',
      fields: { customerId: 'C-1001', newLimit: 9500, currency: 'USD', reason: 'they added three new stores' },
    },
  ],
  facts: CreditLimitFacts,
  receipt: CreditLimitReceipt,
});

// Money on records is in cents; rounding the difference avoids 0.1 + 0.2 style drift.
function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The current and the new limit for the approver; the policy has checked the customer exists. */
function creditLimitDryRun(fields: CreditLimitChangeFields, facts: Readonly<Record<string, unknown>>): z.input<typeof CreditLimitDryRun> | undefined {
  const customer = (facts as z.output<typeof CreditLimitFacts>).customer;
  if (!customer) return undefined;
  return {
    customerId: fields.customerId,
    currentLimit: customer.creditLimit,
    currentCurrency: customer.currency,
    newLimit: fields.newLimit,
    currency: fields.currency,
    ...(customer.currency === fields.currency ? { change: roundCents(fields.newLimit - customer.creditLimit) } : {}),
  };
}
