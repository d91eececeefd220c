import { randomUUID } from 'node:crypto';
import { dehydrateForApproval, type ApprovalDeps } from '../../../lambdas/shared/approval';
import { Gone, type WardenError } from '../../../lambdas/shared/errors';
import { newRequestId } from '../../../lambdas/shared/ids';
import type { Orchestrator } from '../../../lambdas/shared/ports';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';
import type { Principal, TaskItem } from '../../../lambdas/shared/schemas/records';
import type { Decision, WorkflowState } from '../../../lambdas/shared/schemas/workflow';
import type { EmulatedStores } from '../../support/stores';

/**
 * The Step Functions side of the approval, as a fake with the same rules: a task token can be
 * resumed once, and a token the test has timed out is gone. Tests assert on what it was handed.
 */
export class RecordingOrchestrator implements Orchestrator {
  readonly resumed: { taskToken: string; output: WorkflowState }[] = [];
  private readonly closed = new Set<string>();
  private readonly failures: Error[] = [];

  async start(): Promise<string> {
    throw new Error('the approval domain never starts executions');
  }

  async resume(taskToken: string, output: WorkflowState): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (this.closed.has(taskToken)) throw new Gone('task_expired', 'The approval task has expired or is already closed.');
    this.closed.add(taskToken);
    this.resumed.push({ taskToken, output: structuredClone(output) });
  }

  /** The wait's TimeoutSeconds elapsed in Step Functions (whatever the task item says). */
  timeOut(taskToken: string): void {
    this.closed.add(taskToken);
  }

  failNextResume(error: Error): void {
    this.failures.push(error);
  }
}

export function approvalDeps(stores: EmulatedStores, orchestrator = new RecordingOrchestrator()) {
  const deps: ApprovalDeps = {
    tasks: stores.tasks,
    states: stores.state,
    requests: stores.requests,
    audit: stores.audit,
    orchestrator,
    clock: stores.clock,
  };
  return { deps, orchestrator };
}

export const REQUESTER: Principal = { sub: 'requester-1', roles: ['support-agent'] };

export function principal(roles: string[], sub = `approver-${randomUUID().slice(0, 8)}`): Principal {
  return { sub, roles };
}

/** A role nobody else in the test file holds: listings then see only this test's tasks. */
export function uniqueRole(prefix = 'approver'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export const PO_PROPOSAL: Proposal = {
  action: 'purchase_order',
  fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations' },
};

export const TIER_UPGRADE_PROPOSAL: Proposal = {
  action: 'tier_upgrade',
  fields: {
    customerId: 'C-1001',
    currentTier: 'basic',
    targetTier: 'premium',
    effectiveDate: '2027-01-01',
    justification: 'they outgrew their plan',
  },
};

export const REFUND_PROPOSAL: Proposal = {
  action: 'refund',
  fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'item arrived damaged' },
};

export interface PendingStateOptions {
  /** A fresh `r_…` id by default; another producer's ids need not have the prefix. */
  requestId?: string;
  proposal?: Proposal;
  approverRoles?: string[];
  tier?: string;
  requestedBy?: Principal;
  approvalTimeoutSeconds?: number;
  decision?: Partial<Decision>;
  /** `$$.State.EnteredTime` of the wait; the test clock's now by default (no gap before the dehydrate step). */
  waitEnteredAt?: string;
}

/** A workflow state as Validate hands it to AwaitApproval: a proposal that policy says needs a human. */
export function aPendingApprovalState(options: PendingStateOptions = {}): WorkflowState {
  const proposal = options.proposal ?? PO_PROPOSAL;
  const approverRoles = options.approverRoles ?? ['procurement-manager'];
  return {
    requestId: options.requestId ?? newRequestId(),
    traceId: `trace-${randomUUID()}`,
    requestedBy: options.requestedBy ?? REQUESTER,
    submittedAt: new Date().toISOString(),
    text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations',
    approvalTimeoutSeconds: options.approvalTimeoutSeconds ?? 3600,
    triage: {
      route: 'generative',
      action: proposal.action,
      complexity: 0.3,
      modelTier: 'low',
      signals: [],
      reason: 'free text, one action, low complexity',
    },
    inference: {
      candidate: proposal,
      confidence: 0.97,
      model: { provider: 'rules', id: 'rules-v1', inputTokens: 0, outputTokens: 0, costUsd: 0 },
    },
    proposal,
    decision: {
      outcome: 'pending_approval',
      reasons: ['above_autonomous_limit'],
      policy: { id: 'purchase-order', version: '2026-11-01' },
      tier: options.tier ?? approverRoles[0],
      approverRoles,
      fingerprint: `fp-${randomUUID()}`,
      ...options.decision,
    },
  };
}

export interface OpenedTask {
  state: WorkflowState;
  taskId: string;
  taskToken: string;
  task: TaskItem;
}

/** What the workflow does before an approver arrives: the request exists, then AwaitApproval runs. */
export async function openTask(stores: EmulatedStores, options: PendingStateOptions = {}): Promise<OpenedTask> {
  const state = aPendingApprovalState(options);
  const now = stores.clock.now().toISOString();
  await stores.requests.create({
    requestId: state.requestId,
    status: 'RUNNING',
    requestedBy: state.requestedBy.sub,
    requesterRoles: state.requestedBy.roles,
    createdAt: now,
    updatedAt: now,
  });
  const taskToken = `sfn-task-token-${randomUUID()}`;
  const { deps } = approvalDeps(stores);
  const waitEnteredAt = options.waitEnteredAt ?? now;
  const { taskId } = await dehydrateForApproval({ taskToken, waitEnteredAt, state }, deps);
  const task = await stores.tasks.get(taskId);
  if (!task) throw new Error('dehydrate wrote no task');
  return { state, taskId, taskToken, task };
}

/** Runs `action`, expects a WardenError and returns it, so a test can check code, status and message. */
export async function failureOf(action: Promise<unknown>): Promise<WardenError> {
  try {
    await action;
  } catch (error) {
    return error as WardenError;
  }
  throw new Error('expected the call to fail');
}
