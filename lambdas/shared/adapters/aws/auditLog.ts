import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from './sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { assembleTrail, entryIsSigned, entryMessage, GENESIS_HASH, hashEntry, headIsSigned, headMessage, verifySignedTrail, verifyTrail, type AppendedEntry, type UnhashedAuditEntry } from '../../audit/chain';
import { canonicalJson } from '../../canonical-json';
import { AuditWriteFailed } from '../../errors';
import { isValidId } from '../../ids';
import { allSettled } from '../../settled';
import { systemClock, type AppendOptions, type AuditLog, type AuditSigner, type AuditTrail, type Clock } from '../../ports';
import { AuditEntry, AuditHead, SignedAuditEntry, type AuditEvent, type SignedHeadRef } from '../../schemas/records';
import type { ChainHead } from '../../schemas/workflow';
import { TABLES } from '../../tables';
import { KmsAuditSigner } from './auditSigner';
import { documentClient, requireEnv } from './clients';
import { isConditionalCheckFailed, isoNow } from './dynamo';

/** The entries that say how a request ended: `appendUnlessClosed` writes nothing after them. */
const CLOSING_EVENTS: ReadonlySet<string> = new Set(['request.finalized', 'request.failure_after_end']);

/** The write an entry records failed (`AppendOptions.once`): carries its error out of the append untouched. */
class PrecedingWriteFailed extends Error {
  constructor(readonly reason: unknown) {
    super('the write the entry records failed');
    this.name = 'PrecedingWriteFailed';
  }
}

/** The sort key of a request's signed head as earlier versions kept it; entries run from 1. */
const HEAD_SEQ = 0;

/** The chain's last entry, as an append needs it. */
interface ChainEnd {
  seq: number;
  hash: string;
  event?: string;
  /** The entry itself, when it was read from the table (not told by the step). */
  entry?: SignedAuditEntry;
}

