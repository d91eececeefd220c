/**
 * One clock for an approval's deadline. Step Functions starts the wait's TimeoutSeconds when
 * AwaitApproval is entered (`$$.State.EnteredTime`); the task's `expiresAt` counts from that same
 * moment, less a margin, so the API refuses a decision before the workflow stops waiting rather
 * than accepting one the workflow can no longer take.
 */

/** The longest margin: far more than a decision's writes and SendTaskSuccess take. */
const MAX_MARGIN_MS = 60_000;

/** Before the wait times out, the API stops accepting decisions this much earlier (a tenth of the wait, at most a minute). */
export function deadlineMarginMs(approvalTimeoutSeconds: number): number {
  return Math.min(MAX_MARGIN_MS, Math.floor((approvalTimeoutSeconds * 1000) / 10));
}

/** The task's `expiresAt`: when the wait began, plus its timeout, less the margin. */
export function approvalDeadline(waitEnteredAt: string, approvalTimeoutSeconds: number): Date {
  const timeoutMs = approvalTimeoutSeconds * 1000;
  return new Date(Date.parse(waitEnteredAt) + timeoutMs - deadlineMarginMs(approvalTimeoutSeconds));
}
