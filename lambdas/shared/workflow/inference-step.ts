import { InvalidWorkflowState } from '../errors';
import type { AuditLog, ModelProvider, RequestStore } from '../ports';
import type { WorkflowState } from '../schemas/workflow';
import { shieldOutbound } from '../shield/outbound';
import { chainHeadOf, signedHeadOf } from '../audit/chain';
import { writeRunning } from './state';

/** Inference: the model's proposal, audited through the outbound shield. */
export async function inferenceStep(
  state: WorkflowState,
  deps: { requests: RequestStore; audit: AuditLog; provider: ModelProvider },
): Promise<WorkflowState> {
  if (!state.triage) throw new InvalidWorkflowState('inference needs a triage result');
  const inference = await deps.provider.propose({
    text: state.text,
    action: state.triage.action,
    tier: state.triage.modelTier,
  });
  const entry = await deps.audit.append(
    state.requestId,
    {
      step: 'Inference',
      actor: { type: 'model', id: `${inference.model.provider}:${inference.model.id}` },
      event: 'proposal.generated',
      // Outbound shield: the candidate is model-authored text on its way into the audit trail.
      data: shieldOutbound({ candidate: inference.candidate ?? null, confidence: inference.confidence, model: inference.model }).value,
    },
    state.audit,
    { head: true },
  );
  await writeRunning(deps.requests, state, { model: inference.model, auditHead: signedHeadOf(entry) });
  return { ...state, inference, audit: chainHeadOf(entry) };
}
