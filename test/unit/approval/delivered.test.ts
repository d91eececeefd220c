import { decideTask, type DeliveredDecision } from '../../../lambdas/shared/approval';
import { OrchestratorUnavailable } from '../../../lambdas/shared/errors';
import { useEmulatedStores } from '../../support/stores';
import { approvalDeps, failureOf, openTask, principal } from './harness';

/** What the approval handler turns into ApprovalsDecided / ApprovalLatency: told once per delivered decision. */

const stores = useEmulatedStores();

function observed() {
  const delivered: DeliveredDecision[] = [];
  return { delivered, onDecisionDelivered: (decision: DeliveredDecision) => delivered.push(decision) };
}

describe('onDecisionDelivered', () => {
  it('reports the decision, its tier and how long the task waited', async () => {
    const opened = await openTask(stores(), { approvalTimeoutSeconds: 24 * 60 * 60 });
    const { deps } = approvalDeps(stores());
    const watch = observed();
    stores().clock.advance(90 * 60_000);

    await decideTask(principal(['procurement-manager']), opened.taskId, { decision: 'reject', approvalToken: opened.task.approvalToken }, {
      ...deps,
      onDecisionDelivered: watch.onDecisionDelivered,
    });

    expect(watch.delivered).toEqual([
      { taskId: opened.taskId, requestId: opened.state.requestId, decision: 'rejected', waitedMs: 90 * 60_000, tier: opened.task.tier },
    ]);
    expect(JSON.stringify(watch.delivered)).not.toContain(opened.task.approvalToken);
    expect(JSON.stringify(watch.delivered)).not.toContain(opened.taskToken);
  });

  it('says nothing for a refused decision or one that could not be delivered, and once for its retry', async () => {
    const opened = await openTask(stores());
    const { deps, orchestrator } = approvalDeps(stores());
    const watch = observed();
    const withObserver = { ...deps, onDecisionDelivered: watch.onDecisionDelivered };
    const approve = { decision: 'approve' as const, approvalToken: opened.task.approvalToken };

    await failureOf(decideTask(principal(['finance-director']), opened.taskId, approve, withObserver));
    orchestrator.failNextResume(new OrchestratorUnavailable('SendTaskSuccess failed; retry later.'));
    const approver = principal(['procurement-manager']);
    await failureOf(decideTask(approver, opened.taskId, approve, withObserver));
    expect(watch.delivered).toEqual([]);

    await decideTask(approver, opened.taskId, approve, withObserver);
    await failureOf(decideTask(approver, opened.taskId, approve, withObserver));
    expect(watch.delivered.map((d) => d.decision)).toEqual(['approved']);
  });
});
