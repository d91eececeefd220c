import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Conflict, InvalidInput, NotFound } from '../../errors';
import { isValidId } from '../../ids';
import { systemClock, type Clock, type RequestStore } from '../../ports';
import { RequestRecord, type RequestStatus } from '../../schemas/records';
import { TABLES } from '../../tables';
import { documentClient, requireEnv } from './clients';
import { isConditionalCheckFailed, isoNow } from './dynamo';

type RequestPatch = Parameters<RequestStore['update']>[1];

/** Keys a patch may never touch: the item's identity and its birth time. */
const IMMUTABLE = new Set(['requestId', 'createdAt']);

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
          Item: record,
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
    try {
      await this.doc.send(new UpdateCommand(this.updateCommand(requestId, patch)));
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new NotFound(`Request ${requestId} not found.`);
      throw error;
    }
  }

  async updateIf(requestId: string, patch: RequestPatch, whenStatus: readonly RequestStatus[]): Promise<boolean> {
    if (!isValidId(requestId) || whenStatus.length === 0) return false;
    const command = this.updateCommand(requestId, patch);
    const expected = Object.fromEntries(whenStatus.map((status, i) => [`:when${i}`, status]));
    try {
      await this.doc.send(
        new UpdateCommand({
          ...command,
          ConditionExpression: `${command.ConditionExpression} AND #status IN (${Object.keys(expected).join(', ')})`,
          ExpressionAttributeNames: { ...command.ExpressionAttributeNames, '#status': 'status' },
          ExpressionAttributeValues: { ...command.ExpressionAttributeValues, ...expected },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
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
    names['#id'] = 'requestId';
    return {
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: `SET ${assignments.join(', ')}`,
      ConditionExpression: 'attribute_exists(#id)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }
}
