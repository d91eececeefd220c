import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import type { PurchaseOrderProposal } from '../../../../actions/purchase_order/action';
import type { RefundProposal } from '../../../../actions/refund/action';
import type { TierUpgradeProposal } from '../../../../actions/tier_upgrade/action';
import { DuplicateEffect, EffectPreconditionFailed, InvalidInput, InvalidWorkflowState } from '../../errors';
import { isValidId } from '../../ids';
import type { Customer, Order, SystemOfRecord, Vendor } from '../../ports';
import { CustomerTier, describeIssues, Proposal } from '../../schemas/actions';
import type { EffectReceipt } from '../../schemas/workflow';
import { TABLES } from '../../tables';
import { vendorKey } from '../../vendors';
import { documentClient, requireEnv } from './clients';
import { isConditionalCheckFailed } from './dynamo';

/**
 * The example system of record: one table, `pk`/`sk`, every entity under sk = META.
 * DynamoDB transactions are not available everywhere Warden runs (the local emulator has
 * none), so each effect is made exactly-once with conditional single-item writes keyed by the
 * request: a retry finds its own earlier write and returns the same receipt.
 */

const META = 'META';

/**
 * The vendor key is the one vendor-name comparison (`vendorKey`): the policy's validated-vendor
 * check and the rules extraction fold names the same way, so they agree on what is on file.
 * Exported under its old name for existing importers.
 */
export { vendorKey as normalizeVendorName };

export const recordKeys = {
  vendor: (name: string) => ({ pk: `VENDOR#${vendorKey(name)}`, sk: META }),
  customer: (customerId: string) => ({ pk: `CUSTOMER#${customerId}`, sk: META }),
  order: (orderId: string) => ({ pk: `ORDER#${orderId}`, sk: META }),
  effect: (fingerprint: string) => ({ pk: `EFFECT#${fingerprint}`, sk: META }),
  purchaseOrder: (poNumber: string) => ({ pk: `PO#${poNumber}`, sk: META }),
  refund: (requestId: string) => ({ pk: `REFUND#${requestId}`, sk: META }),
  tierChange: (requestId: string) => ({ pk: `TIERCHANGE#${requestId}`, sk: META }),
};

function shortHash(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 10).toUpperCase();
}

/** Derived from the request, so a retried execution writes the same PO, never a second one. */
export function purchaseOrderNumber(requestId: string): string {
  return `PO-${shortHash(requestId)}`;
}

export function refundIdFor(requestId: string): string {
  return `RF-${shortHash(requestId)}`;
}

/** Money as DynamoDB adds it (exact decimals) and as receipts show it: cents. */
function cents(value: number): number {
  return Math.round(value * 100) / 100;
}

type Item = Record<string, unknown>;

export class DynamoSystemOfRecord implements SystemOfRecord {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  static fromEnv(doc: DynamoDBDocumentClient = documentClient(), env: NodeJS.ProcessEnv = process.env): DynamoSystemOfRecord {
    return new DynamoSystemOfRecord(doc, requireEnv(TABLES.records.envVar, env));
  }

  async findVendor(name: string): Promise<Vendor | undefined> {
    if (typeof name !== 'string' || vendorKey(name).length === 0 || name.length > 500) return undefined;
    const item = await this.getItem(recordKeys.vendor(name));
    return item ? { name: String(item.name), validated: item.validated === true } : undefined;
  }

  async getCustomer(customerId: string): Promise<Customer | undefined> {
    if (!isValidId(customerId)) return undefined;
    const item = await this.getItem(recordKeys.customer(customerId));
    return item ? { customerId: String(item.customerId), tier: CustomerTier.parse(item.tier) } : undefined;
  }

  async getOrder(orderId: string): Promise<Order | undefined> {
    if (!isValidId(orderId)) return undefined;
    const item = await this.getItem(recordKeys.order(orderId));
    return item ? toOrder(item) : undefined;
  }

  async findEffect(fingerprint: string): Promise<{ requestId: string; at?: string } | undefined> {
    if (!isValidFingerprint(fingerprint)) return undefined;
    const item = await this.getItem(recordKeys.effect(fingerprint));
    if (!item) return undefined;
    return { requestId: String(item.requestId), ...(typeof item.at === 'string' ? { at: item.at } : {}) };
  }