/** Whether `entry` says exactly what `event` would: the same step, event, actor and data. */
function sameEntry(entry: SignedAuditEntry, event: AuditEvent, data: Record<string, unknown>): boolean {
  return entry.step === event.step && entry.event === event.event && entry.actor.id === event.actor.id && canonicalJson(entry.data) === canonicalJson(data);
}

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
 * An append is one conditional PutItem: the entry at the next seq, signed by the audit key over
 * its seq and hash (`entryMessage`). The step knows where the chain ends (the workflow state
 * carries it, `after`), so nothing is read first. Two writers, or a retried step, can never fork
 * the chain: one seq holds one entry (`attribute_not_exists`). The loser reads the chain's end
 * and either finds its own entry there (a retried step: it is returned, not written twice) or
 * appends after it. An append that reads the end (no `after`, or one found stale) and finds the
 * very entry it would write there returns that entry too.
 *
 * The signed head a reader checks the chain against lives on the request record (`auditHead`):
 * each step that writes the record asks its append for a head signature (`headMessage`, a message
 * no entry signature can stand for) and moves it there, so cutting entries off the end is caught. Entries past it carry their own signature until the next record write covers them.
 * Requests written by earlier versions keep their head under seq 0; it is read, never written.
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

  async append(requestId: string, event: AuditEvent, after?: ChainHead, options: AppendOptions = {}): Promise<AppendedEntry> {
    return (await this.write(requestId, event, false, after, options))!;
  }

  async appendUnlessClosed(requestId: string, event: AuditEvent, after?: ChainHead, options: AppendOptions = {}): Promise<AppendedEntry | undefined> {
    return this.write(requestId, event, true, after, options);
  }

  private async write(
    requestId: string,
    event: AuditEvent,
    unlessClosed: boolean,
    after: ChainHead | undefined,
    options: AppendOptions,
  ): Promise<AppendedEntry | undefined> {
    const { once } = options;
    if (!once) return this.writeAfter(requestId, event, unlessClosed, after, options, async () => undefined);
    // The write it records first: its failure is the append's, and the append settles only after it, whatever happens here.
    const outcome = once.then(
      () => ({ passed: true as const }),
      (reason: unknown) => ({ passed: false as const, reason }),
    );
    const passed = async () => {
      const settled = await outcome;
      if (!settled.passed) throw new PrecedingWriteFailed(settled.reason);
    };
    try {
      return await this.writeAfter(requestId, event, unlessClosed, after, options, passed);
    } catch (error) {
      if (error instanceof PrecedingWriteFailed) throw error.reason;
      throw error;
    } finally {
      await outcome;
    }
  }

  private async writeAfter(
    requestId: string,
    event: AuditEvent,
    unlessClosed: boolean,
    after: ChainHead | undefined,
    options: AppendOptions,
    passed: () => Promise<void>,
  ): Promise<AppendedEntry | undefined> {
    if (!isValidId(requestId)) throw new AuditWriteFailed('audit: not a valid requestId');
    let data: Record<string, unknown>;
    try {
      // Store exactly what is hashed: a JSON round trip drops undefined and class instances
      // (Dates become strings) the same way canonical JSON does.
      data = JSON.parse(JSON.stringify(event.data ?? {})) as Record<string, unknown>;
    } catch {
      throw new AuditWriteFailed('audit: event data is not JSON-serialisable');
    }
    // Where the chain ends: given by the step (no read), or read when not given or found stale.
    let end: ChainEnd | undefined = after ? (after.seq > 0 ? { seq: after.seq, hash: after.hash } : undefined) : await this.failClosed(this.readEnd(requestId));
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        // A closing entry that lands first makes the put below fail and this check run on a fresh read.
        if (unlessClosed && end?.event !== undefined && CLOSING_EVENTS.has(end.event)) {
          await passed();
          return undefined;
        }
        // The chain, as read, already ends with this very entry: a retried step (or a retry of one
        // that lost a race and landed further on) whose first attempt's write landed, with nothing
        // after it. That entry stands, once.
        if (end?.entry && sameEntry(end.entry, event, data)) {
          await passed();
          return options.head ? { ...end.entry, head: await this.failClosed(this.signHead(requestId, end.seq, end.hash)) } : end.entry;
        }
        const unhashed: UnhashedAuditEntry = {
          requestId,
          seq: end ? end.seq + 1 : 1,
          at: isoNow(this.clock),
          step: event.step,
          actor: { type: event.actor.type, id: event.actor.id },
          event: event.event,
          data,
          prevHash: end ? end.hash : GENESIS_HASH,
        };
        const hash = hashEntry(unhashed);
        // The head's signature, when asked for, is made alongside the entry's (no extra wait).
        // The preceding write's failure first: it is the reason nothing is written.
        const [, signed, head] = await allSettled([
          passed(),
          this.signer.sign(entryMessage(requestId, unhashed.seq, hash)),
          options.head ? this.signHead(requestId, unhashed.seq, hash) : undefined,
        ] as const);
        const entry: SignedAuditEntry = { ...unhashed, hash, keyId: signed.keyId, signature: Buffer.from(signed.signature).toString('base64') };
        await this.doc.send(new PutCommand({ TableName: this.tableName, Item: entry, ConditionExpression: 'attribute_not_exists(seq)' }));
        return head ? { ...entry, head } : entry;
      } catch (error) {
        if (error instanceof AuditWriteFailed || error instanceof PrecedingWriteFailed) throw error;
        if (!isConditionalCheckFailed(error)) {
          // The message names the failure, never the event's data (it may hold PII).
          throw new AuditWriteFailed(`audit append failed: ${error instanceof Error ? error.name : 'unknown error'}`);
        }
        // A retried step (or a concurrent retry of one submission) finds the entry its first
        // attempt wrote at that seq: that one stands, once, however far the chain has moved on.
        // Not once the same step has written past it: then it was an earlier, finished attempt
        // (a decision released, say) and this one is new.
        const claimed = end ? end.seq + 1 : 1;
        // Only the very same entry: a retry that would say something else (another proposal,
        // another decision) is appended after it, so the trail shows both.
        const own = await this.failClosed(this.readEntry(requestId, claimed));
        if (own && sameEntry(own, event, data)) {
          if (!(await this.failClosed(this.stepWroteAfter(requestId, claimed, event.step)))) {
            return options.head ? { ...own, head: await this.failClosed(this.signHead(requestId, own.seq, own.hash)) } : own;
          }
        }
        end = await this.failClosed(this.readEnd(requestId));
        // Another writer took the seq: back off a little (jittered) and append after it.
        await sleep(Math.floor(Math.random() * 10 * attempt));
      }
    }
    throw new AuditWriteFailed(`audit append lost the race ${this.maxAttempts} times`);
  }

  /** The signed entry at `seq`, if one is there and the audit key signed it. */
  private async readEntry(requestId: string, seq: number): Promise<SignedAuditEntry | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { requestId, seq }, ConsistentRead: true }));
    const parsed = SignedAuditEntry.safeParse(Item);
    return parsed.success && (await entryIsSigned(requestId, parsed.data, this.signer.verify)) ? parsed.data : undefined;
  }

  private async signHead(requestId: string, seq: number, hash: string): Promise<SignedHeadRef> {
    const { signature, keyId } = await this.signer.sign(headMessage(requestId, seq, hash));
    return { seq, hash, keyId, signature: Buffer.from(signature).toString('base64') };
  }

  /** Whether an entry of `step` follows `seq` in the chain (a rare read: only after a lost race). */
  private async stepWroteAfter(requestId: string, seq: number, step: string): Promise<boolean> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'requestId = :id AND seq > :seq',
          ExpressionAttributeValues: { ':id': requestId, ':seq': seq },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      if ((page.Items ?? []).some((item) => item.step === step)) return true;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return false;
  }

  /** Any failure to read the chain is the append's failure: the step fails with AuditWriteFailed. */
  private async failClosed<T>(reading: Promise<T>): Promise<T> {
    try {
      return await reading;
    } catch (error) {
      if (error instanceof AuditWriteFailed) throw error;
      // The message names the failure, never the event's data (it may hold PII).
      throw new AuditWriteFailed(`audit read failed: ${error instanceof Error ? error.name : 'unknown error'}`);
    }
  }

  /**
   * The chain's last entry, checked before anything is appended after it: signed by the audit key
   * (its own signature, or an earlier version's head under seq 0). Extending an entry Warden did
   * not sign would sign whatever was put in its place.
   */
  private async readEnd(requestId: string): Promise<ChainEnd | undefined> {
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
    const last = Items?.[0];
    if (last && last.seq !== HEAD_SEQ) {
      const signed = SignedAuditEntry.safeParse(last);
      if (signed.success) {
        if (!(await entryIsSigned(requestId, signed.data, this.signer.verify))) {
          throw new AuditWriteFailed('audit: the last entry is not signed by the audit key; refusing to extend it');
        }
        return { seq: signed.data.seq, hash: signed.data.hash, event: signed.data.event, entry: signed.data };
      }
    }
    // Written by an earlier version: its signed head under seq 0 holds the last entry.
    const legacy = await this.readLegacyHead(requestId);
    if (!legacy) {
      if (last && last.seq !== HEAD_SEQ) throw new AuditWriteFailed('audit: the last entry is unsigned and no head vouches for it; refusing to extend it');
      return undefined;
    }
    if (!(await headIsSigned(requestId, legacy, this.signer.verify))) {
      throw new AuditWriteFailed('audit: the stored head is not signed by the audit key; refusing to extend it');
    }
    await this.storeEntry(legacy.entry);
    return { seq: legacy.entry.seq, hash: legacy.entry.hash, event: legacy.entry.event };
  }

  async signedEnd(requestId: string): Promise<AppendedEntry | undefined> {
    if (!isValidId(requestId)) throw new AuditWriteFailed('audit: not a valid requestId');
    const end = await this.failClosed(this.readEnd(requestId));
    if (!end?.entry) return undefined;
    return { ...end.entry, head: await this.failClosed(this.signHead(requestId, end.seq, end.hash)) };
  }

  async end(requestId: string): Promise<AuditEntry | undefined> {
    if (!isValidId(requestId)) throw new AuditWriteFailed('audit: not a valid requestId');
    const end = await this.failClosed(this.readEnd(requestId));
    if (!end || end.entry) return end?.entry;
    // A chain an earlier version wrote: its signed head (checked) vouches for the entry whose content hashes to what it names.
    return (await this.list(requestId)).find((entry) => entry.seq === end.seq && entry.hash === end.hash && hashEntry(entry) === end.hash);
  }

  async list(requestId: string): Promise<AuditEntry[]> {
    const { stored, head } = await this.readAll(requestId);
    return assembleTrail(stored, head.success ? head.data : undefined).map(unsigned);
  }

  async trail(requestId: string, recordHead?: SignedHeadRef): Promise<AuditTrail> {
    const { stored, head } = await this.readAll(requestId);
    const legacy = head.success ? head.data : undefined;
    const chained = assembleTrail(stored, legacy);
    const entries = chained.map(unsigned);
    if (recordHead) {
      const verdict = await verifySignedTrail(requestId, chained, recordHead, this.signer.verify);
      return { entries, head: recordHead, ...verdict };
    }
    // A request written before its head moved to the record: its head under seq 0.
    if (head.present && !head.success) {
      return { entries, verified: false, reason: 'head_signature_invalid' };
    }
    const verdict = await verifyTrail(requestId, entries, legacy, this.signer.verify);
    return {
      entries,
      ...(legacy ? { head: { seq: legacy.entry.seq, hash: legacy.entry.hash, keyId: legacy.keyId, signature: legacy.signature } } : {}),
      ...verdict,
    };
  }

  /** Every item of the request: its stored entries in seq order, and its head if it has one. */
  private async readAll(requestId: string) {
    const stored: (AuditEntry | SignedAuditEntry)[] = [];
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
          else stored.push(SignedAuditEntry.safeParse(item).data ?? AuditEntry.parse(item));
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    const parsed = AuditHead.safeParse(headItem);
    return { stored, head: { present: headItem !== undefined, ...parsed } };
  }

  private async readLegacyHead(requestId: string): Promise<AuditHead | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { requestId, seq: HEAD_SEQ }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const parsed = AuditHead.safeParse(Item);
    if (!parsed.success) throw new AuditWriteFailed('audit: the stored head is malformed; refusing to extend it');
    return parsed.data;
  }

  /**
   * Writes a legacy head's entry as an item of its own before the chain moves past it. Already there
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

/** An entry as readers see it: the signature stays in the table. */
function unsigned(entry: AuditEntry | SignedAuditEntry): AuditEntry {
  const { keyId: _keyId, signature: _signature, ...rest } = entry as SignedAuditEntry;
  return rest;
}
