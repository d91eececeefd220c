import fc from 'fast-check';
import { API_ROUTES, type LocalRoute } from '../../local/http';
import { MAX_BODY_BYTES } from '../../lambdas/shared/schemas/api';
import { startTestServer, type TestServer } from '../support/http-client';
import { problemsWith, RawHttp, type RawRequest } from './support/raw-http';

/**
 * A fuzz test of every route of the local HTTP API (issue 4): generated bodies (random JSON,
 * deep nesting, strings at the size limits, wrong types, Unicode, prototype-pollution keys,
 * broken JSON and bytes) and headers (content-type variants, garbage Authorization,
 * Idempotency-Key variants). Whatever arrives: never a 5xx, never a stack trace, never the
 * caller's token or another secret echoed, and every error is problem+json with type, title,
 * status, detail and code. Seeded and bounded: RUNS_PER_ROUTE requests per route.
 */

const SEED = 20_261_116;
const RUNS_PER_ROUTE = 300;

const requester = { sub: 'fuzz-requester', roles: ['support-agent'] };
/** The fuzzing caller holds every role but is not the requester of the pending task. */
const fuzzer = { sub: 'fuzz-caller', roles: ['support-agent', 'auditor', 'procurement-manager', 'finance-director', 'support-lead', 'account-manager'] };

let t: TestServer;
let http: RawHttp;
let token: string;
/** A live request and its pending task, so the id routes also see real ids. */
let live: { requestId: string; taskId: string; approvalToken: string };

beforeAll(async () => {
  t = await startTestServer();
  http = new RawHttp(t.server.url);
  token = await t.client.tokenFor(fuzzer);
  const requestId = await t.client.submitOk(requester, {
    text: 'Laptops for the fuzz suite',
    action: 'purchase_order',
    fields: { vendor: 'Initech', amount: 8200, description: 'laptops for the fuzz suite' },
  });
  const task = await t.client.waitForTask({ sub: 'fuzz-approver', roles: ['procurement-manager'] }, requestId);
  live = { requestId, taskId: task.taskId, approvalToken: task.approvalToken };
}, 30_000);

afterAll(async () => {
  http?.close();
  await t?.stop();
});

// ---------------------------------------------------------------------------------------------
// Bodies

