import { API_ROUTES } from '../../../local/http';
import { expectProblem, startTestServer, type Json, type TestServer, type WardenClient } from '../../support/http-client';

/**
 * Errors as a client meets them (API.md "Errors"): every one is application/problem+json with
 * type, title, status, detail and a stable code, and none echoes the caller's token. The
 * checks that need a live object (a decision body on a real task) use one pending task.
 */

const requester = { sub: 'er-alice', roles: ['support-agent'] };
const procurement = { sub: 'er-pat', roles: ['procurement-manager'] };

let t: TestServer;
let client: WardenClient;
let requesterToken: string;
let pending: { requestId: string; taskId: string; approvalToken: string };

beforeAll(async () => {
  t = await startTestServer();
  client = t.client;
  requesterToken = await client.tokenFor(requester);
  const requestId = await client.submitOk(requester, {
    text: 'Laptops for the errors suite',
    action: 'purchase_order',
    fields: { vendor: 'Initech', amount: 8200, description: 'laptops for the errors suite' },
  });
  const task = await client.waitForTask(procurement, requestId);
  pending = { requestId, taskId: task.taskId, approvalToken: task.approvalToken };
});

afterAll(async () => {
  await t?.stop();
});

const json = (body: unknown) => JSON.stringify(body);
const post = async (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, token?: string) =>
  client.call(path, { method: 'POST', token: token ?? requesterToken, headers, body });
const decisionPath = () => `/v1/tasks/${pending.taskId}/decision`;
const approverToken = () => client.tokenFor(procurement);

describe('401 on every protected route', () => {
  const protectedRoutes = API_ROUTES.filter((r) => r.auth === 'jwt');

  it('covers all the routes API.md protects', () => {
    expect(protectedRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
      [
        'GET /v1/requests',
        'GET /v1/requests/{requestId}',
        'GET /v1/requests/{requestId}/audit',
        'GET /v1/tasks',
        'GET /v1/tasks/{taskId}',
        'POST /v1/requests',
        'POST /v1/tasks/{taskId}/decision',
      ].sort(),
    );
  });

  const pathOf = (template: string) => template.replace('{requestId}', pending.requestId).replace('{taskId}', pending.taskId);
  const bodyOf = (method: string, template: string) =>
    method !== 'POST'
      ? undefined
      : template.endsWith('/decision')
        ? json({ decision: 'approve', approvalToken: pending.approvalToken })
        : json({ text: 'Create a PO for Initech for $100 of pens' });

  /** A real token with its payload changed to claim the auditor role: the signature no longer matches. */
  async function tamperedToken(): Promise<string> {
    const [header, payload, signature] = (await client.tokenFor({ sub: 'er-eve', roles: ['support-agent'] })).split('.');
    const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString('utf8')) as Json;
    const forged = Buffer.from(JSON.stringify({ ...claims, roles: ['auditor', 'finance-director'] })).toString('base64url');
    return `${header}.${forged}.${signature}`;
  }

  const tokens: [string, () => Promise<string | undefined>][] = [
    ['no token', async () => undefined],
    ['a garbage token', async () => 'not-a-jwt-at-all-qz7'],
    ['a forged token', tamperedToken],
  ];

  describe.each(tokens)('with %s', (_name, tokenFor) => {
    it.each(protectedRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))('%s is 401 unauthorized', async (_key, route) => {
      const token = await tokenFor();
      const body = bodyOf(route.method, route.path);
      const response = await client.call(pathOf(route.path), {
        method: route.method,
        token,
        ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}),
      });
      expectProblem(response, 401, 'unauthorized');
      if (token) expect(response.text).not.toContain(token.split('.')[1] ?? token);
    });
  });

  it('a refused token changed nothing: the task is still pending and decidable', async () => {
    expect(await client.listedTask(procurement, pending.requestId)).toMatchObject({ taskId: pending.taskId, approvalToken: pending.approvalToken });
  });
});

