import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from './sdk';
import * as z from '../../schemas/zod';
import { Conflict, InvalidInput } from '../../errors';
import { Id, isValidId } from '../../ids';
import { systemClock, type Clock, type TaskIndex, type TaskPage } from '../../ports';
import { TaskItem } from '../../schemas/records';
import { ApprovalStatus } from '../../schemas/workflow';
import { TABLES, TASKS_BY_STATUS_INDEX } from '../../tables';
import { documentClient, requireEnv } from './clients';
import { decodeCursor, encodeCursor, isConditionalCheckFailed, isoNow } from './dynamo';

/** The largest page a caller may ask for (the API caps at 100 too). */
export const MAX_TASK_PAGE = 100;

/**
 * What a byStatus cursor may contain: exactly the GSI's LastEvaluatedKey. A cursor is client
 * input, so it is decoded strictly and never handed to DynamoDB unchecked.
 */
const TaskCursor = z.strictObject({
  taskId: Id,
  status: ApprovalStatus,
  createdAt: z.string().check(z.minLength(1), z.maxLength(64)),
});

export class DynamoTaskIndex implements TaskIndex {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock = systemClock,
  ) {}

  static fromEnv(doc: DynamoDBDocumentClient = documentClient(), env: NodeJS.ProcessEnv = process.env): DynamoTaskIndex {
    return new DynamoTaskIndex(doc, requireEnv(TABLES.tasks.envVar, env));
  }

  async putPending(task: TaskItem): Promise<void> {
    if (!isValidId(task.taskId)) throw new InvalidInput('invalid_task_id', 'taskId: not a valid id');
    if (task.status !== 'PENDING') throw new InvalidInput('invalid_task_status', 'status: putPending writes PENDING tasks only');
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: task,
          // A retried dehydrate step may replace a still-pending task (newer task token);
          // once decided or expired, the task is history.
          ConditionExpression: 'attribute_not_exists(taskId) OR #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'PENDING' },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new Conflict('task_already_decided', `Task ${task.taskId} is no longer pending.`);
      }
      throw error;
    }
  }

  async get(taskId: string): Promise<TaskItem | undefined> {
    if (!isValidId(taskId)) return undefined;
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { taskId }, ConsistentRead: true }));
    return Item ? TaskItem.parse(Item) : undefined;
  }

  async listByStatus(status: ApprovalStatus, limit: number, cursor?: string): Promise<TaskPage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TASK_PAGE) {
      throw new InvalidInput('invalid_limit', `limit: must be an integer in 1..${MAX_TASK_PAGE}`);
    }
    const { Items = [], LastEvaluatedKey } = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: TASKS_BY_STATUS_INDEX,
        KeyConditionExpression: '#status = :status',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status },
        ScanIndexForward: true,
        Limit: limit,
        // A cursor from another status's listing would start the query at a foreign key.
        ...(cursor === undefined ? {} : { ExclusiveStartKey: decodeCursor(cursor, TaskCursor, (key) => key.status === status) }),
      }),
    );
    return {
      tasks: Items.map((item) => TaskItem.parse(item)),
      ...(LastEvaluatedKey ? { nextToken: encodeCursor(LastEvaluatedKey) } : {}),
    };
  }

  async consumeApprovalToken(args: {
    taskId: string;
    approvalToken: string;
    status: 'APPROVED' | 'REJECTED';
    decidedBy: string;
    decidedAt: string;
    comment?: string;
  }): Promise<TaskItem | undefined> {
    if (!isValidId(args.taskId)) return undefined;
    const hasComment = args.comment !== undefined;
    try {
      // One conditional write is the whole protocol: DynamoDB serialises writes to an item,
      // so of any number of concurrent callers exactly one sees the condition hold.
      // The task comes back with the write: the decision reads it from there, not with a read of its own.
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { taskId: args.taskId },
          ReturnValues: 'ALL_NEW',
          UpdateExpression: `SET #status = :status, decidedBy = :by, decidedAt = :at${hasComment ? ', #comment = :comment' : ''}`,
          ConditionExpression: '#status = :pending AND approvalToken = :token AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status', ...(hasComment ? { '#comment': 'comment' } : {}) },
          ExpressionAttributeValues: {
            ':status': args.status,
            ':by': args.decidedBy,
            ':at': args.decidedAt,
            ':pending': 'PENDING',
            ':token': args.approvalToken,
            ':now': isoNow(this.clock),
            ...(hasComment ? { ':comment': args.comment } : {}),
          },
        }),
      );
      return TaskItem.parse(Attributes);
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async releaseDecision(taskId: string, decidedBy: string): Promise<void> {
    if (!isValidId(taskId)) return;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { taskId },
          UpdateExpression: 'SET #status = :pending REMOVE decidedBy, decidedAt, #comment',
          // Only the approver whose decision could not be delivered may undo it.
          ConditionExpression: 'decidedBy = :me AND (#status = :approved OR #status = :rejected)',
          ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
          ExpressionAttributeValues: { ':pending': 'PENDING', ':me': decidedBy, ':approved': 'APPROVED', ':rejected': 'REJECTED' },
        }),
      );
    } catch (error) {
      // Nothing of ours to release (already released, or someone else's decision): a
      // compensating action must not fail the error path it runs in.
      if (isConditionalCheckFailed(error)) return;
      throw error;
    }
  }

  async markExpired(taskId: string): Promise<TaskItem | undefined> {
    if (!isValidId(taskId)) return undefined;
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { taskId },
          ReturnValues: 'ALL_NEW',
          UpdateExpression: 'SET #status = :expired',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pending': 'PENDING', ':expired': 'EXPIRED' },
        }),
      );
      return TaskItem.parse(Attributes);
    } catch (error) {
      // Already expired (a retry), decided, or unknown: a decided task is never rewritten.
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }
}
