import { createHash, timingSafeEqual } from 'node:crypto';
import { chainHeadOf } from '../audit/chain';
import { Conflict, Forbidden, Gone, NotFound, OrchestratorUnavailable } from '../errors';
import * as z from '../schemas/zod';
import { Id, isValidId } from '../ids';
import { scrubPii } from '../shield/pii';
import type { DecisionBody } from '../schemas/api';
import { TERMINAL_STATUSES, type Principal, type TaskItem } from '../schemas/records';
import type { ApprovalOutcome, ApprovalStatus, WorkflowState } from '../schemas/workflow';
import { checkpointKey } from '../tables';
import { mayDecide, type DecideRefusal } from './authority';
import type { ApprovalDeps } from './deps';
import { isPastDeadline } from './view';

/** `POST /v1/tasks/{taskId}/decision`'s answer (API.md). */
export const DecisionResult = z.strictObject({
  taskId: Id,
  requestId: Id,
  status: z.enum(['APPROVED', 'REJECTED'] as const satisfies readonly ApprovalStatus[]),
  decidedBy: z.string(),
  decidedAt: z.string(),
});
export type DecisionResult = z.infer<typeof DecisionResult>;

type DecidedApproval = ApprovalOutcome & { status: 'APPROVED' | 'REJECTED'; decidedBy: string; decidedAt: string };

const REFUSALS: Record<DecideRefusal, string> = {
  self_approval_forbidden: 'Nobody may decide their own request.',
  not_authorized_approver: "The caller's roles do not include an approver role for this task's policy tier.",
};

/**
 * `POST /v1/tasks/{taskId}/decision`. The caller's authority is checked first, on the parked
 * state the task was opened from (the requester, the roles its tier named: the task copies
 * them from it), which the resume needs anyway, so no read of the task comes before the write.
 * The checks before the conditional write only give a precise answer; the write itself
 * (`consumeApprovalToken`) is what decides a race, so of two concurrent decisions exactly one
 * reaches the workflow. When the write fails, the task is read to say why.
 */
