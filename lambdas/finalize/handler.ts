import type { Context } from 'aws-lambda';
import * as z from '../shared/schemas/zod';
import { modelFailureCauseOf } from '../shared/errors';
import { Id, taskIdFor } from '../shared/ids';
import { logger, logStepInput, recordMetric, withObservability } from '../shared/observability';
import { auditLog, cumulativeLedger, piiVault, requestStore, systemOfRecord, taskIndex } from '../shared/runtime';
import { CaughtError, WorkflowState } from '../shared/schemas/workflow';
import { failureCode, finalizeStep, type FinalOutput } from '../shared/workflow/finalize-step';

const FinalizeInput = z.object({ state: z.unknown(), mode: z.enum(['finalize', 'failed']) });

/**
 * Step Functions task for both ends of the flow: `Finalize` (outbound shield, terminal status)
 * and `MarkFailed` (a step failed after its retries). On the failure path the state may be the
 * very thing that was wrong, so only its request id is needed to mark it FAILED.
 */
export async function handler(event: unknown, context?: Partial<Context>): Promise<FinalOutput> {
  const input = FinalizeInput.parse(event);
  const failurePath = input.mode === 'failed';
  const parsed = WorkflowState.safeParse(input.state);
  let state: WorkflowState;
  if (parsed.success) {
    state = parsed.data;
  } else {
    const minimal = z.object({ requestId: Id, error: z.optional(CaughtError) }).parse(input.state);
    state = {
      requestId: minimal.requestId,
      requestedBy: { sub: 'unknown', roles: [] },
      submittedAt: '',
      text: '',
      approvalTimeoutSeconds: 1,
      error: minimal.error ?? { Error: 'InvalidWorkflowState' },
    };
  }
  const awaitedApproval = state.decision?.outcome === 'pending_approval';
  const keys = { requestId: state.requestId, traceId: state.traceId, ...(awaitedApproval ? { taskId: taskIdFor(state.requestId) } : {}) };
  return withObservability(keys, context, async () => {
    logStepInput(state);
    const output = await finalizeStep(
      state,
      { requests: requestStore(), tasks: taskIndex(), audit: auditLog(), vault: piiVault(), ledger: cumulativeLedger(), records: systemOfRecord() },
      { failurePath },
    );
    if (failurePath) {
      const code = failureCode(state.error?.Error ?? 'InconsistentState');
      // The cause class only, never the Cause itself (a stack trace, and whatever a message held).
      const cause = modelFailureCauseOf(state.error);
      logger.error('request failed', { failedWith: state.error?.Error, code, ...(cause ? { cause } : {}), status: output.status });
      recordMetric('ExecutionFailures', 1, { code });
    } else if (output.status === 'FAILED') {
      logger.error('request failed', { failedWith: state.error?.Error });
    } else {
      logger.info('request finalized', { status: output.status });
    }
    if (output.status === 'EXPIRED') {
      logger.info('approval expired', { taskId: taskIdFor(state.requestId) });
      recordMetric('ApprovalsExpired', 1);
    }
    // Once per execution: a Finalize that threw recorded nothing, and MarkFailed then reports how it ended.
    recordMetric('RequestsFinalized', 1, { status: output.status });
    return output;
  });
}
