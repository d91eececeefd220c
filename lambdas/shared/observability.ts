import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context } from 'aws-lambda';
import { METRIC_NAMESPACE, METRIC_SERVICE, METRICS, type MetricDimensions, type MetricName } from './metrics-catalog';
import type { ModelProvider } from './ports';
import type { ModelTier } from './schemas/workflow';
import { STATE_MACHINE_ARN_ENV } from './tables';

/**
 * Powertools instances, built once per process. The logger's and tracer's service name comes
 * from the environment the Lambda construct sets (`warden-<function>`); logging of incoming
 * events stays off (POWERTOOLS_LOGGER_LOG_EVENT=false) because events carry JWTs and task tokens.
 * Metrics use one namespace and one `service` value for every function (metrics-catalog.ts), so
 * the dashboard and alarms can name them exactly.
 */
const rootLogger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'warden' });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: METRIC_SERVICE });

/**
 * Whether Powertools Tracer would trace here, by its own rule (Tracer#setTracingEnabled): not
 * turned off by POWERTOOLS_TRACE_ENABLED, inside a Lambda execution environment, neither SAM
 * local nor the Amplify mock.
 */
export function tracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return (
    (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false' &&
    executionEnv !== '' &&
    executionEnv !== 'AWS_Lambda_amplify-mock' &&
    (env.AWS_SAM_LOCAL ?? '') === ''
  );
}

let builtTracer: Tracer | undefined;

/**
 * Powertools Tracer where it traces, built on first use; undefined where tracing is off. Its
 * X-Ray SDK installs async hooks when it loads, which every promise then pays for: a process
 * that does not trace (npm start, the tests) never loads it. A Lambda bundle does not even hold
 * it: the package ships beside the bundle (TRACER_PACKAGE in lib/constructs/functions.ts), where
 * this `require` finds it, so a cold start does not parse it.
 */
export function tracer(): Tracer | undefined {
  if (!tracingEnabled()) return undefined;
  if (!builtTracer) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Tracer: PowertoolsTracer } = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
    builtTracer = new PowertoolsTracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'warden' });
  }
  return builtTracer;
}

/** An AWS SDK v3 client, captured by X-Ray where tracing is on (each call a subsegment), as it is elsewhere. */
export function captureClient<T>(client: T): T {
  return tracer()?.captureAWSv3Client(client) ?? client;
}

export interface CorrelationKeys {
  requestId?: string;
  traceId?: string;
  taskId?: string;
  executionArn?: string;
}

interface RecordedMetric {
  name: MetricName;
  value: number;
  dimensions: Record<string, string>;
}

/** One invocation's logger (with its correlation keys) and the metrics it recorded. */
interface InvocationScope {
  logger: Logger;
  metrics: RecordedMetric[];
  /** Set when the invocation has returned: its logger may serve another one by then. */
  ended?: boolean;
}

/**
 * Each invocation runs in its own scope. In Lambda one invocation runs at a time per process;
 * locally every handler shares one process and runs concurrently, and keys or metrics set by
 * one invocation must not end up on another's lines.
 */
const scopes = new AsyncLocalStorage<InvocationScope>();
const outsideInvocations: InvocationScope = { logger: rootLogger, metrics: [] };
/** Work an ended invocation left running logs as if outside any: never with another invocation's keys. */
const currentScope = (): InvocationScope => {
  const scope = scopes.getStore();
  return scope && !scope.ended ? scope : outsideInvocations;
};

/**
 * The current invocation's logger: every line carries its correlation keys. The level is the
 * process's (POWERTOOLS_LOG_LEVEL, or `setLogLevel`): each invocation's logger starts from it.
 */
export const logger = {
  debug: (message: string, attributes: LogAttributes = {}) => currentScope().logger.debug(message, attributes),
  info: (message: string, attributes: LogAttributes = {}) => currentScope().logger.info(message, attributes),
  warn: (message: string, attributes: LogAttributes = {}) => currentScope().logger.warn(message, attributes),
  error: (message: string, attributes: LogAttributes = {}) => currentScope().logger.error(message, attributes),
  setLogLevel: (level: LogLevel) => {
    rootLogger.setLogLevel(level);
    if (currentScope().logger !== rootLogger) currentScope().logger.setLogLevel(level);
  },
};

/**
 * The ARN of the execution that runs a request: executions are named after their request id.
 * Undefined when the function does not know its state machine (STATE_MACHINE_ARN).
 */
