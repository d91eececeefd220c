import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from './sdk';
import { InvalidInput } from '../../errors';
import { systemClock, type Clock, type IdempotencyRecord, type IdempotencyStore } from '../../ports';
import { TABLES } from '../../tables';
import { documentClient, requireEnv } from './clients';
import { isConditionalCheckFailed } from './dynamo';

const EXPIRATION = TABLES.idempotency.timeToLiveAttribute;
/** A claim that vanishes or expires between our put and our read is retried, a few times. */
const MAX_CLAIM_ATTEMPTS = 3;

/**
 * Idempotency keys with an expiry. DynamoDB's TTL deletes expired items only eventually (and
 * the local emulator never does), so an expired record is treated as absent right here.
 */
export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock = systemClock,
  ) {}

  static fromEnv(doc: DynamoDBDocumentClient = documentClient(), env: NodeJS.ProcessEnv = process.env): DynamoIdempotencyStore {
    return new DynamoIdempotencyStore(doc, requireEnv(TABLES.idempotency.envVar, env));
  }

  async claim(key: string, record: IdempotencyRecord, ttlSeconds: number): Promise<IdempotencyRecord | undefined> {
    assertKey(key);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new InvalidInput('invalid_ttl', 'ttlSeconds: must be a positive integer');
    for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
      const now = this.epochSeconds();
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { id: key, requestId: record.requestId, bodyHash: record.bodyHash, [EXPIRATION]: now + ttlSeconds },
            ConditionExpression: 'attribute_not_exists(id) OR #exp <= :now',
            ExpressionAttributeNames: { '#exp': EXPIRATION },
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return undefined;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw error;
      }
      const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { id: key }, ConsistentRead: true }));
      if (Item && typeof Item[EXPIRATION] === 'number' && Item[EXPIRATION] > this.epochSeconds()) {
        return { requestId: String(Item.requestId), bodyHash: String(Item.bodyHash) };
      }
      // Released or expired since our put failed: try to claim again.
    }
    throw new Error(`idempotency claim for a key kept changing under us (${MAX_CLAIM_ATTEMPTS} attempts)`);
  }

  async release(key: string): Promise<void> {
    assertKey(key);
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { id: key } }));
  }

  private epochSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

/** Callers compose keys (e.g. principal + Idempotency-Key); anything non-empty and bounded is a key. */
function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 1024) {
    throw new InvalidInput('invalid_idempotency_key', 'idempotency key: must be 1..1024 characters');
  }
}