const nested = (depth: number, open: string, close: string, inner = '1') => `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** A body of exactly `bytes` bytes: `{"text": "xxxx…"}` padded with a character of `width` bytes. */
function sizedBody(bytes: number, char: string): string {
  const frame = '{"text":""}';
  const width = Buffer.byteLength(char, 'utf8');
  const count = Math.max(0, Math.floor((bytes - frame.length) / width));
  const body = `{"text":"${char.repeat(count)}"}`;
  return body + ' '.repeat(Math.max(0, bytes - Buffer.byteLength(body, 'utf8')));
}

const PROTO_BODIES = [
  '{"__proto__": {"admin": true, "roles": ["finance-director"]}, "text": "Create a PO for Initech for $10 of pens"}',
  '{"text": "x", "constructor": {"prototype": {"approved": true}}}',
  '{"text": "Create a PO for Initech for $10 of pens", "action": "purchase_order", "fields": {"__proto__": {"amount": 1}, "vendor": "Initech", "amount": 10, "description": "pens"}}',
  '{"decision": "approve", "approvalToken": "x", "__proto__": {"decision": "approve"}}',
  '{"text": "x", "fields": {"constructor": {"prototype": {"toString": 1}}}}',
  '{"__proto__": null}',
  '[{"__proto__": {"x": 1}}]',
];

const BROKEN_BODIES = ['{', '}', 'nul', 'tru', '{"text": "x",}', "{'text': 'x'}", '{"text": "\\x41"}', '{"text": "\\ud800"}', '\uFEFF{"text": "x"}', 'undefined', 'NaN', '{"text": NaN}', '{"text": 1e999}', '--', '\u0000', ''];

const WRONG_TYPES = [
  { text: 5 },
  { text: null },
  { text: [] },
  { text: {} },
  { text: '' },
  { text: 'x', action: 'delete_everything' },
  { text: 'x', action: 'refund', fields: 'fields' },
  { text: 'x', action: 'refund', fields: [] },
  { text: 'x', action: 'purchase_order', fields: { vendor: 'Initech', amount: '1e9', description: 'x' } },
  { text: 'x', action: 'purchase_order', fields: { vendor: 'Initech', amount: -1, description: 'x' } },
  { decision: 'approve' },
  { decision: true, approvalToken: 1 },
  { decision: 'maybe', approvalToken: 'x' },
  { decision: 'approve', approvalToken: 'x', comment: 'c'.repeat(1001) },
  { decision: 'approve', approvalToken: 'x'.repeat(513) },
];

/** Plausible bodies of each kind, so that the handlers get past their first checks too. */
const plausibleBody = fc.oneof(
  fc.record({ text: fc.string({ minLength: 1, maxLength: 200 }) }),
  fc.record({
    text: fc.constantFrom('Create a PO for Initech for $40 of pens', 'Refund $10 on order O-5001 for customer C-1002, damaged'),
    action: fc.constantFrom('purchase_order', 'tier_upgrade', 'refund'),
    fields: fc.dictionary(fc.constantFrom('vendor', 'amount', 'currency', 'description', 'customerId', 'orderId', 'reason', 'currentTier', 'targetTier', 'effectiveDate', 'justification'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 6 }),
  }),
  fc.record({ decision: fc.constantFrom('approve', 'reject'), approvalToken: fc.string({ maxLength: 60 }), comment: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }) }),
);

/** Every body shape, as the bytes that go on the wire (undefined: no body at all). */
const bodyArb: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { weight: 3, arbitrary: plausibleBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 3, withNullPrototype: true, withObjectString: true }).map((v) => JSON.stringify(v) ?? 'undefined') },
  { weight: 1, arbitrary: fc.constantFrom(...WRONG_TYPES).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_BODIES) },
  { weight: 1, arbitrary: fc.constantFrom(...BROKEN_BODIES) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 6000 }), fc.constantFrom(['[', ']'], ['{"a":', '}'], ['{"text":"x","fields":{"a":', '}}'])).map(([depth, [open, close]]) =>
      close.length > 1 ? `${'{"text":"x","fields":'}${nested(depth, '{"a":', '}')}}` : nested(depth, open, close),
    ),
  },
  {
    weight: 1,
    // Around the limits: 4000 characters of text, 16 KiB of body, in 1- to 4-byte characters.
    arbitrary: fc.oneof(
      fc.tuple(fc.constantFrom(3999, 4000, 4001), fc.constantFrom('a', 'é', '€', '\u{1F600}', 'ﷺ')).map(([n, ch]) => JSON.stringify({ text: ch.repeat(n) })),
      fc.tuple(fc.constantFrom(MAX_BODY_BYTES - 1, MAX_BODY_BYTES, MAX_BODY_BYTES + 1, MAX_BODY_BYTES * 4), fc.constantFrom('a', 'é', '\u{1F600}')).map(([n, ch]) => sizedBody(n, ch)),
    ),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }).map((s) => JSON.stringify({ text: s, comment: s, decision: s, approvalToken: s })) },
);

// ---------------------------------------------------------------------------------------------
// Headers

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/problem+json',
  'application/vnd.api+json',
  'application/jsonx',
  'application/json; charset=latin1',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  '',
  ';',
  'application/json\u00A0',
  'application/json, text/plain',
  '*/*',
];

/** Garbage where the bearer token goes (none over 8 KiB: past Node's header limit the server never sees it). */
function authorizationArb(): fc.Arbitrary<string | undefined> {
  const [header, payload] = token.split('.');
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        undefined,
        '',
        'Bearer',
        'Bearer ',
        'bearer   ',
        `Basic ${Buffer.from('admin:admin').toString('base64')}`,
        'Bearer a.b.c',
        'Bearer not-a-jwt-at-all-qz7',
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -4)}`,
        token,
        `Bearer ${token} ${token}`,
        // alg "none": the header rewritten, the signature dropped.
        `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`,
        `Bearer ${header}.${Buffer.from('{"sub":"root","roles":["finance-director"]}').toString('base64url')}.${token.split('.')[2]}`,
        `Bearer ${'A'.repeat(4000)}`,
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 200 }).map((s) => `Bearer ${s}`) },
  );
}

const IDEMPOTENCY_KEYS = [undefined, 'fuzz-key-1', 'fuzz-key-1', 'k'.repeat(64), 'k'.repeat(65), '', ' ', 'key with spaces', "' OR 1=1 --", '../../x', 'ключ', '%00', 'a,b'];

interface Generated {
  body: string | Buffer | undefined;
  contentType: string | undefined;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  query: string;
  id: string;
  chunked: boolean;
}

function requestArb(route: LocalRoute): fc.Arbitrary<Generated> {
  // The live task's own approval token now and then: one decision wins, the replays get 409.
  const liveDecision = fc.constantFrom('approve', 'reject').map((decision) => JSON.stringify({ decision, approvalToken: live.approvalToken }));
  const postBody = route.path.endsWith('/decision') ? fc.oneof({ weight: 9, arbitrary: bodyArb }, { weight: 1, arbitrary: liveDecision }) : bodyArb;
  return fc.record({
    body: route.method === 'POST' ? postBody : fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bodyArb }),
    contentType: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 3, arbitrary: fc.constantFrom<string | undefined>(undefined, ...CONTENT_TYPES) }),
    authorization: authorizationArb(),
    idempotencyKey: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...IDEMPOTENCY_KEYS) }),
    query: fc.oneof(
      { weight: 3, arbitrary: fc.constant('') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('status=PENDING', 'status=DONE', 'limit=0', 'limit=101', 'limit=-1', 'limit=1e3', 'limit=abc', 'nextToken=%00', `nextToken=${'Q'.repeat(3000)}`, 'nextToken=eyJ0YXNrSWQiOiIuLi8ifQ', 'status=PENDING&status=APPROVED', '__proto__[x]=1', 'limit=50&unknown=1'),
      },
    ),
    // Mostly the live ids, so the handlers get as far as they can.
    id: fc.constantFrom('live', 'live', 'live', 'r_unknown1', 't_unknown1'),
    chunked: fc.boolean(),
  });
}

