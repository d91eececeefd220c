import { correlate, logger } from '../shared/observability';
import { auditLog, requestStore } from '../shared/runtime';
import { parseState, triageStep } from '../shared/workflow/steps';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: classify the request and pick its route. */
export async function handler(event: unknown): Promise<WorkflowState> {
  const state = parseState(event);
  correlate({ requestId: state.requestId, traceId: state.traceId });
  const next = await triageStep(state, { requests: requestStore(), audit: auditLog() });
  logger.info('request triaged', { route: next.triage?.route, action: next.triage?.action, signals: next.triage?.signals });
  return next;
}
