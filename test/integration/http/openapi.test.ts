import { readFileSync } from 'node:fs';
import { OPENAPI_FILE } from '../../../scripts/openapi';
import { useTestServer, type HttpResult, type Json } from '../../support/http-client';
import { OpenApiSchemas } from '../../support/openapi';

/**
 * The OpenAPI document against the running local stack: `GET /openapi.json` serves the
 * checked-in document without a token, and real answers of every kind — each route's success
 * (MCP's too), a 400 listing its fields, 401, 403, 404, 405, 406, 409, 415 — conform to what it
 * documents for that route and status, body, media type and headers.
 */

const { client } = useTestServer();
const schemas = new OpenApiSchemas(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json);

const requester = { sub: 'oa-alice', roles: ['support-agent'] };
const approver = { sub: 'oa-pat', roles: ['procurement-manager'] };
const auditor = { sub: 'oa-audrey', roles: ['auditor'] };

/** Asserts the answer is what the document says `METHOD /path` answers with this status. */
function expectConforms(route: string, response: HttpResult, status: number): void {
  const [method, path] = route.split(' ');
  expect({ route, status: response.status }).toEqual({ route, status });
  const violations = schemas.violations(method, path, { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, body: response.body });
  expect({ route, status, violations }).toEqual({ route, status, violations: [] });
}

it('GET /openapi.json serves the checked-in document, without a token', async () => {
  const response = await client.call('/openapi.json');
  expectConforms('GET /openapi.json', response, 200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.body).toEqual(schemas.document);
});

it('GET /health conforms', async () => {
  expectConforms('GET /health', await client.call('/health'), 200);
});

it('a request from submission to audit, and its approval task, conform at every step', async () => {
  const body = {
    text: 'Workstations for the OpenAPI suite',
    action: 'purchase_order',
    fields: { vendor: 'Alpha Tech Systems', amount: 7850, description: 'OpenAPI suite workstations' },
  };
  const submitted = await client.submit(requester, body, { 'idempotency-key': 'openapi-suite-po-1' });
  expectConforms('POST /v1/requests', submitted, 202);
  const requestId = String(submitted.body.requestId);
  const replay = await client.submit(requester, body, { 'idempotency-key': 'openapi-suite-po-1' });
  expectConforms('POST /v1/requests', replay, 200);

  // Waiting for approval: `next` names who decides and by when.
  const task = await client.waitForTask(approver, requestId);
  const pending = await client.waitForStatus(requester, requestId, 'PENDING_APPROVAL');
  expect((pending.next as Json).state).toBe('waiting_for_approval');
  expectConforms('GET /v1/requests/{requestId}', await client.getRequest(requester, requestId), 200);

  const listed = await client.listTasks(approver, 'limit=100');
  expectConforms('GET /v1/tasks', listed, 200);
  expect((listed.body.tasks as Json[]).length).toBeGreaterThan(0);
  expectConforms('GET /v1/tasks/{taskId}', await client.getTask(approver, task.taskId), 200);

  const decided = await client.decide(approver, task.taskId, { decision: 'approve', approvalToken: task.approvalToken, comment: 'fine' });
  expectConforms('POST /v1/tasks/{taskId}/decision', decided, 200);
  expectConforms('POST /v1/tasks/{taskId}/decision', await client.decide(approver, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }), 409);

  const done = await client.waitForStatus(requester, requestId, 'COMPLETED');
  expect(done.status).toBe('COMPLETED');
  const view = await client.getRequest(requester, requestId);
  expectConforms('GET /v1/requests/{requestId}', view, 200);
  expect(view.body).toHaveProperty('result');
  expect(view.body).toHaveProperty('next');

  const audit = await client.getFinalAudit(auditor, requestId);
  expectConforms('GET /v1/requests/{requestId}/audit', audit, 200);
  expect((audit.body.entries as Json[]).length).toBeGreaterThan(3);

  const mine = await client.as(requester, '/v1/requests?limit=10');
  expectConforms('GET /v1/requests', mine, 200);
  expect((mine.body.requests as Json[]).map((r) => r.requestId)).toContain(requestId);
  expectConforms('GET /v1/requests', await client.as(auditor, '/v1/requests?status=COMPLETED&limit=1'), 200);
});

