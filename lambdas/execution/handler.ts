import { correlate, logger } from '../shared/observability';
import { auditLog, clock, piiVault, requestStore, systemOfRecord } from '../shared/runtime';
import { executionStep, parseState } from '../shared/workflow/steps';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: apply the approved effect to the system of record, exactly once. */
export async function handler(event: unknown): Promise<WorkflowState> {
  const state = parseState(event);
  correlate({ requestId: state.requestId, traceId: state.traceId });
  const next = await executionStep(state, {
    requests: requestStore(),
    audit: auditLog(),
    records: systemOfRecord(),
    clock: clock(),
    vault: piiVault(),
  });
  logger.info('effect executed', { action: next.proposal?.action });
  return next;
}
