import { chainHeadOf, signedHeadOf } from '../audit/chain';
import { actionDefinition } from '../catalog/registry';
import { InvalidWorkflowState } from '../errors';
import { isValidId, newApprovalToken, taskIdFor } from '../ids';
import type { ActionName, Proposal } from '../schemas/actions';
import type { TaskItem } from '../schemas/records';
import type { DehydrateInput, WorkflowState } from '../schemas/workflow';
import { allSettled } from '../settled';
import { runningPatch, validatedPatch } from '../workflow/record';
import { approvalDeadline } from './deadline';
import type { ApprovalDeps } from './deps';

export type DehydrateDeps = Pick<ApprovalDeps, 'tasks' | 'states' | 'requests' | 'audit' | 'clock'>;

/**
 * The AwaitApproval step: park the workflow state and open an approval task for it.
 *
 * Order matters. The `approval.requested` entry comes first, so the parked state can say where
 * the chain ends; the checkpoint and the request record then (at once: neither needs the other)
 * before the task, so a task never points at missing state. The task item comes last because it
 * is what makes a decision possible: the request record and the audit entry are already written
 * when an approver can first see it, so a fast decision can neither be overwritten by this step
 * nor precede the request in the chain.
 * Any failure throws and Step Functions retries the whole step with a fresh task token; the
 * retry overwrites the still-PENDING task (same taskId) with that token and a new approval token.
 */
export async function dehydrateForApproval(input: DehydrateInput, deps: DehydrateDeps): Promise<{ taskId: string }> {
  const { taskToken, waitEnteredAt, state } = input;
  const decision = state.decision;
  if (decision?.outcome !== 'pending_approval') {
    throw new InvalidWorkflowState('AwaitApproval needs a decision with outcome pending_approval.');
  }
  const approverRoles = decision.approverRoles ?? [];
  if (approverRoles.length === 0) {
    throw new InvalidWorkflowState('A pending_approval decision must name its approver roles.');
  }
  const action = actionOf(state);
  if (!action) throw new InvalidWorkflowState('AwaitApproval needs the action of the request.');
  const taskId = taskIdFor(state.requestId);
  // Request ids from other producers may not have the `r_` prefix; the derived id must still be a safe key.
  if (!isValidId(taskId)) throw new InvalidWorkflowState('The request id does not yield a valid task id.');

  const now = deps.clock.now();
  const createdAt = now.toISOString();
  // From the moment the wait began, not from now: this step may run well after its timeout started.
  const expiresAt = approvalDeadline(waitEnteredAt, state.approvalTimeoutSeconds).toISOString();
  // Without a named tier the roles themselves are the most honest description of who decides.
  const tier = decision.tier ?? approverRoles.join('+');

  const entry = await deps.audit.append(
    state.requestId,
    {
      step: 'AwaitApproval',
      actor: { type: 'system', id: 'approval' },
      event: 'approval.requested',
      // Never the task token or the approval token: the audit trail is readable by auditors.
      data: { taskId, approverRoles, tier, reasons: decision.reasons, expiresAt },
    },
    state.audit,
    { head: true },
  );
  // The parked state knows where the chain ends, so the decision appends after this entry unread.
  // (What Validate left for the record is written below: the parked state no longer carries it.)
  const { validated: _forTheRecord, ...parked } = state;
  // Validate left its part of the record to this write (one write, not two), with the route.
  const { status: _running, ...routed } = runningPatch(state);
  // Both settled before the task is written or a failure thrown (a retry then starts from nothing in flight).
  const [checkpointKey] = await allSettled([
    deps.states.putCheckpoint(state.requestId, taskId, { ...parked, audit: chainHeadOf(entry) }),
    deps.requests.update(state.requestId, {
      ...routed,
      ...validatedPatch(state),
      status: 'PENDING_APPROVAL',
      approval: { taskId, status: 'PENDING' },
      waitingFor: { approverRoles, tier, deadline: expiresAt },
      auditHead: signedHeadOf(entry),
    }),
  ] as const);

  const task: TaskItem = {
    taskId,
    requestId: state.requestId,
    action,
    status: 'PENDING',
    reasons: decision.reasons,
    summary: state.proposal ? summaryOf(state.proposal) : {},
    requestedBy: state.requestedBy.sub,
    createdAt,
    expiresAt,
    approverRoles,
    tier,
    approvalToken: newApprovalToken(),
    taskToken,
    checkpointKey,
    chain: chainHeadOf(entry),
    evidence: {
      proposal: state.proposal,
      decision,
      confidence: state.inference?.confidence,
      model: state.inference?.model,
      triageReason: state.triage?.reason,
      dryRun: decision.dryRun,
    },
  };
  await deps.tasks.putPending(dropUndefined(task));
  return { taskId };
}

/** A human-routed request may reach approval without a valid proposal; triage or the client may still name the action. */
function actionOf(state: WorkflowState): ActionName | undefined {
  return state.proposal?.action ?? state.triage?.action ?? state.submitted?.action;
}

/** The few fields an approver needs at a glance (the action's `summaryFields`); the full proposal is in the evidence. */
export function summaryOf(proposal: Proposal): Record<string, unknown> {
  const fields: Record<string, unknown> = proposal.fields;
  return Object.fromEntries(actionDefinition(proposal.action).summaryFields.map((name) => [name, fields[name]]));
}

/** Optional evidence absent from the state stays absent in the item rather than stored as undefined. */
function dropUndefined(task: TaskItem): TaskItem {
  const evidence = Object.fromEntries(
    Object.entries(task.evidence).filter(([, value]) => value !== undefined),
  ) as TaskItem['evidence'];
  return { ...task, evidence };
}