  async execute(args: {
    requestId: string;
    fingerprint: string;
    proposal: Proposal;
    at: string;
    duplicateWindowStart?: string;
  }): Promise<EffectReceipt> {
    const { requestId, fingerprint, at, duplicateWindowStart } = args;
    if (!isValidId(requestId)) throw new InvalidInput('invalid_request_id', 'requestId: not a valid id');
    if (!isValidFingerprint(fingerprint)) throw new InvalidInput('invalid_fingerprint', 'fingerprint: must be 1..256 characters');
    if (duplicateWindowStart !== undefined && !isIsoTimestamp(duplicateWindowStart)) {
      throw new InvalidInput('invalid_duplicate_window_start', 'duplicateWindowStart: must be an ISO timestamp as Date#toISOString writes it (YYYY-MM-DDTHH:mm:ss.sssZ)');
    }
    const parsed = Proposal.safeParse(args.proposal);
    if (!parsed.success) throw new InvalidWorkflowState(`proposal: ${describeIssues(parsed.error)}`);
    const proposal = parsed.data;

    await this.claimEffect({ fingerprint, requestId, action: proposal.action, at }, duplicateWindowStart);
    try {
      switch (proposal.action) {
        case 'purchase_order':
          return await this.createPurchaseOrder(requestId, proposal, at);
        case 'tier_upgrade':
          return await this.changeTier(requestId, proposal, at);
        case 'refund':
          return await this.refund(requestId, proposal, at);
      }
    } catch (error) {
      // Nothing was applied: free the fingerprint so a later, valid request is not a "duplicate".
      if (error instanceof EffectPreconditionFailed) await this.releaseEffect(fingerprint, requestId);
      throw error;
    }
  }

  /**
   * The fingerprint is held by the request that executed it; only that request may proceed,
   * until its claim is older than the duplicate window (`windowStart`), when another request
   * may take it over. Claim, take-over and "it is already mine" together are the condition
   * `attribute_not_exists(pk) OR requestId = :rid OR #at < :windowStart`; "mine" is found by
   * reading back rather than by rewriting, so a retry never moves the claim's `at` (and with
   * it the window) forward.
   */
  private async claimEffect(
    claim: { fingerprint: string; requestId: string; action: string; at: string },
    windowStart: string | undefined,
  ): Promise<void> {
    const { fingerprint, requestId } = claim;
    const key = recordKeys.effect(fingerprint);
    for (let attempt = 1; attempt <= 3; attempt++) {
      if (await this.putUnlessClaimed({ ...key, ...claim }, windowStart)) return;
      const holder = await this.getItem(key);
      if (holder?.requestId === requestId) return;
      if (holder) throw new DuplicateEffect(`An identical effect was already executed by request ${String(holder.requestId)}.`);
      // Released between our put and our read: claim again.
    }
    throw new Error('effect claim kept changing under us');
  }

  /** Writes the claim when the key is free or (with a window) its claim is older than the window. */
  private async putUnlessClaimed(item: Item, windowStart: string | undefined): Promise<boolean> {
    if (windowStart === undefined) return this.putIfAbsent(item);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          // A claim without `at` is never taken over: fail closed.
          ConditionExpression: 'attribute_not_exists(pk) OR #at < :windowStart',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':windowStart': windowStart },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async releaseEffect(fingerprint: string, requestId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: recordKeys.effect(fingerprint),
          ConditionExpression: 'requestId = :rid',
          ExpressionAttributeValues: { ':rid': requestId },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  private async createPurchaseOrder(requestId: string, proposal: PurchaseOrderProposal, at: string): Promise<EffectReceipt> {
    const poNumber = purchaseOrderNumber(requestId);
    const key = recordKeys.purchaseOrder(poNumber);
    const { vendor, amount, currency, description } = proposal.fields;
    const item: Item = { ...key, purchaseOrderNumber: poNumber, requestId, vendor, amount, currency, description, createdAt: at };
    if (!(await this.putIfAbsent(item))) {
      const existing = await this.getItem(key);
      // 40 bits of sha256: a collision between two requests is not expected, but never silent.
      if (existing?.requestId !== requestId) throw new Error(`purchase order number ${poNumber} is taken`);
      return purchaseOrderReceipt(existing);
    }
    return purchaseOrderReceipt(item);
  }

  private async changeTier(requestId: string, proposal: TierUpgradeProposal, at: string): Promise<EffectReceipt> {
    const changeKey = recordKeys.tierChange(requestId);
    const done = await this.getItem(changeKey);
    if (done) return tierChangeReceipt(done);

    const { customerId, currentTier, targetTier, effectiveDate } = proposal.fields;
    const customerKey = recordKeys.customer(customerId);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: customerKey,
          UpdateExpression: 'SET tier = :to, tierEffectiveDate = :date, lastUpgradeRequestId = :rid',
          // `lastUpgradeRequestId = :rid AND tier = :to`: our own earlier attempt already moved
          // the tier (then failed before recording it) and nothing moved it since; writing the
          // same values again changes nothing. Without `tier = :to` a retry could undo a newer change.
          ConditionExpression: 'attribute_exists(pk) AND (tier = :from OR (lastUpgradeRequestId = :rid AND tier = :to))',
          ExpressionAttributeValues: { ':to': targetTier, ':date': effectiveDate, ':rid': requestId, ':from': currentTier },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      if (!(await this.getItem(customerKey))) {
        throw new EffectPreconditionFailed('customer_not_found', `Customer ${customerId} does not exist.`);
      }
      throw new EffectPreconditionFailed('tier_mismatch', `Customer ${customerId} is no longer on tier ${currentTier}.`);
    }
    const change: Item = { ...changeKey, requestId, customerId, fromTier: currentTier, toTier: targetTier, effectiveDate, at };
    if (!(await this.putIfAbsent(change))) return tierChangeReceipt((await this.getItem(changeKey)) ?? change);
    return tierChangeReceipt(change);
  }