function toRequest(route: LocalRoute, g: Generated): RawRequest {
  const id = g.id === 'live' ? (route.path.includes('{taskId}') ? live.taskId : live.requestId) : g.id;
  const path = route.path.replace(/\{\w+\}/, id) + (g.query ? `?${g.query}` : '');
  const headers: Record<string, string> = {};
  // Header values go out as their UTF-8 bytes (Node's client takes Latin-1 strings only).
  const bytes = (value: string) => Buffer.from(value, 'utf8').toString('latin1');
  if (g.contentType !== undefined) headers['content-type'] = bytes(g.contentType);
  if (g.authorization !== undefined) headers.authorization = bytes(g.authorization);
  if (g.idempotencyKey !== undefined && route.path === '/v1/requests') headers['idempotency-key'] = bytes(g.idempotencyKey);
  // Framed either way; a GET body with neither header would be read as the next request.
  if (g.body !== undefined) {
    if (g.chunked) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(Buffer.byteLength(g.body));
  }
  return { method: route.method, path, headers, body: g.body };
}

/** What may never appear in an answer: the caller's token (or its signature), garbage sent as one, the approval token. */
function secretsFor(g: Generated, status: number): string[] {
  const secrets = [token, token.split('.')[2] ?? ''];
  const sent = g.authorization?.replace(/^\s*bearer\s*/i, '').trim();
  if (sent) secrets.push(sent);
  // GET /v1/tasks hands approvers their approval tokens by design (API.md); an error never does.
  if (status >= 400) secrets.push(live.approvalToken);
  return secrets;
}

describe(`fuzzing every route of the local API (${RUNS_PER_ROUTE} requests each)`, () => {
  it('covers every route of API.md', () => {
    expect(API_ROUTES).toHaveLength(9);
  });

  it.each(API_ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))('%s', async (_key, route) => {
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(requestArb(route), async (generated) => {
        const request = toRequest(route, generated);
        const response = await http.send(request);
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        const what = `${request.method} ${request.path.slice(0, 120)} (${String(request.headers?.['content-type'])})`;
        expect({ what, status: response.status, problems: problemsWith(response, secretsFor(generated, response.status)) }).toEqual({
          what,
          status: response.status,
          problems: [],
        });
      }),
      { numRuns: RUNS_PER_ROUTE, seed: SEED, endOnFailure: true },
    );
    // Not vacuous: the fuzz got past the checks (2xx) and into them (4xx); /health and /openapi.json have no checks.
    const ok = Object.entries(statuses).filter(([status]) => Number(status) < 300).reduce((n, [, c]) => n + c, 0);
    const rejected = Object.entries(statuses).filter(([status]) => Number(status) >= 400).reduce((n, [, c]) => n + c, 0);
    expect(ok).toBeGreaterThan(route.path.endsWith('/decision') ? 0 : 5);
    if (route.auth === 'jwt') expect(rejected).toBeGreaterThan(20);
  }, 60_000);
});

/*
 * API.md: "Error bodies never echo tokens or secrets." Today a 400 `validation_failed` quotes
 * unrecognised body keys verbatim (zod's "Unrecognized key: …"), so a token or secret sent as a
 * key comes back in `detail`. Its own test, so that the fuzz above keeps exploring.
 */
describe('secrets inside a body are not quoted back', () => {
  const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  it.each([
    ['POST /v1/requests', '/v1/requests', (secret: string) => [{ text: 'x', [secret]: 1 }, { text: 'x', action: 'refund', fields: { [secret]: 1 } }, { text: secret.slice(0, 10), action: secret }]],
    ['POST /v1/tasks/{taskId}/decision', 'decision', (secret: string) => [{ decision: 'approve', approvalToken: 'x', [secret]: 1 }, { decision: secret, approvalToken: 'x' }]],
  ] as const)('%s: neither the bearer token nor an AWS secret key sent as a key or value', async (_key, target, bodies) => {
    const path = target === 'decision' ? `/v1/tasks/${live.taskId}/decision` : target;
    for (const [secretName, secret] of [['bearer token', token], ['AWS secret key', AWS_SECRET]] as const) {
      for (const [i, body] of bodies(secret).entries()) {
        const response = await http.send({ method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const sent = `${secretName} in body #${i + 1}`;
        expect({ sent, status: response.status, problems: problemsWith(response, [token, AWS_SECRET]) }).toEqual({ sent, status: 400, problems: [] });
      }
    }
  });
});
