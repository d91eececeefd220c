import * as z from '../schemas/zod';
import { NotFound } from '../errors';
import { isValidId } from '../ids';
import type { TaskPage } from '../ports';
import type { ListTasksQuery } from '../schemas/api';
import { TaskItem, type Principal } from '../schemas/records';
import { mayDecide } from './authority';
import type { ApprovalDeps } from './deps';

/** A task as API.md lists it. Picked field by field: the task token, checkpoint key and evidence stay server-side. */
export const PublicTask = z.pick(TaskItem, {
  taskId: true,
  requestId: true,
  action: true,
  status: true,
  reasons: true,
  summary: true,
  requestedBy: true,
  createdAt: true,
  expiresAt: true,
  approverRoles: true,
  approvalToken: true,
});
export type PublicTask = z.infer<typeof PublicTask>;

/** `GET /v1/tasks/{taskId}`: the list item plus what the approver decides on. */
export const PublicTaskDetail = z.extend(PublicTask, {
  evidence: z.extend(TaskItem.shape.evidence, {
    /** The policy tier that requires this approval. */
    tier: z.string(),
  }),
});
export type PublicTaskDetail = z.infer<typeof PublicTaskDetail>;

/** `GET /v1/tasks`: one page of tasks the caller may decide, and where the next begins. */
export const TaskList = z.strictObject({ tasks: z.array(PublicTask), nextToken: z.optional(z.string()) });
export type TaskList = z.infer<typeof TaskList>;

export type ViewDeps = Pick<ApprovalDeps, 'tasks' | 'clock'>;

/** Bounds one listing's reads of the index, so a caller who may decide almost nothing still gets a prompt answer (with a nextToken). */
const MAX_INDEX_READS_PER_LISTING = 25;

export function isPastDeadline(task: Pick<TaskItem, 'expiresAt'>, now: Date): boolean {
  return now.getTime() >= Date.parse(task.expiresAt);
}

/** The status the caller should see: a PENDING task past its deadline can no longer be decided. */
function effectiveStatus(task: TaskItem, now: Date): TaskItem['status'] {
  return task.status === 'PENDING' && isPastDeadline(task, now) ? 'EXPIRED' : task.status;
}

export function toPublicTask(task: TaskItem, now: Date): PublicTask {
  return {
    taskId: task.taskId,
    requestId: task.requestId,
    action: task.action,
    status: effectiveStatus(task, now),
    reasons: task.reasons,
    summary: task.summary,
    requestedBy: task.requestedBy,
    createdAt: task.createdAt,
    expiresAt: task.expiresAt,
    approverRoles: task.approverRoles,
    approvalToken: task.approvalToken,
  };
}

export function toPublicTaskDetail(task: TaskItem, now: Date): PublicTaskDetail {
  const { proposal, decision, confidence, model, triageReason, dryRun } = task.evidence;
  return {
    ...toPublicTask(task, now),
    evidence: {
      ...(proposal ? { proposal } : {}),
      decision,
      tier: task.tier,
      ...(confidence !== undefined ? { confidence } : {}),
      ...(model ? { model } : {}),
      ...(triageReason !== undefined ? { triageReason } : {}),
      ...(dryRun ? { dryRun } : {}),
    },
  };
}

/**
 * `GET /v1/tasks`: the tasks in a status that the caller may decide. The index cannot filter by
 * role or requester, so this filters after each query. Each query asks for exactly the number
 * of tasks still missing, so the index's own cursor is always a precise resume point and no
 * task is skipped between pages.
 */
export async function listTasksFor(
  principal: Principal,
  query: ListTasksQuery,
  deps: ViewDeps,
): Promise<TaskList> {
  const now = deps.clock.now();
  const visible: PublicTask[] = [];
  let cursor = query.nextToken;
  for (let reads = 0; reads < MAX_INDEX_READS_PER_LISTING; reads++) {
    const page: TaskPage = await deps.tasks.listByStatus(query.status, query.limit - visible.length, cursor);
    for (const task of page.tasks) {
      if (!mayDecide(task, principal).ok) continue;
      // The workflow's own timeout will close it; until then it must not look decidable.
      if (task.status === 'PENDING' && isPastDeadline(task, now)) continue;
      visible.push(toPublicTask(task, now));
    }
    cursor = page.nextToken;
    if (!cursor || visible.length >= query.limit) break;
  }
  return cursor ? { tasks: visible, nextToken: cursor } : { tasks: visible };
}

/** `GET /v1/tasks/{taskId}`: 404 alike for a malformed id, an unknown task and one the caller may not decide. */
export async function getTaskFor(principal: Principal, taskId: string, deps: ViewDeps): Promise<PublicTaskDetail> {
  const task = await findDecidableTask(principal, taskId, deps);
  if (!task) throw new NotFound('No such task.');
  return toPublicTaskDetail(task, deps.clock.now());
}

async function findDecidableTask(principal: Principal, taskId: string, deps: Pick<ViewDeps, 'tasks'>) {
  if (!isValidId(taskId)) return undefined;
  const task = await deps.tasks.get(taskId);
  return task && mayDecide(task, principal).ok ? task : undefined;
}
