import type { RequestRecord } from '../schemas/records';
import type { WorkflowState } from '../schemas/workflow';

/**
 * The request record as the steps write it, from the state they hand on. Types only: the
 * dehydrate Lambda uses these without loading the policy, the validator or triage.
 */

/** What the step after Triage writes to the record along with its own: the request runs, on this route. */
export function runningPatch(state: WorkflowState): Partial<RequestRecord> {
  if (!state.triage) return {};
  return { status: 'RUNNING', route: state.triage.route, ...(state.triage.action ? { action: state.triage.action } : {}) };
}

/**
 * Validate's part of the record: the proposal it decided on (shielded), the decision, why, and
 * what the requester could add. Validate writes it itself, unless it sent the request to an
 * approver: then AwaitApproval's write carries it (`state.validated`), one write instead of two.
 */
export function validatedPatch(state: WorkflowState): Partial<RequestRecord> {
  const { decision, validated } = state;
  if (!decision) return {};
  return {
    ...(validated?.action ? { action: validated.action } : {}),
    ...(state.proposal ? { proposal: state.proposal } : {}),
    decision: { outcome: decision.outcome, reasons: decision.reasons, policy: decision.policy },
    ...(decision.fingerprint ? { effectFingerprint: decision.fingerprint } : {}),
    ...(validated?.explanations && Object.keys(validated.explanations).length > 0 ? { explanations: validated.explanations } : {}),
    ...(validated?.missingFields && validated.missingFields.length > 0 ? { missingFields: validated.missingFields } : {}),
  };
}
