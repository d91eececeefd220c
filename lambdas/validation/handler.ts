import type { Context } from 'aws-lambda';
import { logger, logStepInput, recordMetric, withObservability } from '../shared/observability';
import { auditLog, clock, connectors, confidenceThreshold, cumulativeLedger, requestStore, systemOfRecord } from '../shared/runtime';
import { parseState } from '../shared/workflow/state';
import { validationStep } from '../shared/workflow/validation-step';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: schema, grounding, existence, idempotency, then policy. */
export async function handler(event: unknown, context?: Partial<Context>): Promise<WorkflowState> {
  const state = parseState(event);
  return withObservability({ requestId: state.requestId, traceId: state.traceId }, context, async () => {
    logStepInput(state);
    const started = performance.now();
    try {
      const next = await validationStep(state, {
        requests: requestStore(),
        audit: auditLog(),
        records: systemOfRecord(),
        clock: clock(),
        confidenceThreshold: confidenceThreshold(),
        connectors: connectors(),
        ledger: cumulativeLedger(),
      });
      const decision = next.decision;
      logger.info('proposal validated', { outcome: decision?.outcome, reasons: decision?.reasons, policy: decision?.policy });
      if (decision) {
        recordMetric('Outcome', 1, { outcome: decision.outcome });
        const perReason = decision.outcome === 'rejected' ? 'Rejections' : decision.outcome === 'pending_approval' ? 'Escalations' : undefined;
        if (perReason) for (const reason of decision.reasons) recordMetric(perReason, 1, { reason });
      }
      return next;
    } finally {
      // Also when validation throws: a slow failure is still a slow validation.
      recordMetric('ValidationLatency', performance.now() - started);
    }
  });
}
