import type { AuditLog, Clock, Orchestrator, RequestStore, StateStore, TaskIndex } from '../ports';

/** What an operator wants to know about a decision that reached the workflow (no tokens, no PII). */
export interface DeliveredDecision {
  taskId: string;
  requestId: string;
  decision: 'approved' | 'rejected';
  /** From the task being opened to the decision, in milliseconds. */
  waitedMs: number;
  tier: string;
}

/** The ports the approval domain needs; each function takes only the ones it uses. */
export interface ApprovalDeps {
  tasks: TaskIndex;
  states: StateStore;
  requests: RequestStore;
  audit: AuditLog;
  orchestrator: Orchestrator;
  clock: Clock;
  /** Told once per decision that reached the workflow (metrics); never for a refused or undone one. */
  onDecisionDelivered?: (decision: DeliveredDecision) => void;
}
