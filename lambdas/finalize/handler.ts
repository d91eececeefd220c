import * as z from 'zod';
import { Id } from '../shared/ids';
import { correlate, logger } from '../shared/observability';
import { auditLog, piiVault, requestStore, taskIndex } from '../shared/runtime';
import { WorkflowState } from '../shared/schemas/workflow';
import { finalizeStep, type FinalOutput } from '../shared/workflow/steps';

const FinalizeInput = z.object({ state: z.unknown(), mode: z.enum(['finalize', 'failed']) });

/**
 * Step Functions task for both ends of the flow: `Finalize` (outbound shield, terminal status)
 * and `MarkFailed` (a step failed after its retries). On the failure path the state may be the
 * very thing that was wrong, so only its request id is needed to mark it FAILED.
 */
export async function handler(event: unknown): Promise<FinalOutput> {
  const input = FinalizeInput.parse(event);
  const failurePath = input.mode === 'failed';
  const parsed = WorkflowState.safeParse(input.state);
  let state: WorkflowState;
  if (parsed.success) {
    state = parsed.data;
  } else {
    const minimal = z.object({ requestId: Id, error: z.object({ Error: z.string() }).optional() }).parse(input.state);
    state = {
      requestId: minimal.requestId,
      requestedBy: { sub: 'unknown', roles: [] },
      submittedAt: '',
      text: '',
      approvalTimeoutSeconds: 1,
      error: { Error: minimal.error?.Error ?? 'InvalidWorkflowState' },
    };
  }
  correlate({ requestId: state.requestId, traceId: state.traceId });
  const output = await finalizeStep(
    state,
    { requests: requestStore(), tasks: taskIndex(), audit: auditLog(), vault: piiVault() },
    { failurePath },
  );
  if (output.status === 'FAILED') {
    logger.error('request failed', { failedWith: state.error?.Error });
  } else {
    logger.info('request finalized', { status: output.status });
  }
  return output;
}
