/** Small helpers the DynamoDB adapters share. */

/** The SDK error a failed ConditionExpression raises (matched by name: no class identity across copies). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Clock time as the adapters store it: ISO 8601 UTC, which sorts and compares as a string. */
export function isoNow(clock: { now(): Date }): string {
  return clock.now().toISOString();
}
