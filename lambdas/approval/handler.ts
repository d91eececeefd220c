import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { decideTask, getTaskFor, listTasksFor, type DeliveredDecision } from '../shared/approval';
import { NotFound } from '../shared/errors';
import { json, problemFromError } from '../shared/http/problem';
import { callerOf, parseJsonBody, parseQuery, type HttpEvent } from '../shared/http/request';
import { appendCorrelation, describeError, logger, recordMetric, withObservability } from '../shared/observability';
import { auditLog, clock, orchestrator, requestStore, stateStore, taskIndex } from '../shared/runtime';
import { DecisionBody, ListTasksQuery } from '../shared/schemas/api';

/** Approver HTTP: list the tasks the caller may decide, read one, decide it (API.md "Approval tasks"). */
export async function handler(event: HttpEvent, context?: Partial<Context>): Promise<APIGatewayProxyStructuredResultV2> {
  return withObservability({}, context, () => route(event));
}

async function route(event: HttpEvent): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const caller = callerOf(event);
    const deps = {
      tasks: taskIndex(),
      states: stateStore(),
      requests: requestStore(),
      audit: auditLog(),
      orchestrator: orchestrator(),
      clock: clock(),
      onDecisionDelivered: recordDecision,
    };
    switch (event.routeKey) {
      case 'GET /v1/tasks':
        return json(200, await listTasksFor(caller, parseQuery(event, ListTasksQuery), deps));
      case 'GET /v1/tasks/{taskId}': {
        const taskId = event.pathParameters?.taskId ?? '';
        appendCorrelation({ taskId });
        return json(200, await getTaskFor(caller, taskId, deps));
      }
      case 'POST /v1/tasks/{taskId}/decision': {
        const taskId = event.pathParameters?.taskId ?? '';
        appendCorrelation({ taskId });
        const body = parseJsonBody(event, DecisionBody);
        const decided = await decideTask(caller, taskId, body, deps);
        logger.info('task decided', { status: decided.status });
        return json(200, decided);
      }
      default:
        throw new NotFound('No such route.');
    }
  } catch (error) {
    return problemFromError(error, (e) => logger.error('approval request failed unexpectedly', { route: event.routeKey, error: describeError(e) }));
  }
}

function recordDecision(delivered: DeliveredDecision): void {
  appendCorrelation({ requestId: delivered.requestId });
  logger.info('approval delivered to the workflow', { decision: delivered.decision, tier: delivered.tier, waitedMs: delivered.waitedMs });
  recordMetric('ApprovalsDecided', 1, { decision: delivered.decision });
  recordMetric('ApprovalLatency', delivered.waitedMs);
}
