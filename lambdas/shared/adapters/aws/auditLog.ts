import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { GENESIS_HASH, hashEntry, type UnhashedAuditEntry } from '../../audit/chain';
import { AuditWriteFailed } from '../../errors';
import { isValidId } from '../../ids';
import { systemClock, type AuditLog, type Clock } from '../../ports';
import { AuditEntry, type AuditEvent } from '../../schemas/records';
import { TABLES } from '../../tables';
import { documentClient, requireEnv } from './clients';
import { isConditionalCheckFailed, isoNow } from './dynamo';

/** The entries that say how a request ended: `appendUnlessClosed` writes nothing after them. */
const CLOSING_EVENTS: ReadonlySet<string> = new Set(['request.finalized', 'request.failure_after_end']);

export interface DynamoAuditLogOptions {
  clock?: Clock;
  /**
   * Attempts per append when another writer takes the same seq. Each lost race means some
   * other append landed, so N concurrent appenders all land within N attempts.
   */
  maxAttempts?: number;
}

/**
 * The append-only audit table: only PutItem and Query. The Lambda roles have no
 * UpdateItem/DeleteItem on it, so an entry once written is never rewritten by the app.
 */
export class DynamoAuditLog implements AuditLog {
  private readonly clock: Clock;
  private readonly maxAttempts: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoAuditLogOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = options.maxAttempts ?? 10;
  }

  static fromEnv(doc: DynamoDBDocumentClient = documentClient(), env: NodeJS.ProcessEnv = process.env): DynamoAuditLog {
    return new DynamoAuditLog(doc, requireEnv(TABLES.audit.envVar, env));
  }

  async append(requestId: string, event: AuditEvent): Promise<AuditEntry> {
    return (await this.write(requestId, event, false))!;
  }

  async appendUnlessClosed(requestId: string, event: AuditEvent): Promise<AuditEntry | undefined> {
    return this.write(requestId, event, true);
  }

  private async write(requestId: string, event: AuditEvent, unlessClosed: boolean): Promise<AuditEntry | undefined> {
    if (!isValidId(requestId)) throw new AuditWriteFailed('audit: not a valid requestId');
    let data: Record<string, unknown>;
    try {
      // Store exactly what is hashed: a JSON round trip drops undefined and class instances
      // (Dates become strings) the same way canonical JSON does.
      data = JSON.parse(JSON.stringify(event.data ?? {})) as Record<string, unknown>;
    } catch {
      throw new AuditWriteFailed('audit: event data is not JSON-serialisable');
    }
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const last = await this.last(requestId);
        // Read with the seq this write claims: a closing entry that lands first makes the put fail and this check run again.
        if (unlessClosed && last && CLOSING_EVENTS.has(last.event)) return undefined;
        const unhashed: UnhashedAuditEntry = {
          requestId,
          seq: last ? last.seq + 1 : 1,
          at: isoNow(this.clock),
          step: event.step,
          actor: { type: event.actor.type, id: event.actor.id },
          event: event.event,
          data,
          prevHash: last ? last.hash : GENESIS_HASH,
        };
        const entry: AuditEntry = { ...unhashed, hash: hashEntry(unhashed) };
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: entry,
            ConditionExpression: 'attribute_not_exists(seq)',
          }),
        );
        return entry;
      } catch (error) {
        if (!isConditionalCheckFailed(error)) {
          // The message names the failure, never the event's data (it may hold PII).
          throw new AuditWriteFailed(`audit append failed: ${error instanceof Error ? error.name : 'unknown error'}`);
        }
        // Lost the race for this seq: back off a little (jittered) and re-read the tail.
        await sleep(Math.floor(Math.random() * 10 * attempt));
      }
    }
    throw new AuditWriteFailed(`audit append lost the race ${this.maxAttempts} times`);
  }

  async list(requestId: string): Promise<AuditEntry[]> {
    if (!isValidId(requestId)) return [];
    const entries: AuditEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'requestId = :id',
          ExpressionAttributeValues: { ':id': requestId },
          ScanIndexForward: true,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) entries.push(AuditEntry.parse(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return entries;
  }

  private async last(requestId: string): Promise<AuditEntry | undefined> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'requestId = :id',
        ExpressionAttributeValues: { ':id': requestId },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return Items?.[0] ? AuditEntry.parse(Items[0]) : undefined;
  }
}
