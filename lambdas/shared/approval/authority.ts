import type { Principal, TaskItem } from '../schemas/records';

export type DecideRefusal = 'self_approval_forbidden' | 'not_authorized_approver';
export type MayDecide = { ok: true } | { ok: false; code: DecideRefusal };

/**
 * Whether `principal` may decide `task`. Authority comes only from the caller's verified roles
 * and the approver roles that this proposal's policy tier named at validation time — never
 * from anything in the request or the decision body — and nobody decides their own request.
 */
export function mayDecide(task: Pick<TaskItem, 'requestedBy' | 'approverRoles'>, principal: Principal): MayDecide {
  if (principal.sub === task.requestedBy) return { ok: false, code: 'self_approval_forbidden' };
  const held = new Set(principal.roles);
  if (!task.approverRoles.some((role) => held.has(role))) return { ok: false, code: 'not_authorized_approver' };
  return { ok: true };
}
