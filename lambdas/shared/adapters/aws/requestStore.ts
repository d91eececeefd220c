import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from './sdk';
import * as z from '../../schemas/zod';
import { Conflict, InvalidInput, NotFound } from '../../errors';
import { Id, isValidId } from '../../ids';
import { systemClock, type Clock, type RequestListScope, type RequestPage, type RequestStore } from '../../ports';
import { RequestRecord, type RequestStatus } from '../../schemas/records';
import { Principal } from '../../schemas/workflow';
import { REQUESTS_BY_CREATION_INDEX, REQUESTS_BY_REQUESTER_INDEX, REQUESTS_TIMELINE, TABLES } from '../../tables';
import { documentClient, requireEnv } from './clients';
import { decodeCursor, encodeCursor, isConditionalCheckFailed, isoNow } from './dynamo';

type RequestPatch = Parameters<RequestStore['update']>[1];

/** Keys a patch may never touch: the item's identity, its birth time and its place in the listings. */
const IMMUTABLE = new Set(['requestId', 'createdAt', REQUESTS_TIMELINE.attribute]);

/** The largest page a caller may ask for (the API caps at 100 too). */
export const MAX_REQUEST_PAGE = 100;

/**
 * Bounds one page's queries: with a status filter DynamoDB may evaluate many items for few
 * matches, and a caller still gets a prompt answer (with a nextToken to go on).
 */
const MAX_QUERIES_PER_PAGE = 10;

/** What a listing's cursor may contain: exactly its index's LastEvaluatedKey. */
const CreatedAt = z.string().check(z.minLength(1), z.maxLength(64));
const RequesterCursor = z.strictObject({ requestId: Id, requestedBy: Principal.shape.sub, createdAt: CreatedAt });
const EveryoneCursor = z.strictObject({
  requestId: Id,
  [REQUESTS_TIMELINE.attribute]: z.literal(REQUESTS_TIMELINE.value),
  createdAt: CreatedAt,
});