export async function decideTask(
  principal: Principal,
  taskId: string,
  body: DecisionBody,
  deps: ApprovalDeps,
): Promise<DecisionResult> {
  if (!isValidId(taskId)) throw new NotFound('No such task.');
  const parked = await parkedStateOf(taskId, deps);
  if (!parked) throw new NotFound('No such task.');
  assertMayDecide(authorityOf(parked.state), principal);

  const now = deps.clock.now();
  // Read already (its request id did not follow from its id): the precise answers come before the write, as ever.
  if (parked.task) await assertDecidable(parked.task, body.approvalToken, now, deps);

  const approval: DecidedApproval = {
    taskId,
    status: body.decision === 'approve' ? 'APPROVED' : 'REJECTED',
    decidedBy: principal.sub,
    decidedAt: now.toISOString(),
    // The comment reaches the request, the audit and the workflow: it passes the same shield as request text.
    ...(body.comment !== undefined ? { comment: scrubPii(body.comment).text } : {}),
  };
  const task = await deps.tasks.consumeApprovalToken({ ...approval, approvalToken: body.approvalToken });
  if (!task) {
    const current = await deps.tasks.get(taskId);
    if (!current) throw new NotFound('No such task.');
    assertMayDecide(current, principal);
    await assertDecidable(current, body.approvalToken, now, deps);
    // It still looks decidable: another decision holds it right now and may yet be released.
    throw new Conflict('task_already_decided', 'Another decision on this task is in progress.');
  }
  // The task the write returned must be the one whose state was read (it is, unless two request
  // ids map to one task id); otherwise its own state is read, and nothing goes on that the
  // authority check did not see.
  let state = parked.state;
  if (task.requestId !== state.requestId || task.checkpointKey !== parked.key) {
    try {
      assertMayDecide(task, principal);
      state = await deps.states.getCheckpoint(task.checkpointKey);
    } catch (error) {
      await deps.tasks.releaseDecision(taskId, approval.decidedBy);
      throw error;
    }
  }

  await deliverDecision(task, state, approval, deps);
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

/** Throws 403 unless the caller's verified roles may decide (and it is not their own request). */
function assertMayDecide(task: Pick<TaskItem, 'requestedBy' | 'approverRoles'>, principal: Principal): void {
  const authority = mayDecide(task, principal);
  if (!authority.ok) throw new Forbidden(authority.code, REFUSALS[authority.code]);
}

/** What authority is checked on, as AwaitApproval copied it from the state into the task. */
function authorityOf(state: WorkflowState): Pick<TaskItem, 'requestedBy' | 'approverRoles'> {
  return { requestedBy: state.requestedBy.sub, approverRoles: state.decision?.approverRoles ?? [] };
}

/**
 * The task's parked state, at the checkpoint its id names (a task id is its request's id with
 * `t_` for `r_`: `taskIdFor`). A task of a request id that does not follow that pattern is read
 * first, for its checkpoint key.
 */
async function parkedStateOf(taskId: string, deps: ApprovalDeps): Promise<{ state: WorkflowState; key: string; task?: TaskItem } | undefined> {
  const requestId = taskId.startsWith('t_') ? `r_${taskId.slice(2)}` : undefined;
  if (requestId !== undefined && isValidId(requestId)) {
    const key = checkpointKey(requestId, taskId);
    try {
      const state = await deps.states.getCheckpoint(key);
      if (state.requestId === requestId) return { state, key };
    } catch (error) {
      if (!(error instanceof NotFound)) throw error;
    }
  }
  const task = await deps.tasks.get(taskId);
  if (!task) return undefined;
  return { state: await deps.states.getCheckpoint(task.checkpointKey), key: task.checkpointKey, task };
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
 *
 * The wait may time out while this runs (the API's deadline comes a margin before it, but a
 * slow call can outlast the margin), and then Finalize writes EXPIRED concurrently. Every write
 * here is conditional so that Finalize's always stands: the request moves on only from
 * PENDING_APPROVAL and goes back only from this call's own RUNNING, and the trail takes no
 * entry after the one that ends the request.
 */
async function deliverDecision(task: TaskItem, state: WorkflowState, approval: DecidedApproval, deps: ApprovalDeps): Promise<void> {
  let claimed = false;
  let audited = false;
  let resuming = false;
  try {
    const claim = (async () => {
      claimed = await deps.requests.updateIf(task.requestId, { status: 'RUNNING', approval }, ['PENDING_APPROVAL']);
      if (!claimed) await throwWhyNotWaiting(task.requestId, deps);
    })();
    // The entry is signed while the request is claimed, and written only once it is (`once`):
    // a claim that fails writes nothing and is what this throws.
    const entry = await deps.audit.appendUnlessClosed(
      task.requestId,
      {
        step: 'Approval',
        actor: { type: 'human', id: approval.decidedBy },
        event: 'approval.decided',
        data: {
          taskId: task.taskId,
          decision: approval.status,
          ...(approval.comment !== undefined ? { comment: approval.comment } : {}),
        },
      },
      state.audit,
      { once: claim },
    );
    if (!entry) throw new WaitOver();
    audited = true;
    resuming = true;
    // The record's head moves with the next step's write (Execute leaves it to Finalize): this
    // entry carries its own signature meanwhile.
    await deps.orchestrator.resume(task.taskToken, { ...state, approval, audit: chainHeadOf(entry) });
  } catch (error) {
    // The request already ended, or the resume itself says the wait is over (timed out or the execution closed).
    const expired = error instanceof WaitOver || (resuming && error instanceof Gone);
    await undoDecision(task, approval, { claimed, audited, expired }, deps);
    if (expired) throw taskExpired();
    throw error;
  }
}

/**
 * The request is not PENDING_APPROVAL. Ended (Finalize wrote it): the wait is over. Still open
 * (an earlier decision's undo has not put it back yet): a passing state, so the approver retries,
 * and the task must not be marked EXPIRED while the workflow still waits.
 */
async function throwWhyNotWaiting(requestId: string, deps: ApprovalDeps): Promise<never> {
  const request = await deps.requests.get(requestId);
  if (!request || TERMINAL_STATUSES.includes(request.status)) throw new WaitOver();
  throw new OrchestratorUnavailable('The request is still being updated by an earlier decision; retry shortly.');
}

/** The request is no longer waiting for this decision: it ended (Finalize wrote it) while the decision was on its way. */
class WaitOver extends Error {
  constructor() {
    super('the request no longer waits for a decision');
    this.name = 'WaitOver';
  }
}

async function undoDecision(
  task: TaskItem,
  approval: DecidedApproval,
  done: { claimed: boolean; audited: boolean; expired: boolean },
  deps: ApprovalDeps,
): Promise<void> {
  try {
    if (done.claimed) {
      // Only this call's own RUNNING goes back: a terminal status Finalize wrote meanwhile stays.
      await deps.requests.updateIf(
        task.requestId,
        { status: 'PENDING_APPROVAL', approval: { taskId: task.taskId, status: done.expired ? 'EXPIRED' : 'PENDING' } },
        ['RUNNING'],
      );
    }
    if (done.audited) {
      // Skipped once Finalize has closed the trail: its request.finalized already says how it ended.
      await deps.audit.appendUnlessClosed(task.requestId, {
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
  } finally {
    // The task last, whatever happened above: releasing it is what lets the next decision in,
    // and that one must find the request waiting again, not still held by this one.
    await deps.tasks.releaseDecision(task.taskId, approval.decidedBy);
    if (done.expired) await deps.tasks.markExpired(task.taskId);
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
