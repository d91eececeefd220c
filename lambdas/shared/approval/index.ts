export type { ApprovalDeps, DeliveredDecision } from './deps';
export { mayDecide, type DecideRefusal, type MayDecide } from './authority';
export { approvalDeadline, deadlineMarginMs } from './deadline';
export { dehydrateForApproval, summaryOf, type DehydrateDeps } from './dehydrate';
export {
  getTaskFor,
  listTasksFor,
  PublicTask,
  PublicTaskDetail,
  toPublicTask,
  toPublicTaskDetail,
  type ViewDeps,
} from './view';
export { decideTask, type DecisionResult } from './decide';
