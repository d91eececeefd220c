import type { AuditLog } from '../ports';
import type { WorkflowState } from '../schemas/workflow';
import { chainHeadOf } from '../audit/chain';
import { triageRequest } from '../triage/triage';
import { system } from './state';

/** Triage: the route, the action named and the model tier, from the request's words. */
export async function triageStep(
  state: WorkflowState,
  deps: { audit: AuditLog },
): Promise<WorkflowState> {
  const triage = triageRequest({
    text: state.text,
    submitted: state.submitted,
    requestedBy: state.requestedBy,
    ...(state.shield ? { observedSignals: state.shield.signals } : {}),
  });
  // Only the entry: the next step's write (Inference or Validate, moments later) records the
  // route and RUNNING, and moves the record's audit head past this entry (signed meanwhile).
  const entry = await deps.audit.append(
    state.requestId,
    { step: 'Triage', actor: system('triage'), event: 'request.triaged', data: { ...triage } },
    state.audit,
  );
  return { ...state, triage, audit: chainHeadOf(entry) };
}
