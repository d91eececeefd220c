import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { assembleTrail, GENESIS_HASH, hashEntry, headIsSigned, headMessage, verifyTrail, type UnhashedAuditEntry } from '../../audit/chain';
import { AuditWriteFailed } from '../../errors';
import { isValidId } from '../../ids';
import { systemClock, type AuditLog, type AuditSigner, type AuditTrail, type Clock } from '../../ports';
import { AuditEntry, AuditHead, type AuditEvent } from '../../schemas/records';
import { TABLES } from '../../tables';
import { KmsAuditSigner } from './auditSigner';
import { documentClient, requireEnv } from './clients';
import { isConditionalCheckFailed, isoNow } from './dynamo';

/** The entries that say how a request ended: `appendUnlessClosed` writes nothing after them. */
const CLOSING_EVENTS: ReadonlySet<string> = new Set(['request.finalized', 'request.failure_after_end']);

/** The sort key of a request's signed head; its entries run from 1. */
const HEAD_SEQ = 0;

export interface DynamoAuditLogOptions {
  clock?: Clock;
  /**
   * Attempts per append when another writer moves the head first. Each lost race means some
   * other append landed, so N concurrent appenders all land within N attempts.
   */
  maxAttempts?: number;
}

/**
 * The append-only audit table: only GetItem, PutItem and Query. The Lambda roles have no
 * UpdateItem/DeleteItem on it, so an entry once written is never rewritten by the app.
 *
 * Each request has a head item (seq 0): its latest entry and a signature over that entry's seq
 * and hash. An append reads the head (one read, as the tail query was before), writes the head's
 * entry as an item of its own, and moves the head to the new entry only if it is still where it
 * was read (a conditional put): of two appenders or a retried step, one wins and the other
 * re-reads, so the head never forks and never goes back. A crash between the two writes leaves
 * the head where it was and the next append carries on; no entry is ever outside the signed chain.
 */
export class DynamoAuditLog implements AuditLog {
  private readonly clock: Clock;
  private readonly maxAttempts: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly signer: AuditSigner,
    options: DynamoAuditLogOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = options.maxAttempts ?? 10;
  }

  static fromEnv(
    doc: DynamoDBDocumentClient = documentClient(),
    signer: AuditSigner = KmsAuditSigner.fromEnv(),
    env: NodeJS.ProcessEnv = process.env,
  ): DynamoAuditLog {
    return new DynamoAuditLog(doc, requireEnv(TABLES.audit.envVar, env), signer);
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
        const head = await this.readHead(requestId);
        // Read with the seq this write claims: a closing entry that lands first makes the conditional put fail and this check run again.
        if (unlessClosed && head && CLOSING_EVENTS.has(head.entry.event)) return undefined;
        if (head) {
          // Extending a head Warden did not sign would sign whatever was put in its place.
          if (!(await headIsSigned(requestId, head, this.signer.verify))) {
            throw new AuditWriteFailed('audit: the stored head is not signed by the audit key; refusing to extend it');
          }
          await this.storeEntry(head.entry);
        }
        const unhashed: UnhashedAuditEntry = {
          requestId,
          seq: head ? head.entry.seq + 1 : 1,
          at: isoNow(this.clock),
          step: event.step,
          actor: { type: event.actor.type, id: event.actor.id },
          event: event.event,
          data,
          prevHash: head ? head.entry.hash : GENESIS_HASH,
        };
        const entry: AuditEntry = { ...unhashed, hash: hashEntry(unhashed) };
        const { signature, keyId } = await this.signer.sign(headMessage(requestId, entry.seq, entry.hash));
        const next: AuditHead = { requestId, seq: HEAD_SEQ, entry, keyId, signature: Buffer.from(signature).toString('base64') };
        await this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: next,
            ...(head
              ? {
                  ConditionExpression: '#entry.#seq = :seq',
                  ExpressionAttributeNames: { '#entry': 'entry', '#seq': 'seq' },
                  ExpressionAttributeValues: { ':seq': head.entry.seq },
                }
              : { ConditionExpression: 'attribute_not_exists(requestId)' }),
          }),
        );
        return entry;
      } catch (error) {
        if (error instanceof AuditWriteFailed) throw error;
        if (!isConditionalCheckFailed(error)) {
          // The message names the failure, never the event's data (it may hold PII).
          throw new AuditWriteFailed(`audit append failed: ${error instanceof Error ? error.name : 'unknown error'}`);
        }
        // Lost the race for the head: back off a little (jittered) and re-read it.
        await sleep(Math.floor(Math.random() * 10 * attempt));
      }
    }
    throw new AuditWriteFailed(`audit append lost the race ${this.maxAttempts} times`);
  }

  async list(requestId: string): Promise<AuditEntry[]> {
    const { stored, head } = await this.readAll(requestId);
    return assembleTrail(stored, head.success ? head.data : undefined);
  }

  async trail(requestId: string): Promise<AuditTrail> {
    const { stored, head } = await this.readAll(requestId);
    if (head.present && !head.success) {
      return { entries: stored, verified: false, reason: 'head_signature_invalid' };
    }
    const signed = head.success ? head.data : undefined;
    const entries = assembleTrail(stored, signed);
    const verdict = await verifyTrail(requestId, entries, signed, this.signer.verify);
    return {
      entries,
      ...(signed ? { head: { seq: signed.entry.seq, hash: signed.entry.hash, keyId: signed.keyId, signature: signed.signature } } : {}),
      ...verdict,
    };
  }

  /** Every item of the request: its stored entries in seq order, and its head if it has one. */
  private async readAll(requestId: string) {
    const stored: AuditEntry[] = [];
    let headItem: Record<string, unknown> | undefined;
    if (isValidId(requestId)) {
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
        for (const item of page.Items ?? []) {
          if (item.seq === HEAD_SEQ) headItem = item;
          else stored.push(AuditEntry.parse(item));
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    const parsed = AuditHead.safeParse(headItem);
    return { stored, head: { present: headItem !== undefined, ...parsed } };
  }

  private async readHead(requestId: string): Promise<AuditHead | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { requestId, seq: HEAD_SEQ }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const parsed = AuditHead.safeParse(Item);
    if (!parsed.success) throw new AuditWriteFailed('audit: the stored head is malformed; refusing to extend it');
    return parsed.data;
  }

  /**
   * Writes the head's entry as an item of its own before the head moves past it. Already there
   * is the normal outcome of a retried or concurrent append; anything else in its place is not.
   */
  private async storeEntry(entry: AuditEntry): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: entry, ConditionExpression: 'attribute_not_exists(seq)' }));
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { requestId: entry.requestId, seq: entry.seq }, ConsistentRead: true }),
      );
      if (Item?.hash !== entry.hash) throw new AuditWriteFailed(`audit: entry ${entry.seq} in the table is not the one the signed head holds`);
    }
  }
}
