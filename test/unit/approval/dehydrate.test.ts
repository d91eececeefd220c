import { decideTask, dehydrateForApproval } from '../../../lambdas/shared/approval';
import { InvalidWorkflowState } from '../../../lambdas/shared/errors';
import { taskIdFor } from '../../../lambdas/shared/ids';
import { checkpointKey } from '../../../lambdas/shared/tables';
import { useEmulatedStores } from '../../support/stores';
import {
  aPendingApprovalState,
  approvalDeps,
  failureOf,
  openTask,
  principal,
  REFUND_PROPOSAL,
  TIER_UPGRADE_PROPOSAL,
} from './harness';

const stores = useEmulatedStores();

describe('dehydrateForApproval', () => {
  it('writes the checkpoint, the pending task, the request status and the audit entry', async () => {
    stores().clock.set('2030-03-01T10:00:00.000Z');
    // The wait began 10 s before this step ran (a cold start): its deadline counts from then, less a minute's margin.
    const { state, taskId, taskToken, task } = await openTask(stores(), { approvalTimeoutSeconds: 7200, waitEnteredAt: '2030-03-01T09:59:50.000Z' });

    expect(taskId).toBe(taskIdFor(state.requestId));
    // Parked with where the chain now ends (its approval.requested entry): the decision appends after it unread.
    expect(await stores().state.getCheckpoint(checkpointKey(state.requestId, taskId))).toEqual({ ...state, audit: { seq: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });

    const entries = await stores().audit.list(state.requestId);
    expect(task).toEqual({
      taskId,
      requestId: state.requestId,
      action: 'purchase_order',
      status: 'PENDING',
      reasons: ['above_autonomous_limit'],
      summary: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations' },
      requestedBy: 'requester-1',
      createdAt: '2030-03-01T10:00:00.000Z',
      expiresAt: '2030-03-01T11:58:50.000Z',
      approverRoles: ['procurement-manager'],
      tier: 'procurement-manager',
      approvalToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      taskToken,
      checkpointKey: checkpointKey(state.requestId, taskId),
      // Where the chain ends with this step's entry (what Finalize appends after if the wait times out).
      chain: { seq: 1, hash: entries[0].hash },
      evidence: {
        proposal: state.proposal,
        decision: state.decision,
        confidence: 0.97,
        model: state.inference?.model,
        triageReason: 'free text, one action, low complexity',
      },
    });

    expect(await stores().requests.get(state.requestId)).toMatchObject({
      status: 'PENDING_APPROVAL',
      approval: { taskId, status: 'PENDING' },
    });

    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      step: 'AwaitApproval',
      actor: { type: 'system' },
      event: 'approval.requested',
      data: {
        taskId,
        approverRoles: ['procurement-manager'],
        tier: 'procurement-manager',
        reasons: ['above_autonomous_limit'],
        expiresAt: '2030-03-01T11:58:50.000Z',
      },
    });
    const trail = JSON.stringify(entries);
    expect(trail).not.toContain(taskToken);
    expect(trail).not.toContain(task.approvalToken);
  });

  it('lets a retried step replace a still-pending task: the new task token, a new approval token', async () => {
    const first = await openTask(stores());
    const { deps } = approvalDeps(stores());
    const retryToken = 'sfn-task-token-of-the-retry';

    const { taskId } = await dehydrateForApproval({ taskToken: retryToken, waitEnteredAt: stores().clock.now().toISOString(), state: first.state }, deps);

    expect(taskId).toBe(first.taskId);
    const replaced = await stores().tasks.get(taskId);
    expect(replaced).toMatchObject({ status: 'PENDING', taskToken: retryToken });
    expect(replaced?.approvalToken).not.toBe(first.task.approvalToken);
    // The approval token an approver listed before the retry no longer decides anything.
    const error = await failureOf(
      decideTask(principal(['procurement-manager']), taskId, { decision: 'approve', approvalToken: first.task.approvalToken }, deps),
    );
    expect(error).toMatchObject({ status: 409, code: 'approval_token_mismatch' });
  });

  it('opens no task when the checkpoint cannot be written, and fails only once the record write has landed', async () => {
    const state = aPendingApprovalState();
    const now = stores().clock.now().toISOString();
    await stores().requests.create({ requestId: state.requestId, status: 'RUNNING', requestedBy: state.requestedBy.sub, requesterRoles: state.requestedBy.roles, createdAt: now, updatedAt: now });
    const { deps } = approvalDeps(stores());
    // The record write is slow; the checkpoint fails at once.
    const requests = Object.create(stores().requests) as typeof deps.requests;
    requests.update = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return stores().requests.update(...args);
    };
    const states = Object.create(stores().state) as typeof deps.states;
    states.putCheckpoint = async () => {
      throw new Error('state bucket unavailable');
    };

    await expect(dehydrateForApproval({ taskToken: 'sfn-task-token', waitEnteredAt: now, state }, { ...deps, requests, states })).rejects.toThrow('state bucket unavailable');
    // Nothing an approver could act on, and nothing of the step still in flight (Step Functions retries it whole).
    expect(await stores().tasks.get(taskIdFor(state.requestId))).toBeUndefined();
    expect(await stores().requests.get(state.requestId)).toMatchObject({ status: 'PENDING_APPROVAL' });

    // The retry finds the record as the failed attempt left it and opens the task.
    const { taskId } = await dehydrateForApproval({ taskToken: 'sfn-task-token-2', waitEnteredAt: now, state }, deps);
    expect(await stores().tasks.get(taskId)).toMatchObject({ status: 'PENDING', taskToken: 'sfn-task-token-2' });
  });

  it('summarises a tier upgrade and a refund, with the refund dry-run in the evidence', async () => {
    const upgrade = await openTask(stores(), { proposal: TIER_UPGRADE_PROPOSAL, approverRoles: ['account-manager'] });
    expect(upgrade.task).toMatchObject({
      action: 'tier_upgrade',
      summary: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'premium', effectiveDate: '2027-01-01' },
    });

    const dryRun = {
      orderId: 'O-5001',
      customerId: 'C-1002',
      orderTotal: 450,
      alreadyRefunded: 0,
      refundAmount: 120,
      remainingAfterRefund: 330,
    };
    const refund = await openTask(stores(), {
      proposal: REFUND_PROPOSAL,
      approverRoles: ['support-lead'],
      decision: { reasons: ['high_risk_action'], dryRun },
    });
    expect(refund.task).toMatchObject({
      action: 'refund',
      reasons: ['high_risk_action'],
      summary: { customerId: 'C-1002', orderId: 'O-5001', amount: 120 },
      evidence: { dryRun },
    });
  });

  it.each([
    ['a decision that is not pending_approval', { outcome: 'approved' as const }],
    ['a pending decision without approver roles', { approverRoles: [] }],
  ])('refuses %s and writes nothing', async (_, decision) => {
    const state = aPendingApprovalState({ decision });
    const { deps } = approvalDeps(stores());

    await expect(dehydrateForApproval({ taskToken: 'sfn-task-token', waitEnteredAt: stores().clock.now().toISOString(), state }, deps)).rejects.toBeInstanceOf(
      InvalidWorkflowState,
    );
    expect(await stores().tasks.get(taskIdFor(state.requestId))).toBeUndefined();
    await expect(stores().state.getCheckpoint(checkpointKey(state.requestId, taskIdFor(state.requestId)))).rejects.toMatchObject({
      status: 404,
    });
    expect(await stores().audit.list(state.requestId)).toEqual([]);
  });
});
