import type { AuditLog, Clock, Orchestrator, RequestStore, StateStore, TaskIndex } from '../ports';

/** The ports the approval domain needs; each function takes only the ones it uses. */
export interface ApprovalDeps {
  tasks: TaskIndex;
  states: StateStore;
  requests: RequestStore;
  audit: AuditLog;
  orchestrator: Orchestrator;
  clock: Clock;
}
