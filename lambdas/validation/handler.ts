import { correlate, logger } from '../shared/observability';
import { auditLog, clock, confidenceThreshold, requestStore, systemOfRecord } from '../shared/runtime';
import { parseState, validationStep } from '../shared/workflow/steps';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: schema, grounding, existence, idempotency, then policy. */
export async function handler(event: unknown): Promise<WorkflowState> {
  const state = parseState(event);
  correlate({ requestId: state.requestId, traceId: state.traceId });
  const next = await validationStep(state, {
    requests: requestStore(),
    audit: auditLog(),
    records: systemOfRecord(),
    clock: clock(),
    confidenceThreshold: confidenceThreshold(),
  });
  logger.info('proposal validated', { outcome: next.decision?.outcome, reasons: next.decision?.reasons, policy: next.decision?.policy });
  return next;
}
