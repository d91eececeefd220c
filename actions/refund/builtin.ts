import type * as z from 'zod/mini';
import { recordKey, requestHash, type BuiltinConnector } from '../../lambdas/shared/catalog';
import { EffectPreconditionFailed } from '../../lambdas/shared/errors';
import type { RecordItem } from '../../lambdas/shared/ports';
import type { RefundFacts, RefundFields, RefundReceipt } from './action';

export function refundIdFor(requestId: string): string {
  return `RF-${requestHash(requestId)}`;
}

export const refundKey = (requestId: string) => recordKey('REFUND', requestId);

/** Money as DynamoDB adds it (exact decimals) and as receipts show it: cents. */
function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

function hasRefund(refundIds: unknown, requestId: string): boolean {
  if (refundIds instanceof Set) return refundIds.has(requestId);
  return Array.isArray(refundIds) && refundIds.includes(requestId);
}

function receiptOf(item: RecordItem): z.input<typeof RefundReceipt> {
  return {
    refundId: item.refundId as string,
    orderId: item.orderId as string,
    customerId: item.customerId as string,
    amount: item.amount as number,
    currency: item.currency as string,
    refundedTotalAfter: item.refundedTotalAfter as number,
  };
}

/**
 * Facts: the order, with what was already refunded on it (ownership is on the order itself, so
 * no separate customer read is needed). Effect: the order's refunded total and the refund record.
 */
export const refundBuiltin: BuiltinConnector<RefundFields, z.input<typeof RefundFacts>, z.input<typeof RefundReceipt>> = {
  // refundIds starts absent: DynamoDB has no empty string set, and ADD creates it.
  seed: [
    { type: 'ORDER', id: 'O-5001', attributes: { orderId: 'O-5001', customerId: 'C-1002', total: 450.0, currency: 'USD', refundedTotal: 0 } },
    { type: 'ORDER', id: 'O-5002', attributes: { orderId: 'O-5002', customerId: 'C-1003', total: 2400.0, currency: 'USD', refundedTotal: 0 } },
  ],

  async facts(fields, records) {
    const order = await records.getOrder(fields.orderId);
    return order ? { order } : {};
  },

  async effect({ requestId, fields, at }, records) {
    const key = refundKey(requestId);
    const done = await records.get(key);
    if (done) return receiptOf(done);

    const { customerId, orderId, amount } = fields;
    const order = await records.getOrder(orderId);
    if (!order || order.customerId !== customerId) {
      throw new EffectPreconditionFailed('order_not_found', `Order ${orderId} does not exist for customer ${customerId}.`);
    }
    const exceeds = () =>
      new EffectPreconditionFailed('refund_exceeds_order', `Refund of ${amount} exceeds what remains refundable on order ${orderId}.`);
    // The most that may already be refunded for this refund to fit within the order total.
    const maxBefore = cents(order.total - amount);
    if (maxBefore < 0) throw exceeds();

    // ONE conditional update: the total and the set of refunded requests move together, so
    // neither a retry (requestId already in refundIds) nor a concurrent refund can overshoot.
    const orderKey = recordKey('ORDER', orderId);
    const updated = await records.updateIf({
      key: orderKey,
      update: 'SET refundedTotal = if_not_exists(refundedTotal, :zero) + :amount ADD refundIds :ridSet',
      condition:
        'attribute_exists(pk) AND customerId = :cid AND NOT contains(refundIds, :rid) ' +
        'AND (attribute_not_exists(refundedTotal) OR refundedTotal <= :maxBefore)',
      values: { ':zero': 0, ':amount': amount, ':ridSet': new Set([requestId]), ':rid': requestId, ':cid': customerId, ':maxBefore': maxBefore },
    });
    let refundedTotalAfter: number;
    if (updated) {
      refundedTotalAfter = Number(updated.refundedTotal);
    } else {
      const current = await records.get(orderKey);
      if (!current || current.customerId !== customerId) {
        throw new EffectPreconditionFailed('order_not_found', `Order ${orderId} does not exist for customer ${customerId}.`);
      }
      if (!hasRefund(current.refundIds, requestId)) throw exceeds();
      // Our earlier attempt added the refund but failed before recording it. The total
      // right after it is not kept; the current total is exact unless another refund followed.
      refundedTotalAfter = Number(current.refundedTotal ?? 0);
    }
    const refund = {
      ...key,
      refundId: refundIdFor(requestId),
      requestId,
      orderId,
      customerId,
      amount,
      currency: order.currency,
      refundedTotalAfter,
      at,
    };
    if (!(await records.putIfAbsent(refund))) return receiptOf((await records.get(key)) ?? refund);
    return receiptOf(refund);
  },
};
