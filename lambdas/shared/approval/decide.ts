import { createHash, timingSafeEqual } from 'node:crypto';
import { Conflict, Forbidden, Gone, NotFound } from '../errors';
import { isValidId } from '../ids';
import { scrubPii } from '../shield/pii';
import type { DecisionBody } from '../schemas/api';
import type { Principal, RequestRecord, TaskItem } from '../schemas/records';
import type { ApprovalOutcome } from '../schemas/workflow';
import { mayDecide, type DecideRefusal } from './authority';
import type { ApprovalDeps } from './deps';
import { isPastDeadline } from './view';

export interface DecisionResult {
  taskId: string;
  requestId: string;
  status: 'APPROVED' | 'REJECTED';
  decidedBy: string;
  decidedAt: string;
}

type DecidedApproval = ApprovalOutcome & { status: 'APPROVED' | 'REJECTED'; decidedBy: string; decidedAt: string };

const REFUSALS: Record<DecideRefusal, string> = {
  self_approval_forbidden: 'Nobody may decide their own request.',
  not_authorized_approver: "The caller's roles do not include an approver role for this task's policy tier.",
};

/**
 * `POST /v1/tasks/{taskId}/decision`. The checks before the conditional write only give a
 * precise answer; the write itself (`consumeApprovalToken`) is what decides a race, so of two
 * concurrent decisions exactly one reaches the workflow.
 */
export async function decideTask(
  principal: Principal,
  taskId: string,
  body: DecisionBody,
  deps: ApprovalDeps,
): Promise<DecisionResult> {
  if (!isValidId(taskId)) throw new NotFound('No such task.');
  const task = await deps.tasks.get(taskId);
  if (!task) throw new NotFound('No such task.');
  const authority = mayDecide(task, principal);
  if (!authority.ok) throw new Forbidden(authority.code, REFUSALS[authority.code]);

  const now = deps.clock.now();
  await assertDecidable(task, body.approvalToken, now, deps);

  const approval: DecidedApproval = {
    taskId,
    status: body.decision === 'approve' ? 'APPROVED' : 'REJECTED',
    decidedBy: principal.sub,
    decidedAt: now.toISOString(),
    // The comment reaches the request, the audit and the workflow: it passes the same shield as request text.
    ...(body.comment !== undefined ? { comment: scrubPii(body.comment).text } : {}),
  };
  const won = await deps.tasks.consumeApprovalToken({ ...approval, approvalToken: body.approvalToken });
  if (!won) {
    const current = await deps.tasks.get(taskId);
    if (!current) throw new NotFound('No such task.');
    await assertDecidable(current, body.approvalToken, now, deps);
    // It still looks decidable: another decision holds it right now and may yet be released.
    throw new Conflict('task_already_decided', 'Another decision on this task is in progress.');
  }

  await deliverDecision(task, approval, deps);
  deps.onDecisionDelivered?.({
    taskId,
    requestId: task.requestId,
    decision: approval.status === 'APPROVED' ? 'approved' : 'rejected',
    waitedMs: Math.max(0, now.getTime() - Date.parse(task.createdAt)),
    tier: task.tier,
  });
  return {
    taskId,
    requestId: task.requestId,
    status: approval.status,
    decidedBy: approval.decidedBy,
    decidedAt: approval.decidedAt,
  };
}

/** Throws the error that says why `task` cannot be decided with `approvalToken` at `now`. */
async function assertDecidable(
  task: TaskItem,
  approvalToken: string,
  now: Date,
  deps: Pick<ApprovalDeps, 'tasks'>,
): Promise<void> {
  if (task.status === 'EXPIRED') throw taskExpired();
  if (task.status === 'PENDING' && isPastDeadline(task, now)) {
    // The workflow's timeout closes it too; marking it now keeps it out of every listing at once.
    await deps.tasks.markExpired(task.taskId);
    throw taskExpired();
  }
  if (task.status !== 'PENDING') throw new Conflict('task_already_decided', 'This task has already been decided.');
  if (!sameToken(task.approvalToken, approvalToken)) {
    throw new Conflict('approval_token_mismatch', 'The approval token does not match this task; list the task again.');
  }
}

/**
 * Hands the consumed decision to the workflow. The request record and the audit entry are
 * written before the resume: once resumed, Execute and Finalize run on their own and must
 * not have their status overwritten by this call, and nothing may proceed unaudited. If the
 * decision cannot be delivered, each write is undone in a way the trail records, so the
 * approver can retry (or learns the task has expired) and nothing is lost.
 */
async function deliverDecision(task: TaskItem, approval: DecidedApproval, deps: ApprovalDeps): Promise<void> {
  let previous: RequestRecord | undefined;
  let requestUpdated = false;
  let audited = false;
  let resuming = false;
  try {
    const state = await deps.states.getCheckpoint(task.checkpointKey);
    previous = await deps.requests.get(task.requestId);
    await deps.requests.update(task.requestId, { status: 'RUNNING', approval });
    requestUpdated = true;
    await deps.audit.append(task.requestId, {
      step: 'Approval',
      actor: { type: 'human', id: approval.decidedBy },
      event: 'approval.decided',
      data: {
        taskId: task.taskId,
        decision: approval.status,
        ...(approval.comment !== undefined ? { comment: approval.comment } : {}),
      },
    });
    audited = true;
    resuming = true;
    await deps.orchestrator.resume(task.taskToken, { ...state, approval });
  } catch (error) {
    // Only the resume itself can tell that the wait is over (timed out or the execution closed).
    const expired = resuming && error instanceof Gone;
    await undoDecision(task, approval, { previous, requestUpdated, audited, expired }, deps);
    if (expired) throw taskExpired();
    throw error;
  }
}

async function undoDecision(
  task: TaskItem,
  approval: DecidedApproval,
  done: { previous?: RequestRecord; requestUpdated: boolean; audited: boolean; expired: boolean },
  deps: ApprovalDeps,
): Promise<void> {
  // The task first: it is what lets the approver retry (or shows that no retry can succeed).
  await deps.tasks.releaseDecision(task.taskId, approval.decidedBy);
  if (done.expired) await deps.tasks.markExpired(task.taskId);

  if (done.requestUpdated) {
    await deps.requests.update(task.requestId, {
      status: done.previous?.status ?? 'PENDING_APPROVAL',
      approval: { taskId: task.taskId, status: done.expired ? 'EXPIRED' : 'PENDING' },
    });
  }
  if (done.audited) {
    await deps.audit.append(task.requestId, {
      step: 'Approval',
      actor: { type: 'system', id: 'approval' },
      event: done.expired ? 'approval.expired' : 'approval.released',
      data: {
        taskId: task.taskId,
        decision: approval.status,
        reason: done.expired ? 'workflow_no_longer_waiting' : 'decision_not_delivered',
      },
    });
  }
}

function taskExpired(): Gone {
  return new Gone('task_expired', 'The approval deadline for this task has passed.');
}

/** Constant-time comparison; hashing first makes the inputs equal-length so their lengths do not leak either. */
function sameToken(expected: string, given: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}
