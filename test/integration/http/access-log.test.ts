import type { AccessLogEntry } from '../../../local/http';
import { poll, useTestServer, type HttpResult } from '../../support/http-client';

/**
 * The local access log (one line per HTTP request): `httpRequestId` is the HTTP request's own
 * id, and `requestId` is the Warden request (`r_…`) every other log line names, once known.
 */

const requester = { sub: 'al-alice', roles: ['support-agent'] };
const procurement = { sub: 'al-pat', roles: ['procurement-manager'] };

const entries: AccessLogEntry[] = [];
const { client } = useTestServer({ accessLog: (entry) => entries.push(entry) });

/** The entry of a call, found by its x-request-id (written when the response closes, so polled). */
async function entryOf(response: HttpResult): Promise<AccessLogEntry> {
  const httpRequestId = response.headers.get('x-request-id');
  expect(httpRequestId).toMatch(/^[0-9a-f-]{36}$/);
  const entry = await poll(
    async () => entries.find((e) => e.httpRequestId === httpRequestId),
    (found) => found !== undefined,
  );
  if (!entry) throw new Error(`no access-log entry for ${httpRequestId}`);
  return entry;
}

it('POST /v1/requests: the Warden requestId from the 202, next to the HTTP request id', async () => {
  const body = { text: 'Access log chairs', action: 'purchase_order', fields: { vendor: 'Globex Corporation', amount: 1301, description: 'chairs' } };
  const submitted = await client.submit(requester, body, { 'idempotency-key': 'access-log-1' });
  expect(submitted.status).toBe(202);
  const requestId = String(submitted.body.requestId);
  expect(await entryOf(submitted)).toEqual({
    httpRequestId: submitted.headers.get('x-request-id'),
    requestId,
    method: 'POST',
    path: '/v1/requests',
    routeKey: 'POST /v1/requests',
    status: 202,
    ms: expect.any(Number),
  });

  // The idempotent replay answers 200 with the same request.
  const replayed = await client.submit(requester, body, { 'idempotency-key': 'access-log-1' });
  expect(replayed.status).toBe(200);
  expect(await entryOf(replayed)).toMatchObject({ requestId, status: 200 });
  await client.waitForStatus(requester, requestId, 'COMPLETED');
});

it('/v1/requests/{requestId} and its audit: the id in the path, found or not', async () => {
  const requestId = await client.submitOk(requester, {
    text: 'Access log desks',
    action: 'purchase_order',
    fields: { vendor: 'Globex Corporation', amount: 1302, description: 'desks' },
  });
  const read = await client.getRequest(requester, requestId);
  expect(await entryOf(read)).toMatchObject({ requestId, routeKey: 'GET /v1/requests/{requestId}', status: 200 });
  const audit = await client.as({ sub: 'al-audrey', roles: ['auditor'] }, `/v1/requests/${requestId}/audit`);
  expect(await entryOf(audit)).toMatchObject({ requestId, routeKey: 'GET /v1/requests/{requestId}/audit', status: 200 });

  const missing = await client.getRequest(requester, 'r_doesnotexist');
  expect(await entryOf(missing)).toMatchObject({ requestId: 'r_doesnotexist', status: 404 });
  // Not a Warden request id at all: nothing to name.
  const bogus = await client.getRequest(requester, 'not-a-request');
  expect((await entryOf(bogus)).requestId).toBeUndefined();
});

it('task routes: the request of the task read or decided; a listing names none', async () => {
  const requestId = await client.submitOk(requester, {
    text: 'Access log workstations',
    action: 'purchase_order',
    fields: { vendor: 'Alpha Tech Systems', amount: 7303, description: 'workstations' },
  });
  const task = await client.waitForTask(procurement, requestId);

  const listed = await client.listTasks(procurement);
  expect((await entryOf(listed)).requestId).toBeUndefined();
  const read = await client.getTask(procurement, task.taskId);
  expect(await entryOf(read)).toMatchObject({ requestId, routeKey: 'GET /v1/tasks/{taskId}', status: 200 });
  const decided = await client.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken });
  expect(decided.status).toBe(200);
  expect(await entryOf(decided)).toMatchObject({ requestId, routeKey: 'POST /v1/tasks/{taskId}/decision', status: 200 });
});

it('routes without a Warden request name none, and no entry carries a token', async () => {
  const health = await client.call('/health');
  expect(await entryOf(health)).toEqual({
    httpRequestId: health.headers.get('x-request-id'),
    method: 'GET',
    path: '/health',
    routeKey: 'GET /health',
    status: 200,
    ms: expect.any(Number),
  });
  expect(JSON.stringify(entries)).not.toMatch(/authorization|bearer|eyJ|approvalToken/i);
});
