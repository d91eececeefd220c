import type { Context } from 'aws-lambda';
import { logger, logStepInput, recordMetric, withObservability } from '../shared/observability';
import { auditLog } from '../shared/runtime';
import { parseState } from '../shared/workflow/state';
import { triageStep } from '../shared/workflow/triage-step';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: classify the request and pick its route. */
export async function handler(event: unknown, context?: Partial<Context>): Promise<WorkflowState> {
  const state = parseState(event);
  return withObservability({ requestId: state.requestId, traceId: state.traceId }, context, async () => {
    logStepInput(state);
    const next = await triageStep(state, { audit: auditLog() });
    logger.info('request triaged', { route: next.triage?.route, action: next.triage?.action, signals: next.triage?.signals });
    if (next.triage) recordMetric('Route', 1, { route: next.triage.route });
    return next;
  });
}