export function executionArnFor(requestId: string, stateMachineArn = process.env[STATE_MACHINE_ARN_ENV]): string | undefined {
  if (!stateMachineArn || !stateMachineArn.includes(':stateMachine:')) return undefined;
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${requestId}`;
}

/**
 * Runs one invocation of a handler: its log lines carry the Lambda context (function request
 * id, cold start) and the keys that let an operator follow one request across functions — the
 * execution ARN derived from the request id when not given — and the metrics it recorded are
 * published (EMF) when it ends, whether it returned or threw.
 */
export async function withObservability<T>(keys: CorrelationKeys, context: Partial<Context> | undefined, work: () => Promise<T>): Promise<T> {
  const withContext = context?.awsRequestId !== undefined;
  const scope: InvocationScope = { logger: invocationLogger(withContext ? (context as Context) : undefined), metrics: [] };
  return scopes.run(scope, async () => {
    appendCorrelation(keys);
    try {
      return await work();
    } finally {
      publishMetrics();
      scope.ended = true;
      release(scope.logger, withContext);
    }
  });
}

/**
 * Child loggers of ended invocations, kept for the next ones: building one reads the environment
 * and merges every option again (about a tenth of a millisecond, several times per request:
 * npm run bench's profile). In Lambda one serves every invocation, so its `cold_start` is true on
 * the first only; locally there is one per invocation running at once. Those that carried a
 * Lambda context are kept apart from those that never did, so no line shows another's.
 */
const idleLoggers = { withContext: [] as Logger[], without: [] as Logger[] };
const IDLE_LOGGERS_KEPT = 32;

function invocationLogger(context: Context | undefined): Logger {
  const idle = context ? idleLoggers.withContext : idleLoggers.without;
  const reused = idle.pop();
  const logger = reused ?? rootLogger.createChild();
  if (reused) {
    // As a new child starts: none of the last invocation's keys, the process's level.
    logger.resetKeys();
    logger.setLogLevel(rootLogger.getLevelName());
  }
  if (context) logger.addContext(context);
  return logger;
}

function release(logger: Logger, withContext: boolean): void {
  const idle = withContext ? idleLoggers.withContext : idleLoggers.without;
  if (idle.length < IDLE_LOGGERS_KEPT) idle.push(logger);
}

/**
 * Adds keys learned mid-invocation (e.g. the request id behind a task), keeping the others.
 * Outside an invocation, or once it has ended, there is nothing to add them to: the root logger
 * would pass them on to every invocation's logger after.
 */
export function appendCorrelation(keys: CorrelationKeys): void {
  const scope = currentScope();
  if (scope === outsideInvocations) return;
  const executionArn = keys.executionArn ?? (keys.requestId ? executionArnFor(keys.requestId) : undefined);
  const defined = Object.fromEntries(Object.entries({ ...keys, executionArn }).filter(([, v]) => v !== undefined));
  scope.logger.appendKeys(defined);
}

/**
 * At DEBUG, which parts of the workflow state a step received (their names, never their values:
 * the text, fields and results carry PII placeholders and business data).
 */
export function logStepInput(state: object): void {
  logger.debug('step input', { parts: Object.entries(state).filter(([, value]) => value !== undefined).map(([key]) => key) });
}

/** What an unexpected error looks like in a log: its name and message, never the event. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'NonError', message: String(error) };
}

/**
 * Records one data point of a catalogued metric, with exactly the dimensions the catalogue gives
 * it. Nothing is written until `publishMetrics()` (`withObservability` calls it as the invocation ends).
 */
export function recordMetric<N extends MetricName>(name: N, value: number, ...dimensions: keyof MetricDimensions<N> extends never ? [] : [MetricDimensions<N>]): void {
  if (!Number.isFinite(value)) return;
  const given = (dimensions[0] ?? {}) as Record<string, string>;
  const keys = METRICS[name].dimensions as readonly string[];
  currentScope().metrics.push({ name, value, dimensions: Object.fromEntries(keys.map((key) => [key, given[key]])) });
}

/**
 * Writes the invocation's metrics as EMF to stdout: one document per distinct dimension set
 * (EMF puts one dimension set on every metric of a document), then clears them.
 */
export function publishMetrics(): void {
  const groups = new Map<string, RecordedMetric[]>();
  for (const metric of currentScope().metrics.splice(0)) {
    // A plain comparison, not localeCompare: its first call loads ICU's collator (about 7 ms of a cold invocation).
    const key = JSON.stringify(Object.entries(metric.dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    groups.set(key, [...(groups.get(key) ?? []), metric]);
  }
  for (const group of groups.values()) {
    const [first] = group;
    if (Object.keys(first.dimensions).length > 0) metrics.addDimensions(first.dimensions);
    for (const metric of group) metrics.addMetric(metric.name, METRICS[metric.name].unit, metric.value);
    metrics.publishStoredMetrics();
  }
}

/** The metrics recorded and not yet published (for tests). */
export function pendingMetrics(): readonly RecordedMetric[] {
  return [...currentScope().metrics];
}

/** The parts of Powertools' Tracer that the model-call subsegment needs. */
export interface SubsegmentTracer {
  isTracingEnabled(): boolean;
  getSegment(): TraceSegment | undefined;
  setSegment(segment: TraceSegment): void;
}

export interface TraceSegment {
  addNewSubsegment(name: string): TraceSegment;
  addAnnotation(key: string, value: string | number | boolean): void;
  addError(error: Error): void;
  close(): void;
}

/**
 * A provider whose model calls each run in an X-Ray subsegment `## inference`, annotated with the
 * tier, the provider, the model id and the token counts (annotations are searchable). With
 * tracing off (locally, in tests) the provider is returned as it is.
 */
export function traceModelCalls(provider: ModelProvider, traced: SubsegmentTracer | undefined = tracer() as SubsegmentTracer | undefined): ModelProvider {
  if (!traced?.isTracingEnabled()) return provider;
  return {
    name: provider.name,
    async propose(input: { text: string; action?: Parameters<ModelProvider['propose']>[0]['action']; tier: ModelTier }) {
      const parent = traced.getSegment();
      if (!parent) return provider.propose(input);
      const subsegment = parent.addNewSubsegment('## inference');
      traced.setSegment(subsegment);
      subsegment.addAnnotation('model_tier', input.tier);
      subsegment.addAnnotation('model_provider', provider.name);
      try {
        const result = await provider.propose(input);
        subsegment.addAnnotation('model_id', result.model.id);
        subsegment.addAnnotation('input_tokens', result.model.inputTokens);
        subsegment.addAnnotation('output_tokens', result.model.outputTokens);
        return result;
      } catch (error) {
        if (error instanceof Error) subsegment.addError(error);
        throw error;
      } finally {
        subsegment.close();
        traced.setSegment(parent);
      }
    },
  };
}
