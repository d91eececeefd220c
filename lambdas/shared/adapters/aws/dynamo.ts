import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../../schemas/zod';
import { BatchGetCommand, GetCommand } from './sdk';
import { InvalidInput } from '../../errors';

/** Small helpers the DynamoDB adapters share. */

/** The SDK error a failed ConditionExpression raises (matched by name: no class identity across copies). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Clock time as the adapters store it: ISO 8601 UTC, which sorts and compares as a string. */
export function isoNow(clock: { now(): Date }): string {
  return clock.now().toISOString();
}

/** A page's LastEvaluatedKey as the opaque `nextToken` the API returns. */
export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * A `nextToken` back into an ExclusiveStartKey. It is client input: decoded strictly against
 * `schema` (exactly the index's key) and `belongs` (its partition is the caller's listing), so
 * DynamoDB never starts a query at a key the caller chose outside what it may list.
 */
export function decodeCursor<T extends Record<string, unknown>>(
  cursor: string,
  schema: z.core.$ZodType<T>,
  belongs: (key: T) => boolean,
): T {
  const invalid = () => new InvalidInput('invalid_next_token', 'nextToken: not a token from a previous page');
  if (cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = z.safeParse(schema, decoded);
  if (!parsed.success || !belongs(parsed.data)) throw invalid();
  return parsed.data;
}

type Key = Record<string, unknown>;
type Item = Record<string, unknown>;
interface Waiting {
  key: Key;
  resolve: (item: Item | undefined) => void;
  reject: (error: unknown) => void;
}

/** DynamoDB's cap on keys per BatchGetItem. */
const BATCH_GET_MAX = 100;
/** Rounds for keys DynamoDB returns unprocessed (throttling) before the read fails. */
const UNPROCESSED_ROUNDS = 5;

/** A batch read that still had unprocessed keys after every round: the step fails and its retry reads again. */
export class BatchReadIncomplete extends Error {
  override readonly name = 'BatchReadIncomplete';
}

/**
 * Strongly consistent reads of one table. Reads started in the same turn of the event loop
 * (validation's facts and its duplicate check, started together) go out as one BatchGetItem: one
 * round trip and one call where they would be several. A read alone is a plain GetItem.
 */
export class ConsistentReads {
  private waiting: Waiting[] = [];

  constructor(
    private readonly doc: Pick<DynamoDBDocumentClient, 'send'>,
    private readonly tableName: string,
    /** The table's key attributes: how an item returned by a batch is matched to its read. */
    private readonly keyNames: readonly string[],
  ) {}

  get(key: Key): Promise<Item | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      // After the promise jobs queued so far (reads started by other async functions of the
      // same turn reach here through a few of them), before any I/O callback.
      if (this.waiting.length === 1) void Promise.resolve().then(() => process.nextTick(() => void this.flush()));
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 1) {
      const [only] = batch;
      try {
        const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: only.key, ConsistentRead: true }));
        only.resolve(Item);
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    const idOf = (key: Key) => JSON.stringify(this.keyNames.map((name) => key[name]));
    const byId = new Map<string, Waiting[]>();
    for (const read of batch) byId.set(idOf(read.key), [...(byId.get(idOf(read.key)) ?? []), read]);
    const ids = [...byId.keys()];
    for (let start = 0; start < ids.length; start += BATCH_GET_MAX) {
      const chunk = ids.slice(start, start + BATCH_GET_MAX);
      try {
        const found = await this.batchGet(chunk.map((id) => byId.get(id)![0].key));
        for (const id of chunk) for (const read of byId.get(id)!) read.resolve(found.get(id));
      } catch (error) {
        for (const id of chunk) for (const read of byId.get(id)!) read.reject(error);
      }
    }
  }

  /** The items found, by key id; keys DynamoDB leaves unprocessed are asked again, with backoff. */
  private async batchGet(keys: Key[]): Promise<Map<string, Item>> {
    const found = new Map<string, Item>();
    let remaining = keys;
    for (let round = 0; remaining.length > 0; round++) {
      if (round === UNPROCESSED_ROUNDS) throw new BatchReadIncomplete(`${remaining.length} of ${keys.length} keys still unprocessed after ${round} rounds`);
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** round * Math.random()));
      const { Responses, UnprocessedKeys } = await this.doc.send(
        new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: remaining, ConsistentRead: true } } }),
      );
      for (const item of Responses?.[this.tableName] ?? []) found.set(JSON.stringify(this.keyNames.map((name) => item[name])), item);
      remaining = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Key[];
    }
    return found;
  }
}
