import type * as z from 'zod/mini';
import { recordKey, requestHash, type BuiltinConnector } from '../../lambdas/shared/catalog';
import type { RecordItem } from '../../lambdas/shared/ports';
import type { PurchaseOrderFacts, PurchaseOrderFields, PurchaseOrderReceipt } from './action';

/** Derived from the request, so a retried execution writes the same PO, never a second one. */
export function purchaseOrderNumber(requestId: string): string {
  return `PO-${requestHash(requestId)}`;
}

export const purchaseOrderKey = (poNumber: string) => recordKey('PO', poNumber);

function receiptOf(item: RecordItem): z.input<typeof PurchaseOrderReceipt> {
  return {
    purchaseOrderNumber: item.purchaseOrderNumber as string,
    vendor: item.vendor as string,
    amount: item.amount as number,
    currency: item.currency as string,
    description: item.description as string,
    createdAt: item.createdAt as string,
  };
}

/** Facts: the vendor on file (validated or not). Effect: one PO item per request. */
export const purchaseOrderBuiltin: BuiltinConnector<PurchaseOrderFields, z.input<typeof PurchaseOrderFacts>, z.input<typeof PurchaseOrderReceipt>> = {
  async facts(fields, records) {
    const vendor = await records.findVendor(fields.vendor);
    return vendor ? { vendor } : {};
  },

  async effect({ requestId, fields, at }, records) {
    const poNumber = purchaseOrderNumber(requestId);
    const key = purchaseOrderKey(poNumber);
    const { vendor, amount, currency, description } = fields;
    const item = { ...key, purchaseOrderNumber: poNumber, requestId, vendor, amount, currency, description, createdAt: at };
    if (!(await records.putIfAbsent(item))) {
      const existing = await records.get(key);
      // 40 bits of sha256: a collision between two requests is not expected, but never silent.
      if (existing?.requestId !== requestId) throw new Error(`purchase order number ${poNumber} is taken`);
      return receiptOf(existing);
    }
    return receiptOf(item);
  },
};
