import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from './sdk';
import { EFFECT_CLAIM_TYPE, recordKey } from '../../catalog/records';
import { applyBuiltinEffect } from '../../connectors/builtin';
import { DuplicateEffect, EffectPreconditionFailed, InvalidInput, InvalidWorkflowState } from '../../errors';
import { isValidId } from '../../ids';
import type { Customer, ExecuteEffectArgs, Order, RecordItem, RecordKey, SystemOfRecord, Vendor } from '../../ports';
import { CustomerTier, describeIssues, Proposal } from '../../schemas/actions';
import type { EffectReceipt } from '../../schemas/workflow';
import { TABLES } from '../../tables';
import { vendorKey } from '../../vendors';
import { documentClient, requireEnv } from './clients';
import { ConsistentReads, isConditionalCheckFailed } from './dynamo';

/**
 * The example system of record: one table, `pk`/`sk`, every entity under sk = META.
 * DynamoDB transactions are not available everywhere Warden runs (the local emulator has
 * none), so each effect is made exactly-once with conditional single-item writes keyed by the
 * request: a retry finds its own earlier write and returns the same receipt. What each action
 * reads and writes is the action's own (`actions/<name>/builtin.ts`); this adapter names none.
 */

/**
 * The vendor key is the one vendor-name comparison (`vendorKey`): the policy's validated-vendor
 * check and the rules extraction fold names the same way, so they agree on what is on file.
 * Exported under its old name for existing importers.
 */
export { vendorKey as normalizeVendorName };

/** The entities the example records share across actions, and the effect claims. */
export const recordKeys = {
  vendor: (name: string) => recordKey('VENDOR', vendorKey(name)),
  customer: (customerId: string) => recordKey('CUSTOMER', customerId),
  order: (orderId: string) => recordKey('ORDER', orderId),
  effect: (fingerprint: string) => recordKey(EFFECT_CLAIM_TYPE, fingerprint),
};

type Item = RecordItem;

export class DynamoSystemOfRecord implements SystemOfRecord {
  private readonly reads: ConsistentReads;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {
    this.reads = new ConsistentReads(doc, tableName, ['pk', 'sk']);
  }

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

  async execute(args: ExecuteEffectArgs): Promise<EffectReceipt> {
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
      return await (args.apply ?? ((approved) => applyBuiltinEffect(approved, this, { requestId, at })))(proposal);
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

  async get(key: RecordKey): Promise<Item | undefined> {
    return this.getItem(key);
  }

  async updateIf(args: { key: RecordKey; update: string; condition?: string; values?: Record<string, unknown>; names?: Record<string, string> }): Promise<Item | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: args.key,
          UpdateExpression: args.update,
          ...(args.condition ? { ConditionExpression: args.condition } : {}),
          ...(args.values && Object.keys(args.values).length > 0 ? { ExpressionAttributeValues: args.values } : {}),
          ...(args.names ? { ExpressionAttributeNames: args.names } : {}),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ?? {};
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /** Reads started together (validation's facts and its duplicate check) share one call. */
  private getItem(key: RecordKey): Promise<Item | undefined> {
    return this.reads.get({ pk: key.pk, sk: key.sk });
  }

  /** Writes the item unless its key exists; false when it did. */
  async putIfAbsent(item: Item): Promise<boolean> {
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

function toOrder(item: Item): Order {
  return {
    orderId: String(item.orderId),
    customerId: String(item.customerId),
    total: Number(item.total),
    currency: String(item.currency),
    refundedTotal: Number(item.refundedTotal ?? 0),
  };
}
