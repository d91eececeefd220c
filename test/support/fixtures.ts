import { newApprovalToken, newRequestId, taskIdFor } from '../../lambdas/shared/ids';
import type { RequestRecord, TaskItem } from '../../lambdas/shared/schemas/records';
import type { WorkflowState } from '../../lambdas/shared/schemas/workflow';
import { checkpointKey } from '../../lambdas/shared/tables';

/** Fresh, valid records for store tests: every call gets new ids, so tests never share items. */

export function aRequestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  const now = new Date().toISOString();
  return {
    requestId: newRequestId(),
    status: 'QUEUED',
    requestedBy: 'requester-1',
    requesterRoles: ['support-agent'],
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export function aWorkflowState(overrides: Partial<WorkflowState> = {}): WorkflowState {
  return {
    requestId: newRequestId(),
    requestedBy: { sub: 'requester-1', roles: ['support-agent'] },
    submittedAt: new Date().toISOString(),
    text: 'Refund $120 on order O-5001 for customer C-1002, item arrived damaged',
    approvalTimeoutSeconds: 604800,
    proposal: {
      action: 'refund',
      fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'item arrived damaged' },
    },
    ...overrides,
  };
}

export function aPendingTask(overrides: Partial<TaskItem> = {}): TaskItem {
  const requestId = overrides.requestId ?? newRequestId();
  const taskId = overrides.taskId ?? taskIdFor(requestId);
  const now = Date.now();
  return {
    taskId,
    requestId,
    action: 'purchase_order',
    status: 'PENDING',
    reasons: ['above_autonomous_limit'],
    summary: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD' },
    requestedBy: 'requester-1',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 7 * 24 * 3600 * 1000).toISOString(),
    approverRoles: ['procurement-manager'],
    tier: 'procurement-manager',
    approvalToken: newApprovalToken(),
    taskToken: `task-token-${requestId}`,
    checkpointKey: checkpointKey(requestId, taskId),
    evidence: {
      decision: {
        outcome: 'pending_approval',
        reasons: ['above_autonomous_limit'],
        policy: { id: 'purchase_order', version: '1' },
      },
    },
    ...overrides,
  };
}