  private async refund(requestId: string, proposal: RefundProposal, at: string): Promise<EffectReceipt> {
    const refundKey = recordKeys.refund(requestId);
    const done = await this.getItem(refundKey);
    if (done) return refundReceipt(done);

    const { customerId, orderId, amount } = proposal.fields;
    const orderKey = recordKeys.order(orderId);
    const orderItem = await this.getItem(orderKey);
    if (!orderItem || orderItem.customerId !== customerId) {
      throw new EffectPreconditionFailed('order_not_found', `Order ${orderId} does not exist for customer ${customerId}.`);
    }
    const order = toOrder(orderItem);
    const exceeds = () =>
      new EffectPreconditionFailed('refund_exceeds_order', `Refund of ${amount} exceeds what remains refundable on order ${orderId}.`);
    // The most that may already be refunded for this refund to fit within the order total.
    const maxBefore = cents(order.total - amount);
    if (maxBefore < 0) throw exceeds();

    let refundedTotalAfter: number;
    try {
      // ONE conditional update: the total and the set of refunded requests move together, so
      // neither a retry (requestId already in refundIds) nor a concurrent refund can overshoot.
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: orderKey,
          UpdateExpression: 'SET refundedTotal = if_not_exists(refundedTotal, :zero) + :amount ADD refundIds :ridSet',
          ConditionExpression:
            'attribute_exists(pk) AND customerId = :cid AND NOT contains(refundIds, :rid) ' +
            'AND (attribute_not_exists(refundedTotal) OR refundedTotal <= :maxBefore)',
          ExpressionAttributeValues: {
            ':zero': 0,
            ':amount': amount,
            ':ridSet': new Set([requestId]),
            ':rid': requestId,
            ':cid': customerId,
            ':maxBefore': maxBefore,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      refundedTotalAfter = Number(Attributes?.refundedTotal);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const current = await this.getItem(orderKey);
      if (!current || current.customerId !== customerId) {
        throw new EffectPreconditionFailed('order_not_found', `Order ${orderId} does not exist for customer ${customerId}.`);
      }
      if (!hasRefund(current.refundIds, requestId)) throw exceeds();
      // Our earlier attempt added the refund but failed before recording it. The total
      // right after it is not kept; the current total is exact unless another refund followed.
      refundedTotalAfter = toOrder(current).refundedTotal;
    }
    const refund: Item = {
      ...refundKey,
      refundId: refundIdFor(requestId),
      requestId,
      orderId,
      customerId,
      amount,
      currency: order.currency,
      refundedTotalAfter,
      at,
    };
    if (!(await this.putIfAbsent(refund))) return refundReceipt((await this.getItem(refundKey)) ?? refund);
    return refundReceipt(refund);
  }

  private async getItem(key: { pk: string; sk: string }): Promise<Item | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    return Item;
  }

  /** Writes the item unless its key exists; false when it did. */
  private async putIfAbsent(item: Item): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// The window start is compared as a string with stored `at` values (Date#toISOString): same shape, or the order is wrong.
function isIsoTimestamp(value: unknown): value is string {
  return typeof value === 'string' && ISO_TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value));
}

function isValidFingerprint(fingerprint: unknown): fingerprint is string {
  return typeof fingerprint === 'string' && fingerprint.length > 0 && fingerprint.length <= 256;
}

function hasRefund(refundIds: unknown, requestId: string): boolean {
  if (refundIds instanceof Set) return refundIds.has(requestId);
  return Array.isArray(refundIds) && refundIds.includes(requestId);
}

function toOrder(item: Item): Order {
  return {
    orderId: String(item.orderId),
    customerId: String(item.customerId),
    total: Number(item.total),
    currency: String(item.currency),
    refundedTotal: Number(item.refundedTotal ?? 0),
  };
}

function purchaseOrderReceipt(item: Item): EffectReceipt {
  return {
    purchaseOrderNumber: item.purchaseOrderNumber,
    vendor: item.vendor,
    amount: item.amount,
    currency: item.currency,
    description: item.description,
    createdAt: item.createdAt,
  };
}

function tierChangeReceipt(item: Item): EffectReceipt {
  return { customerId: item.customerId, fromTier: item.fromTier, toTier: item.toTier, effectiveDate: item.effectiveDate };
}

function refundReceipt(item: Item): EffectReceipt {
  return {
    refundId: item.refundId,
    orderId: item.orderId,
    customerId: item.customerId,
    amount: item.amount,
    currency: item.currency,
    refundedTotalAfter: item.refundedTotalAfter,
  };
}
