import type { Context } from 'aws-lambda';
import { logger, logStepInput, withObservability } from '../shared/observability';
import { auditLog, clock, connectors, cumulativeLedger, piiVault, systemOfRecord } from '../shared/runtime';
import { executionStep } from '../shared/workflow/execution-step';
import { parseState } from '../shared/workflow/state';
import type { WorkflowState } from '../shared/schemas/workflow';

/** Step Functions task: apply the approved effect to the system of record, exactly once. */
export async function handler(event: unknown, context?: Partial<Context>): Promise<WorkflowState> {
  const state = parseState(event);
  return withObservability({ requestId: state.requestId, traceId: state.traceId }, context, async () => {
    logStepInput(state);
    const next = await executionStep(state, {
      audit: auditLog(),
      records: systemOfRecord(),
      clock: clock(),
      vault: piiVault(),
      connectors: connectors(),
      ledger: cumulativeLedger(),
    });
    logger.info('effect executed', { action: next.proposal?.action });
    return next;
  });
}