it('a request that policy rejects, and one that free text leaves short, conform with their next', async () => {
  const rejected = await client.submitOk(requester, {
    text: 'Move C-1001 down a tier',
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier: 'standard', targetTier: 'basic', effectiveDate: '2099-01-01', justification: 'checking the documented view' },
  });
  expect((await client.waitForStatus(requester, rejected, 'REJECTED')).status).toBe('REJECTED');
  expectConforms('GET /v1/requests/{requestId}', await client.getRequest(requester, rejected), 200);

  const short = await client.submitOk(requester, { text: 'Create a PO for Initech for printer toner' });
  const view = await client.waitForStatus(requester, short, 'REJECTED');
  expect((view.next as Json).missingFields).toEqual(expect.arrayContaining(['amount']));
  expectConforms('GET /v1/requests/{requestId}', await client.getRequest(requester, short), 200);
});

describe('MCP over HTTP conforms', () => {
  const MCP_HEADERS = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'openapi-suite', version: '1' } } };

  it('POST /mcp: a JSON-RPC answer, an accepted notification, the transport’s refusal, and 401 naming the metadata', async () => {
    const answered = await client.as(requester, '/mcp', { method: 'POST', body: initialize, headers: MCP_HEADERS });
    expectConforms('POST /mcp', answered, 200);
    expect(answered.body).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: expect.any(Object) } });
    expectConforms('POST /mcp', await client.as(requester, '/mcp', { method: 'POST', body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers: MCP_HEADERS }), 202);
    expectConforms('POST /mcp', await client.as(requester, '/mcp', { method: 'POST', body: initialize, headers: { accept: 'application/json' } }), 406);
    const unauthorized = await client.call('/mcp', { method: 'POST', body: initialize, headers: MCP_HEADERS });
    expectConforms('POST /mcp', unauthorized, 401);
    expect(unauthorized.headers.get('www-authenticate')).toContain('/.well-known/oauth-protected-resource');
  });

  it('GET /mcp is 405 with Allow, and the protected-resource metadata names the endpoint and the issuer', async () => {
    expectConforms('GET /mcp', await client.as(requester, '/mcp'), 405);
    expectConforms('GET /mcp', await client.call('/mcp'), 401);
    const metadata = await client.call('/.well-known/oauth-protected-resource');
    expectConforms('GET /.well-known/oauth-protected-resource', metadata, 200);
    expect(String(metadata.body.resource)).toMatch(/\/mcp$/);
  });
});

describe('errors conform: problem+json with the documented schema', () => {
  it('400 validation_failed lists every offending field in errors', async () => {
    const response = await client.submit(requester, { text: 'x', action: 'purchase_order', fields: { vendor: '', amount: -5 } });
    expectConforms('POST /v1/requests', response, 400);
    expect(response.body.code).toBe('validation_failed');
    expect((response.body.errors as Json[]).map((e) => e.path).sort()).toEqual(['fields.amount', 'fields.description', 'fields.vendor']);
    expectConforms('GET /v1/requests', await client.as(requester, '/v1/requests?limit=0'), 400);
    expectConforms('GET /v1/tasks', await client.as(approver, '/v1/tasks?status=SOMETIMES'), 400);
  });

  it('401 without a token, with its WWW-Authenticate header', async () => {
    for (const route of ['GET /v1/requests', 'GET /v1/tasks', 'GET /v1/requests/{requestId}']) {
      const response = await client.call(route.split(' ')[1].replace('{requestId}', 'r_unknown'));
      expectConforms(route, response, 401);
    }
  });

  it('403, 404 and 415', async () => {
    const clerk = { sub: 'oa-clerk', roles: ['procurement-manager'] };
    const refund = { text: 'Refund $10 on order O-5001', action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 10, reason: 'damaged' } };
    const forbidden = await client.submit(clerk, refund);
    expectConforms('POST /v1/requests', forbidden, 403);
    expect(forbidden.body.code).toBe('action_not_permitted');
    expectConforms('GET /v1/requests/{requestId}', await client.getRequest(requester, 'r_nobody'), 404);
    expectConforms('GET /v1/requests/{requestId}/audit', await client.getAudit(requester, 'r_nobody'), 404);
    expectConforms('GET /v1/tasks/{taskId}', await client.getTask(approver, 't_nobody'), 404);
    expectConforms('POST /v1/requests', await client.as(requester, '/v1/requests', { method: 'POST', body: 'text=x', headers: { 'content-type': 'text/plain' } }), 415);
  });
});
