/**
 * The custom metrics Warden emits, as plain data: the handlers record them by these names (EMF,
 * through Powertools) and the CDK dashboard and alarms read the same names, so the two cannot
 * drift. Every dimension is low-cardinality — a route, an outcome, a reason code, a tier, a
 * status, a failure code — never a request id, a task id or a principal.
 */

export const METRIC_NAMESPACE = 'Warden';

/**
 * The `service` dimension Powertools puts on every metric. One value for all functions: each
 * metric is emitted by one function anyway, and the dashboard must know the dimension's value.
 */
export const METRIC_SERVICE = 'warden';

export type MetricUnitName = 'Count' | 'Milliseconds' | 'None';

export interface MetricDefinition {
  readonly unit: MetricUnitName;
  /** The dimensions (besides `service`) it is always recorded with, in this order. */
  readonly dimensions: readonly string[];
  /** Which function records it, and when (for operators and the README). */
  readonly recordedBy: string;
}

export const METRICS = {
  RequestsSubmitted: { unit: 'Count', dimensions: [], recordedBy: 'gateway and mcp: a new request was accepted (202; replays are not counted)' },
  Route: { unit: 'Count', dimensions: ['route'], recordedBy: 'triage: the route chosen (deterministic | generative | human)' },
  Outcome: { unit: 'Count', dimensions: ['outcome'], recordedBy: 'validation: the decision (approved | rejected | pending_approval)' },
  Rejections: { unit: 'Count', dimensions: ['reason'], recordedBy: 'validation: one per reason code of a rejected decision' },
  Escalations: { unit: 'Count', dimensions: ['reason'], recordedBy: 'validation: one per reason code of a pending_approval decision' },
  ValidationLatency: { unit: 'Milliseconds', dimensions: [], recordedBy: 'validation: time spent validating one proposal (also when it throws)' },
  ModelInputTokens: { unit: 'Count', dimensions: ['tier'], recordedBy: 'inference: input tokens of a model call, by complexity tier' },
  ModelOutputTokens: { unit: 'Count', dimensions: ['tier'], recordedBy: 'inference: output tokens of a model call, by complexity tier' },
  ModelCostUsd: { unit: 'None', dimensions: ['tier'], recordedBy: 'inference: modelled cost of a model call in USD, by complexity tier' },
  ApprovalsRequested: { unit: 'Count', dimensions: [], recordedBy: 'dehydrate: an approval task was opened' },
  ApprovalsDecided: { unit: 'Count', dimensions: ['decision'], recordedBy: 'approval: a decision reached the workflow (approved | rejected)' },
  ApprovalLatency: { unit: 'Milliseconds', dimensions: [], recordedBy: 'approval: from the task being opened to its delivered decision' },
  ApprovalsExpired: { unit: 'Count', dimensions: [], recordedBy: 'finalize: the approval wait timed out (request EXPIRED)' },
  RequestsFinalized: { unit: 'Count', dimensions: ['status'], recordedBy: 'finalize: the terminal status (COMPLETED | REJECTED | EXPIRED | FAILED)' },
  ExecutionFailures: { unit: 'Count', dimensions: ['code'], recordedBy: 'finalize (MarkFailed): a step failed after its retries, by failure code' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricName = keyof typeof METRICS;

/** The dimensions a metric takes, by name: `Route` needs `{ route }`, `RequestsSubmitted` nothing. */
export type MetricDimensions<N extends MetricName> = {
  [K in (typeof METRICS)[N]['dimensions'][number]]: string;
};

/** The values of the bounded dimensions the dashboard and alarms plot one line each for. */
export const DIMENSION_VALUES = {
  outcome: ['approved', 'rejected', 'pending_approval'],
  decision: ['approved', 'rejected'],
  status: ['COMPLETED', 'REJECTED', 'EXPIRED', 'FAILED'],
  tier: ['low', 'high'],
} as const;
