import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Powertools instances, built once per process. Service name and namespace come from the
 * environment the Lambda construct sets; logging of incoming events stays off
 * (POWERTOOLS_LOGGER_LOG_EVENT=false) because events carry JWTs and task tokens.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'warden' });
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'warden' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Warden',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'warden',
});

/** Keys every log line of one request carries, so an operator can follow it across Lambdas. */
export function correlate(keys: { requestId?: string; traceId?: string; taskId?: string; executionArn?: string }): void {
  logger.resetKeys();
  const defined = Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined));
  logger.appendKeys(defined);
}

/** What an unexpected error looks like in a log: its name and message, never the event. */
export function describeError(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'NonError', message: String(error) };
}