describe('400 malformed JSON and schema violations', () => {
  it.each([
    ['POST /v1/requests', () => '/v1/requests'],
    ['POST /v1/tasks/{taskId}/decision', decisionPath],
  ])('%s with malformed JSON is 400 malformed_json', async (_route, path) => {
    const token = path === decisionPath ? await approverToken() : requesterToken;
    expectProblem(await post(path(), '{"text": "chairs",', undefined, token), 400, 'malformed_json');
    expectProblem(await post(path(), '', undefined, token), 400, 'malformed_json');
  });

  const po = (fields: Json) => ({ text: 'Chairs', action: 'purchase_order', fields: { vendor: 'Initech', amount: 100, description: 'chairs', ...fields } });
  const submitCases: [string, string, unknown][] = [
    ['a negative amount', 'fields.amount', po({ amount: -5 })],
    ['a zero amount', 'fields.amount', po({ amount: 0 })],
    ['an amount as a string', 'fields.amount', po({ amount: '100' })],
    ['a lower-case currency', 'fields.currency', po({ currency: 'usd' })],
    // Issue 12, finding 8: more decimals than the currency has, or a magnitude no store holds.
    ['$4,999.999 (a tenth of a cent)', 'fields.amount', po({ amount: 4999.999 })],
    ['$49,999.995 (a half cent under a tier boundary)', 'fields.amount', po({ amount: 49_999.995 })],
    ['$1e-9', 'fields.amount', po({ amount: 1e-9 })],
    ['an amount of 1e200', 'fields.amount', po({ amount: 1e200 })],
    ['¥100.5 (the yen has no minor unit)', 'fields.amount', po({ amount: 100.5, currency: 'JPY' })],
    ['a refund of $10.005', 'fields.amount', { text: 'Refund', action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 10.005, reason: 'damaged' } }],

    ['a missing vendor', 'fields.vendor', { text: 'Chairs', action: 'purchase_order', fields: { amount: 100, description: 'chairs' } }],
    ['an unknown field', 'fields', po({ discount: 10 })],
    ['text over 4,000 characters', 'text', { text: 'x'.repeat(4001) }],
    ['empty text', 'text', { text: '' }],
    ['no text', 'text', { action: 'purchase_order', fields: { vendor: 'Initech', amount: 100, description: 'chairs' } }],
    ['text that is not a string', 'text', { text: 42 }],
    ['an unknown action', 'action', { text: 'Wire money', action: 'wire_transfer' }],
    ['fields without an action', 'fields', { text: 'Chairs', fields: { vendor: 'Initech' } }],
    [
      'an impossible effective date',
      'fields.effectiveDate',
      { text: 'Upgrade', action: 'tier_upgrade', fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-02-30', justification: 'they outgrew their plan' } },
    ],
    [
      'a customer id with a path in it',
      'fields.customerId',
      { text: 'Refund', action: 'refund', fields: { customerId: '../C-1002', orderId: 'O-5001', amount: 10, reason: 'damaged' } },
    ],
    [
      'a too-short justification',
      'fields.justification',
      { text: 'Upgrade', action: 'tier_upgrade', fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: 'short' } },
    ],
  ];

  it.each(submitCases)('POST /v1/requests with %s is 400 validation_failed naming "%s"', async (_case, path, body) => {
    const response = await post('/v1/requests', json(body));
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.detail).toContain(path);
  });

  it('text of exactly 4,000 characters is accepted', async () => {
    const prefix = 'Create a PO for Initech for $140 of staples. ';
    const text = prefix + 'n'.repeat(4000 - prefix.length);
    expect(text).toHaveLength(4000);
    const response = await post('/v1/requests', json({ text }));
    expect(response.status).toBe(202);
    // Whatever it comes to, let it come to rest before the server stops.
    await client.waitForStatus(requester, String(response.body.requestId), 'PENDING_APPROVAL');
  });

  it('POST /v1/requests with a JSON array as the body is 400 validation_failed', async () => {
    expectProblem(await post('/v1/requests', json([{ text: 'Chairs' }])), 400, 'validation_failed');
  });

  const decisionCases: [string, string, unknown][] = [
    ['an unknown decision', 'decision', { decision: 'maybe', approvalToken: 'abc' }],
    ['no approval token', 'approvalToken', { decision: 'approve' }],
    ['a comment over 1,000 characters', 'comment', { decision: 'approve', approvalToken: 'abc', comment: 'c'.repeat(1001) }],
    ['an unknown field', 'approvedBy', { decision: 'approve', approvalToken: 'abc', approvedBy: 'er-pat' }],
  ];

  it.each(decisionCases)('POST /v1/tasks/{taskId}/decision with %s is 400 validation_failed naming "%s"', async (_case, path, body) => {
    const response = await post(decisionPath(), json(body), undefined, await approverToken());
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.detail).toContain(path);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1000', 'limit'],
    ['status=BOGUS', 'status'],
  ])('GET /v1/tasks?%s is 400 validation_failed naming %s', async (query, path) => {
    const response = await client.listTasks(procurement, query);
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.detail).toContain(path);
  });

  it('a rejected decision body consumed nothing: the task is still pending', async () => {
    expect(await client.listedTask(procurement, pending.requestId)).toMatchObject({ taskId: pending.taskId, approvalToken: pending.approvalToken });
  });
});