export class DynamoRequestStore implements RequestStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock = systemClock,
  ) {}

  static fromEnv(doc: DynamoDBDocumentClient = documentClient(), env: NodeJS.ProcessEnv = process.env): DynamoRequestStore {
    return new DynamoRequestStore(doc, requireEnv(TABLES.requests.envVar, env));
  }

  async create(record: RequestRecord): Promise<void> {
    if (!isValidId(record.requestId)) throw new InvalidInput('invalid_request_id', 'requestId: not a valid id');
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, [REQUESTS_TIMELINE.attribute]: REQUESTS_TIMELINE.value },
          ConditionExpression: 'attribute_not_exists(requestId)',
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new Conflict('request_exists', `Request ${record.requestId} already exists.`);
      throw error;
    }
  }

  async get(requestId: string): Promise<RequestRecord | undefined> {
    if (!isValidId(requestId)) return undefined;
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { requestId }, ConsistentRead: true }),
    );
    return Item ? RequestRecord.parse(Item) : undefined;
  }

  async update(requestId: string, patch: RequestPatch): Promise<void> {
    if (!isValidId(requestId)) throw new NotFound(`Request not found.`);
    if (await this.send(this.updateCommand(requestId, patch), patch)) return;
    throw new NotFound(`Request ${requestId} not found.`);
  }

  async updateIf(requestId: string, patch: RequestPatch, whenStatus: readonly RequestStatus[]): Promise<boolean> {
    if (!isValidId(requestId) || whenStatus.length === 0) return false;
    const expected = Object.fromEntries(whenStatus.map((status, i) => [`:when${i}`, status]));
    const when = (command: ReturnType<DynamoRequestStore['updateCommand']>) => ({
      ...command,
      ConditionExpression: `${command.ConditionExpression} AND #status IN (${Object.keys(expected).join(', ')})`,
      ExpressionAttributeNames: { ...command.ExpressionAttributeNames, '#status': 'status' },
      ExpressionAttributeValues: { ...command.ExpressionAttributeValues, ...expected },
    });
    return this.send(when(this.updateCommand(requestId, patch)), patch, when);
  }

  /**
   * One conditional update; false when its condition failed. A patch that moves the audit head
   * only moves it forward: if a later head is already there, the rest of the patch is written
   * without it (a second call, only on that race).
   */
  private async send(
    command: ReturnType<DynamoRequestStore['updateCommand']>,
    patch: RequestPatch,
    wrap: (c: ReturnType<DynamoRequestStore['updateCommand']>) => ReturnType<DynamoRequestStore['updateCommand']> = (c) => c,
  ): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand(command));
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      if (!patch.auditHead) return false;
    }
    const { auditHead: _behind, ...rest } = patch;
    return this.send(wrap(this.updateCommand(command.Key.requestId, rest)), rest, wrap);
  }

  async list(scope: RequestListScope, page: { status?: RequestStatus; limit: number; cursor?: string }): Promise<RequestPage> {
    const { status, limit, cursor } = page;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REQUEST_PAGE) {
      throw new InvalidInput('invalid_limit', `limit: must be an integer in 1..${MAX_REQUEST_PAGE}`);
    }
    const everyone = scope === 'everyone';
    const partition = everyone
      ? { index: REQUESTS_BY_CREATION_INDEX, name: REQUESTS_TIMELINE.attribute, value: REQUESTS_TIMELINE.value }
      : { index: REQUESTS_BY_REQUESTER_INDEX, name: 'requestedBy', value: scope.requestedBy };
    // Another requester's token names their partition: it never starts a query in ours or theirs.
    let startKey: Record<string, unknown> | undefined =
      cursor === undefined
        ? undefined
        : everyone
          ? decodeCursor(cursor, EveryoneCursor, () => true)
          : decodeCursor(cursor, RequesterCursor, (key) => key.requestedBy === partition.value);
    const requests: RequestRecord[] = [];
    for (let queries = 0; queries < MAX_QUERIES_PER_PAGE; queries++) {
      const { Items = [], LastEvaluatedKey } = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: partition.index,
          KeyConditionExpression: '#pk = :pk',
          ...(status === undefined ? {} : { FilterExpression: '#status = :status' }),
          ExpressionAttributeNames: { '#pk': partition.name, ...(status === undefined ? {} : { '#status': 'status' }) },
          ExpressionAttributeValues: { ':pk': partition.value, ...(status === undefined ? {} : { ':status': status }) },
          ScanIndexForward: false,
          // Limit caps the items evaluated, so the key it stops at is an exact resume point.
          Limit: limit - requests.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      requests.push(...Items.map((item) => RequestRecord.parse(item)));
      startKey = LastEvaluatedKey;
      if (!startKey || requests.length >= limit) break;
    }
    return startKey ? { requests, nextToken: encodeCursor(startKey) } : { requests };
  }

  private updateCommand(requestId: string, patch: RequestPatch) {
    // updatedAt is always set: the patch's own value wins (a step may stamp its event time).
    const attributes: Record<string, unknown> = { ...patch, updatedAt: patch.updatedAt ?? isoNow(this.clock) };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const assignments: string[] = [];
    for (const [key, value] of Object.entries(attributes)) {
      // undefined means "leave as is" (the type allows it for optional fields).
      if (value === undefined || IMMUTABLE.has(key)) continue;
      const i = assignments.length;
      names[`#a${i}`] = key;
      values[`:v${i}`] = value;
      assignments.push(`#a${i} = :v${i}`);
    }
    // A request written before the byCreation index existed joins it at its next update.
    names['#timeline'] = REQUESTS_TIMELINE.attribute;
    values[':timeline'] = REQUESTS_TIMELINE.value;
    assignments.push('#timeline = :timeline');
    names['#id'] = 'requestId';
    let condition = 'attribute_exists(#id)';
    if (patch.auditHead) {
      names['#head'] = 'auditHead';
      names['#headSeq'] = 'seq';
      values[':headSeq'] = patch.auditHead.seq;
      condition += ' AND (attribute_not_exists(#head) OR #head.#headSeq < :headSeq)';
    }
    return {
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: `SET ${assignments.join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }
}
