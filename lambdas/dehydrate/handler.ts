import type { Context } from 'aws-lambda';
import { dehydrateForApproval } from '../shared/approval';
import { InvalidWorkflowState } from '../shared/errors';
import { taskIdFor } from '../shared/ids';
import { logger, logStepInput, recordMetric, withObservability } from '../shared/observability';
import { auditLog, clock, requestStore, stateStore, taskIndex } from '../shared/runtime';
import { DehydrateInput } from '../shared/schemas/workflow';

/**
 * Step Functions `.waitForTaskToken` task: park the state in S3, index the approval task, and
 * return. The execution waits until the approval Lambda resumes it (or the wait times out).
 */
export async function handler(event: unknown, context?: Partial<Context>): Promise<{ taskId: string }> {
  const parsed = DehydrateInput.safeParse(event);
  // The message names paths only: the event carries the task token.
  if (!parsed.success) throw new InvalidWorkflowState(`dehydrate input invalid at ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  const { state } = parsed.data;
  return withObservability({ requestId: state.requestId, traceId: state.traceId, taskId: taskIdFor(state.requestId) }, context, async () => {
    logStepInput(state);
    const { taskId } = await dehydrateForApproval(parsed.data, {
      tasks: taskIndex(),
      states: stateStore(),
      requests: requestStore(),
      audit: auditLog(),
      clock: clock(),
    });
    logger.info('awaiting approval', { approverRoles: state.decision?.approverRoles, tier: state.decision?.tier });
    recordMetric('ApprovalsRequested', 1);
    return { taskId };
  });
}
