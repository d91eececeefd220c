import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CustomerTier } from '../../schemas/actions';
import { SEED } from '../../tables';
import { isConditionalCheckFailed } from './dynamo';
import { recordKeys } from './systemOfRecord';

export interface SeedData {
  readonly vendors: readonly { readonly name: string; readonly validated: boolean }[];
  readonly customers: readonly { readonly customerId: string; readonly tier: CustomerTier }[];
  readonly orders: readonly { readonly orderId: string; readonly customerId: string; readonly total: number; readonly currency: string }[];
}

/**
 * Loads the seed into the system-of-record table. Idempotent and non-destructive: an item that
 * exists is left alone, so re-seeding a data directory never undoes refunds or tier changes.
 */
export async function seedSystemOfRecord(
  doc: DynamoDBDocumentClient,
  tableName: string,
  seed: SeedData = SEED,
): Promise<void> {
  const items = [
    ...seed.vendors.map((v) => ({ ...recordKeys.vendor(v.name), name: v.name, validated: v.validated })),
    ...seed.customers.map((c) => ({ ...recordKeys.customer(c.customerId), customerId: c.customerId, tier: c.tier })),
    // refundIds starts absent: DynamoDB has no empty string set, and ADD creates it.
    ...seed.orders.map((o) => ({ ...recordKeys.order(o.orderId), ...o, refundedTotal: 0 })),
  ];
  await Promise.all(
    items.map(async (Item) => {
      try {
        await doc.send(new PutCommand({ TableName: tableName, Item, ConditionExpression: 'attribute_not_exists(pk)' }));
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }),
  );
}
