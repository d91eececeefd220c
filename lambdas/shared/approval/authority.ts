import { ask, userEntity } from '../policy/cedar';
import { authorityPolicy } from '../policy/policies';
import type { Principal, TaskItem } from '../schemas/records';
import { keptAnswers } from '../lazy';

export type DecideRefusal = 'self_approval_forbidden' | 'not_authorized_approver';
export type MayDecide = { ok: true } | { ok: false; code: DecideRefusal };

/**
 * Whether `principal` may decide `task`, by the authority policy (Cedar, `policy/base.ts`).
 * Authority comes only from the caller's verified roles and the approver roles that this
 * proposal's policy tier named at validation time — never from anything in the request or the
 * decision body — and nobody decides their own request.
 */
export function mayDecide(task: Pick<TaskItem, 'requestedBy' | 'approverRoles'>, principal: Principal): MayDecide {
  // The answer follows from these four alone (the policy is the process's): a listing and the
  // decision that follows it ask the same question once.
  const key = JSON.stringify([task.requestedBy, [...new Set(task.approverRoles)].sort(), principal.sub, [...new Set(principal.roles)].sort()]);
  return answers(key, () => evaluate(task, principal));
}

const answers = keptAnswers<MayDecide>(512);

function evaluate(task: Pick<TaskItem, 'requestedBy' | 'approverRoles'>, principal: Principal): MayDecide {
  const requester = userEntity(task.requestedBy, []);
  const approver = userEntity(principal.sub, principal.roles);
  const answer = ask(authorityPolicy(), {
    principal: approver,
    action: 'Decide',
    resource: { uid: { type: 'Task', id: 'task' }, attrs: { requester: { __entity: requester.uid }, approverRoles: [...new Set(task.approverRoles)] }, parents: [] },
    context: {},
    // The requester as an entity only when it is someone else: one uid, one entity.
    others: principal.sub === task.requestedBy ? [] : [requester],
  });
  if (answer.allowed) return { ok: true };
  return { ok: false, code: answer.policyIds.includes('self_approval_forbidden') ? 'self_approval_forbidden' : 'not_authorized_approver' };
}
