import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand } from './sdk';
import { isDeepStrictEqual } from 'node:util';
import type { CustomerTier } from '../../schemas/actions';
import { ActionDefinitionError, recordKey, type ActionDefinition, type SeedRecord } from '../../catalog';
import { wholeCatalog } from '../../catalog/registry';
import { SEED } from '../../tables';
import { isConditionalCheckFailed } from './dynamo';
import { recordKeys } from './systemOfRecord';

export interface SeedData {
  readonly vendors: readonly { readonly name: string; readonly validated: boolean }[];
  readonly customers: readonly { readonly customerId: string; readonly tier: CustomerTier }[];
  /** Records the catalog's builtin connectors declare (`builtin.seed`), after the shared ones. */
  readonly records?: readonly SeedRecord[];
}

export type SeedItem = Readonly<Record<string, unknown>> & { readonly pk: string; readonly sk: string };

/**
 * `written`: the item was absent and is now stored (under a dry run: would be).
 * `present`: an identical item is stored. `differing`: the key holds something else — a refund,
 * a tier change, an edit — and it is left as it is.
 */
export type SeedOutcome = 'written' | 'present' | 'differing';

export interface SeedResult {
  readonly item: SeedItem;
  readonly outcome: SeedOutcome;
  /** For `differing`: the attributes whose stored value is not the seed's (names only). */
  readonly differingAttributes?: readonly string[];
}

export interface SeedOptions {
  /** Read and classify every item, write none. */
  readonly dryRun?: boolean;
}

/**
 * What local mode and `npm run seed` load: the records several actions share (`SEED`) and every
 * catalog action's builtin seed records. Two actions may declare the same record only identically.
 */
export function catalogSeed(catalog: readonly Pick<ActionDefinition, 'name' | 'builtin'>[] = wholeCatalog()): SeedData {
  const byKey = new Map<string, { action: string; record: SeedRecord }>();
  for (const action of catalog) {
    for (const record of action.builtin?.seed ?? []) {
      const { pk } = recordKey(record.type, record.id);
      const earlier = byKey.get(pk);
      if (earlier && !isDeepStrictEqual(earlier.record, record)) {
        throw new ActionDefinitionError(`${action.name} and ${earlier.action} seed ${pk} differently`);
      }
      if (!earlier) byKey.set(pk, { action: action.name, record });
    }
  }
  return { ...SEED, records: [...byKey.values()].map((entry) => entry.record) };
}

/** The system-of-record items a seed stands for, in the seed's order. */
export function seedItems(seed: SeedData = catalogSeed()): SeedItem[] {
  return [
    ...seed.vendors.map((v) => ({ ...recordKeys.vendor(v.name), name: v.name, validated: v.validated })),
    ...seed.customers.map((c) => ({ ...recordKeys.customer(c.customerId), customerId: c.customerId, tier: c.tier })),
    ...(seed.records ?? []).map((r) => ({ ...recordKey(r.type, r.id), ...r.attributes })),
  ];
}

/**
 * Loads the seed into the system-of-record table. Idempotent and non-destructive: each write is
 * conditional on the key being absent, so re-seeding never undoes refunds or tier changes.
 * Returns what became of each item, in the seed's order.
 */
export async function seedSystemOfRecord(
  doc: DynamoDBDocumentClient,
  tableName: string,
  seed: SeedData = catalogSeed(),
  options: SeedOptions = {},
): Promise<SeedResult[]> {
  const seedOne = options.dryRun ? classifyWithoutWriting : putUnlessPresent;
  return Promise.all(seedItems(seed).map((item) => seedOne(doc, tableName, item)));
}

async function putUnlessPresent(doc: DynamoDBDocumentClient, tableName: string, item: SeedItem): Promise<SeedResult> {
  // A key deleted between the refused put and the read is put again, a bounded number of times.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await doc.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      return { item, outcome: 'written' };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
    const stored = await storedItem(doc, tableName, item);
    if (stored) return compare(item, stored);
  }
  throw new Error(`seed item ${item.pk} kept appearing and disappearing while it was written`);
}

async function classifyWithoutWriting(doc: DynamoDBDocumentClient, tableName: string, item: SeedItem): Promise<SeedResult> {
  const stored = await storedItem(doc, tableName, item);
  return stored ? compare(item, stored) : { item, outcome: 'written' };
}

async function storedItem(doc: DynamoDBDocumentClient, tableName: string, item: SeedItem): Promise<Record<string, unknown> | undefined> {
  const { Item } = await doc.send(new GetCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true }));
  return Item;
}

function compare(item: SeedItem, stored: Record<string, unknown>): SeedResult {
  const names = [...new Set([...Object.keys(item), ...Object.keys(stored)])].sort();
  const differingAttributes = names.filter((name) => !isDeepStrictEqual(item[name], stored[name]));
  return differingAttributes.length === 0 ? { item, outcome: 'present' } : { item, outcome: 'differing', differingAttributes };
}
