import * as z from 'zod/mini';
import policy from './policy.json';
import type { Order } from '../../lambdas/shared/ports';
import { defineAction, freeText, money, recordId } from '../../lambdas/shared/catalog';
import { refundBuiltin } from './builtin';

const fields = z.strictObject({
  customerId: recordId('customer', { prefix: 'C-' }),
  orderId: recordId('order', { prefix: 'O-' }),
  amount: money(),
  reason: freeText({ min: 1, max: 500 }),
});
export type RefundFields = z.output<typeof fields>;

/** The order on file, with what was already refunded on it; absent when there is none. */
export const RefundFacts = z.object({
  order: z.optional(z.object({
      orderId: z.string().check(z.minLength(1)),
      customerId: z.string().check(z.minLength(1)),
      total: z.number(),
      currency: z.string(),
      refundedTotal: z.number().check(z.gte(0)),
    })),
});

/** The order before and after the refund, as the approver sees it. */
export const RefundDryRun = z.strictObject({
  orderId: z.string(),
  customerId: z.string(),
  orderTotal: z.number(),
  alreadyRefunded: z.number(),
  refundAmount: z.number(),
  remainingAfterRefund: z.number(),
});

/** The refund as paid, and the order's refunded total after it. */
export const RefundReceipt = z.object({
  refundId: z.string().check(z.minLength(1), z.maxLength(128)),
  orderId: z.string(),
  customerId: z.string(),
  amount: z.number(),
  currency: z.string(),
  refundedTotalAfter: z.number(),
});

export const refund = defineAction({
  name: 'refund',
  title: 'refund',
  description:
    "Pays money back to a customer against one of their orders, with the reason. The order must be the customer's " +
    'and the refund no more than what is left of its total; every refund goes to a human approver, with a dry run ' +
    'of the order before and after.',
  policy,
  riskClass: 'high',
  fields,
  summaryFields: ['customerId', 'orderId', 'amount'],
  dryRun: { schema: RefundDryRun, of: refundDryRun },
  cues: {
    phrases: [
      /\brefund(?:s|ed|ing)?\b/i,
      /\breimburs(?:e|ed|es|ing|ement)\b/i,
      /\bmoney\s+back\b/i,
      /\bcredit\s+back\b/i,
      // Money going back to a customer: "send $320 back to customer C-1002", "needs 2.1k back on order O-5002".
      /\b(?:send|give|pay|credit|transfer|return)\b[^.;!?]{0,60}?\bback\s+(?:to|on|for)\b/i,
      /\d(?:k|\s*(?:usd|dollars|euros))?\s+back\s+(?:to|on|for)\b/i,
    ],
    words: ['refund'],
    madeBy: ['issue', 'issued'],
  },
  examples: [
    {
      text: 'Refund $120 on order O-5001 for customer C-1002, item arrived damaged',
      fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'item arrived damaged' },
    },
    {
      text: 'Please refund customer C-1002 $45.50 on O-5001 - wrong colour delivered',
      fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 45.5, reason: 'wrong colour delivered' },
    },
    {
      text: 'refund 200 USD to C-1002 for order O-5001, late delivery',
      fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 200, reason: 'late delivery' },
    },
    {
      text: 'Reimburse customer C-1003 $1,500 on order O-5002, half the units were faulty',
      fields: { customerId: 'C-1003', orderId: 'O-5002', amount: 1500, reason: 'half the units were faulty' },
    },
    {
      text: 'Refund the full $2,400 on O-5002 for C-1003, order cancelled before shipping',
      fields: { customerId: 'C-1003', orderId: 'O-5002', amount: 2400, reason: 'order cancelled before shipping' },
    },
    {
      text: 'Issue a refund of 1.2k to customer C-1003 on order O-5002 for a pricing error',
      fields: { customerId: 'C-1003', orderId: 'O-5002', amount: 1200, reason: 'for a pricing error' },
    },
    {
      text: 'Money back please: C-1002, order O-5001, $75, package never arrived',
      fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 75, reason: 'package never arrived' },
    },
  ],
  facts: RefundFacts,
  receipt: RefundReceipt,
  builtin: refundBuiltin,
});

// Money on records is in cents; rounding the difference avoids 0.1 + 0.2 style drift.
function roundCents(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The order before and after the refund, for the approver; the policy has checked the order is the customer's. */
function refundDryRun(fields: { customerId: string; orderId: string; amount: number }, facts: Readonly<Record<string, unknown>>): z.input<typeof RefundDryRun> | undefined {
  const order = facts.order as Order | undefined;
  if (!order) return undefined;
  const remaining = roundCents(order.total - order.refundedTotal);
  return {
    orderId: fields.orderId,
    customerId: fields.customerId,
    orderTotal: order.total,
    alreadyRefunded: order.refundedTotal,
    refundAmount: fields.amount,
    remainingAfterRefund: roundCents(remaining - fields.amount),
  };
}
export interface RefundProposal {
  action: typeof refund.name;
  fields: RefundFields;
}
