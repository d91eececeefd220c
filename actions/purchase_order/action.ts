import * as z from 'zod';
import policy from './policy.json';
import { currency, defineAction, freeText, money, partyName } from '../../lambdas/shared/catalog';

export const purchaseOrder = defineAction({
  name: 'purchase_order',
  title: 'purchase order',
  description:
    'Orders goods or services from a vendor for an amount of money, in USD unless the request names another ' +
    'currency. The vendor is a company the business buys from; the description says what is bought. Larger ' +
    'orders, foreign currencies and unknown vendors go to a procurement or finance approver.',
  policy,
  riskClass: 'medium',
  fields: z.strictObject({
    vendor: partyName(),
    amount: money(),
    currency: currency(),
    description: freeText({ min: 1, max: 500 }),
  }),
  summaryFields: ['vendor', 'amount', 'currency', 'description'],
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
});

export type PurchaseOrderFields = z.output<typeof purchaseOrder.fields>;
export interface PurchaseOrderProposal {
  action: typeof purchaseOrder.name;
  fields: PurchaseOrderFields;
}