describe('413 and 415', () => {
  it.each([
    ['POST /v1/requests', () => '/v1/requests'],
    ['POST /v1/tasks/{taskId}/decision', decisionPath],
  ])('%s with a body over 16 KiB is 413 payload_too_large', async (_route, path) => {
    const token = path === decisionPath ? await approverToken() : requesterToken;
    const body = json({ text: 'z'.repeat(16 * 1024 + 1) });
    expectProblem(await post(path(), body, undefined, token), 413, 'payload_too_large');
  });

  it('exactly 16 KiB is not too large (a schema answer, not 413)', async () => {
    const padding = 16 * 1024 - json({ text: '' }).length;
    const body = json({ text: 'z'.repeat(padding) });
    expect(Buffer.byteLength(body)).toBe(16 * 1024);
    const response = await post('/v1/requests', body);
    expectProblem(response, 400, 'validation_failed');
  });

  it.each([
    ['POST /v1/requests', () => '/v1/requests'],
    ['POST /v1/tasks/{taskId}/decision', decisionPath],
  ])('%s as text/plain (or form data) is 415 unsupported_media_type', async (_route, path) => {
    const token = path === decisionPath ? await approverToken() : requesterToken;
    expectProblem(await post(path(), json({ text: 'Create a PO for Initech for $100 of pens' }), { 'content-type': 'text/plain' }, token), 415, 'unsupported_media_type');
    expectProblem(await post(path(), 'text=chairs', { 'content-type': 'application/x-www-form-urlencoded' }, token), 415, 'unsupported_media_type');
  });

  it('a JSON body sent with no content-type at all is 415 unsupported_media_type', async () => {
    const response = await fetch(`${client.baseUrl}/v1/requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${requesterToken}` },
      // A Blob without a type: fetch sends no content-type header.
      body: new Blob([json({ text: 'Create a PO for Initech for $100 of pens' })]),
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as Json).code).toBe('unsupported_media_type');
  });

  it('application/json with a charset is accepted', async () => {
    // Alpha Tech Systems: an 8,200 order to Initech waits above, and what waits counts against the vendor's autonomous limit.
    const response = await post('/v1/requests', json({ text: 'Create a PO for Alpha Tech Systems for $130 of pencils' }), { 'content-type': 'application/json; charset=utf-8' });
    expect(response.status).toBe(202);
    // Let it finish: the server is stopped after the last test.
    expect(await client.waitForStatus(requester, String(response.body.requestId), 'COMPLETED')).toMatchObject({ status: 'COMPLETED' });
  });
});

describe('404 for unknown and hostile request ids', () => {
  const ids: [string, string][] = [
    ['an unknown id', 'r_doesnotexist0000000000'],
    ['a path traversal', encodeURIComponent('../x')],
    ['a traversal to the audit of another', encodeURIComponent('../../v1/requests/x')],
    ['300 characters', 'r'.repeat(300)],
    ['a literal "%00"', encodeURIComponent('%00')],
    ['a NUL byte', '%00'],
    ['an SQL-looking id', encodeURIComponent("r' OR '1'='1")],
    ['a DynamoDB-looking key', encodeURIComponent('REQUEST#r_1')],
    ['a malformed escape', '%E0%A4%A'],
  ];

  it.each(ids)('%s is 404 problem+json on GET /v1/requests/{id} and on its audit, never 500', async (_name, rawId) => {
    expectProblem(await client.call(`/v1/requests/${rawId}`, { token: requesterToken }), 404, 'not_found');
    expectProblem(await client.call(`/v1/requests/${rawId}/audit`, { token: requesterToken }), 404, 'not_found');
  });
});
