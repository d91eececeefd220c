import * as z from 'zod/mini';
import policy from './policy.json';
import { currency, defineAction, freeText, money, partyName } from '../../lambdas/shared/catalog';
import { SEED } from '../../lambdas/shared/tables';
import { purchaseOrderBuiltin } from './builtin';

const fields = z.strictObject({
  vendor: partyName({
    known: SEED.vendors.map((vendor) => vendor.name),
    nouns: ['vendor', 'supplier'],
    joinedBy: ['PO', 'POs', 'order', 'orders', 'purchase order', 'purchase orders'],
    headedBy: ['PO', 'purchase order'],
  }),
  amount: money(),
  currency: currency(),
  description: freeText({ min: 1, max: 500, says: 'description' }),
});
export type PurchaseOrderFields = z.output<typeof fields>;

/** The vendor on file under the proposed name; absent when there is none. */
export const PurchaseOrderFacts = z.object({
  vendor: z.optional(z.object({ name: z.string().check(z.minLength(1)), validated: z.boolean() })),
});

/** What an executed purchase order shows the requester. */
export const PurchaseOrderReceipt = z.object({
  purchaseOrderNumber: z.string().check(z.minLength(1), z.maxLength(128)),
  vendor: z.string(),
  amount: z.number(),
  currency: z.string(),
  description: z.optional(z.string()),
  createdAt: z.optional(z.string()),
});

export const purchaseOrder = defineAction({
  name: 'purchase_order',
  title: 'purchase order',
  description:
    'Orders goods or services from a vendor for an amount of money, in USD unless the request names another ' +
    'currency. The vendor is a company the business buys from; the description says what is bought. Larger ' +
    'orders, foreign currencies and unknown vendors go to a procurement or finance approver.',
  policy,
  riskClass: 'medium',
  fields,
  summaryFields: ['vendor', 'amount', 'currency', 'description'],
  cues: {
    phrases: [
      /\bPOs?\b/, // case-sensitive: "po" in lower case is too often something else…
      /\b(?:raise|create|open|issue|need|submit|cut)\s+(?:a\s+|the\s+|new\s+)*po\b(?!\s+box)/i, // …unless it is plainly an order: "raise a po"
      /\bpurchase[-\s]+orders?\b/i,
      // The request opens with the verb; "Order O-5001 …" names an order, not a purchase.
      /^\W*(?:please\s+)?(?:buy|purchase|procure)\b/i,
      /^\W*(?:please\s+)?order\s+(?![A-Za-z]{0,3}-?\d|#|no\b|number\b|id\b)/i,
      // "Order 40 headsets from Alpha Tech Systems": a quantity, what, and from or for whom.
      /^\W*(?:please\s+)?order\s+\d{1,5}\s+[a-z][\w\s-]{0,40}?\s+(?:from|for)\s+(?:[A-Z$€£]|\d)/i,
      // The verb later in the sentence: "could you order …", "we'd like to purchase …".
      /\b(?:(?:could|can|would|will)\s+you\s+(?:please\s+)?|(?:like|want|need|have)\s+to\s+|please\s+)(?:order|buy|purchase|procure)\b/i,
      /\b(?:buy|procure)\b/i,
    ],
    words: ['purchase'],
    plurals: ['purchase orders', 'POs'],
    // "Create 3 POs", "two purchase orders", "a second one with Globex".
    several: [
      /\b(?:[2-9]|[1-9]\d+|two|three|four|five|six|seven|eight|nine|ten|several|multiple|many|a\s+few|(?:a\s+)?couple\s+of)\s+(?:separate\s+|new\s+|different\s+|more\s+)?(?:POs?|purchase[-\s]+orders?|orders)\b/i,
      /\bPOs\b/,
      /\bpurchase[-\s]+orders\b/i,
      /\b(?:a\s+)?(?:second|another|separate|further)\s+(?:one|PO|purchase[-\s]+order)\b/i,
    ],
    verbs: ['buy', 'purchase', 'procure', 'order'],
    madeBy: ['raise', 'raised', 'issue', 'issued'],
  },
  examples: [
    {
      text: 'Create a PO for Alpha Tech Systems for $1,250 of USB docks',
      fields: { vendor: 'Alpha Tech Systems', amount: 1250, currency: 'USD', description: 'USB docks' },
    },
    {
      text: 'Please raise a purchase order with Globex Corporation, $3,499.99, ergonomic chairs',
      fields: { vendor: 'Globex Corporation', amount: 3499.99, currency: 'USD', description: 'ergonomic chairs' },
    },
    {
      text: 'Buy 12 monitors from Initech for 2.4k',
      fields: { vendor: 'Initech', amount: 2400, currency: 'USD', description: '12 monitors' },
    },
    {
      text: 'Order 40 headsets from Alpha Tech Systems, total $1.8k',
      fields: { vendor: 'Alpha Tech Systems', amount: 1800, currency: 'USD', description: '40 headsets' },
    },
    {
      text: 'Raise a PO with Globex Corporation for four thousand dollars of server racks',
      fields: { vendor: 'Globex Corporation', amount: 4000, currency: 'USD', description: 'server racks' },
    },
    {
      text: 'Hi team, could you order 6 standing desks from Initech? Budget is $3,060. Thanks!',
      fields: { vendor: 'Initech', amount: 3060, currency: 'USD', description: '6 standing desks' },
    },
    {
      text: 'Create a PO for Initech for €900 of adapters',
      fields: { vendor: 'Initech', amount: 900, currency: 'EUR', description: 'adapters' },
    },
    {
      text: 'Purchase order for Globex Corporation, $12,400, new laptops for the sales team',
      fields: { vendor: 'Globex Corporation', amount: 12400, currency: 'USD', description: 'new laptops for the sales team' },
    },
  ],
  facts: PurchaseOrderFacts,
  receipt: PurchaseOrderReceipt,
  builtin: purchaseOrderBuiltin,
});

export interface PurchaseOrderProposal {
  action: typeof purchaseOrder.name;
  fields: PurchaseOrderFields;
}
