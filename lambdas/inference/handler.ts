import { correlate, logger } from '../shared/observability';
import { auditLog, modelProviderFor, requestStore } from '../shared/runtime';
import { inferenceStep, parseState } from '../shared/workflow/steps';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: turn text into a candidate proposal. The output is untrusted. */
export async function handler(event: unknown): Promise<WorkflowState> {
  const state = parseState(event);
  correlate({ requestId: state.requestId, traceId: state.traceId });
  const provider = await modelProviderFor(state.triage?.route ?? 'human');
  const next = await inferenceStep(state, { requests: requestStore(), audit: auditLog(), provider });
  logger.info('proposal generated', {
    provider: next.inference?.model.provider,
    model: next.inference?.model.id,
    confidence: next.inference?.confidence,
    inputTokens: next.inference?.model.inputTokens,
    outputTokens: next.inference?.model.outputTokens,
  });
  return next;
}
