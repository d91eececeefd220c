import { dehydrateForApproval } from '../shared/approval';
import { InvalidWorkflowState } from '../shared/errors';
import { correlate, logger } from '../shared/observability';
import { auditLog, clock, requestStore, stateStore, taskIndex } from '../shared/runtime';
import { DehydrateInput } from '../shared/schemas/workflow';

/**
 * Step Functions `.waitForTaskToken` task: park the state in S3, index the approval task, and
 * return. The execution waits until the approval Lambda resumes it (or the wait times out).
 */
export async function handler(event: unknown): Promise<{ taskId: string }> {
  const parsed = DehydrateInput.safeParse(event);
  // The message names paths only: the event carries the task token.
  if (!parsed.success) throw new InvalidWorkflowState(`dehydrate input invalid at ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  correlate({ requestId: parsed.data.state.requestId, traceId: parsed.data.state.traceId });
  const { taskId } = await dehydrateForApproval(parsed.data, {
    tasks: taskIndex(),
    states: stateStore(),
    requests: requestStore(),
    audit: auditLog(),
    clock: clock(),
  });
  logger.info('awaiting approval', { taskId, approverRoles: parsed.data.state.decision?.approverRoles });
  return { taskId };
}
