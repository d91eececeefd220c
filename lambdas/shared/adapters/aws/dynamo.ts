import type * as z from 'zod';
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
  schema: z.ZodType<T>,
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
  const parsed = schema.safeParse(decoded);
  if (!parsed.success || !belongs(parsed.data)) throw invalid();
  return parsed.data;
}
