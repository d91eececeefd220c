import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { NotFound } from '../shared/errors';
import { problemFromError, json } from '../shared/http/problem';
import { callerOf, header, parseJsonBody, parseQuery, traceIdOf, type HttpEvent } from '../shared/http/request';
import { appendCorrelation, describeError, logger, recordMetric, withObservability } from '../shared/observability';
import { openApiDocument } from '../shared/http/openapi';
import { IdempotencyKey, ListRequestsQuery, SubmitRequestBody, type Health } from '../shared/schemas/api';
import { submitRequest } from '../shared/requests/submit';
import { getAuditFor, getRequestFor, listRequestsFor } from '../shared/requests/view';
import { auditLog, requestStore, submitDeps } from '../shared/runtime';
import { InvalidInput } from '../shared/errors';

const HEALTHY: Health = { status: 'ok' };

/** Inbound HTTP: submit a request, list requests, read one's status and its audit trail (API.md "Requests"). */
export async function handler(event: HttpEvent, context?: Partial<Context>): Promise<APIGatewayProxyStructuredResultV2> {
  return withObservability({}, context, () => route(event));
}

async function route(event: HttpEvent): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    switch (event.routeKey) {
      case 'GET /health':
        return json(200, HEALTHY);
      case 'GET /openapi.json':
        return json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' });
      case 'POST /v1/requests':
        return await submit(event);
      case 'GET /v1/requests':
        return json(200, await listRequestsFor(callerOf(event), parseQuery(event, ListRequestsQuery), { requests: requestStore() }));
      case 'GET /v1/requests/{requestId}': {
        const caller = callerOf(event);
        const requestId = event.pathParameters?.requestId ?? '';
        appendCorrelation({ requestId });
        return json(200, await getRequestFor(caller, requestId, { requests: requestStore() }));
      }
      case 'GET /v1/requests/{requestId}/audit': {
        const caller = callerOf(event);
        const requestId = event.pathParameters?.requestId ?? '';
        appendCorrelation({ requestId });
        return json(200, await getAuditFor(caller, requestId, { requests: requestStore(), audit: auditLog() }));
      }
      default:
        throw new NotFound('No such route.');
    }
  } catch (error) {
    return problemFromError(error, (e) => logger.error('request failed unexpectedly', { route: event.routeKey, error: describeError(e) }));
  }
}

async function submit(event: HttpEvent): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = callerOf(event);
  const body = parseJsonBody(event, SubmitRequestBody);
  const rawKey = header(event, 'idempotency-key');
  let idempotencyKey: string | undefined;
  if (rawKey !== undefined) {
    const parsed = IdempotencyKey.safeParse(rawKey);
    if (!parsed.success) throw new InvalidInput('validation_failed', 'Idempotency-Key: must be 1..64 of [A-Za-z0-9_-]');
    idempotencyKey = parsed.data;
  }
  const traceId = traceIdOf(event);
  appendCorrelation({ traceId });
  const submitted = await submitRequest(caller, body, { idempotencyKey, traceId }, submitDeps());
  appendCorrelation({ requestId: submitted.body.requestId });
  logger.info('request submitted', { action: body.action ?? null, replay: submitted.statusCode === 200 });
  if (submitted.statusCode === 202) recordMetric('RequestsSubmitted', 1);
  return json(submitted.statusCode, submitted.body, { location: submitted.body.links.self });
}
