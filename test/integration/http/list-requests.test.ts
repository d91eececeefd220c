import { expectProblem, useTestServer, type Json } from '../../support/http-client';

/**
 * `GET /v1/requests` (API.md "Requests"): a requester's own requests, an auditor's view of
 * everyone's, newest first, filtered by status and paginated with an opaque nextToken.
 */

const alice = { sub: 'lr-alice', roles: ['support-agent'] };
const bob = { sub: 'lr-bob', roles: ['support-agent'] };
const auditor = { sub: 'lr-audrey', roles: ['auditor'] };

const { client } = useTestServer();

/** In submission order, each one settled. */
let aliceIds: string[];
let bobIds: string[];
let completed: string[];
let rejected: string[];

const po = (vendor: string, amount: number, description: string) => ({ text: description, action: 'purchase_order', fields: { vendor, amount, description } });

beforeAll(async () => {
  const submissions: [typeof alice, object, 'COMPLETED' | 'REJECTED'][] = [
    [alice, po('Globex Corporation', 120, 'desk lamps'), 'COMPLETED'],
    [alice, po('Initech', 2_000_000, 'an office building'), 'REJECTED'],
    [bob, po('Initech', 95, 'printer toner'), 'COMPLETED'],
    [alice, po('Alpha Tech Systems', 310, 'keyboards'), 'COMPLETED'],
    [alice, po('Globex Corporation', 3_000_000, 'a warehouse'), 'REJECTED'],
    [alice, po('Initech', 45, 'whiteboard markers'), 'COMPLETED'],
  ];
  aliceIds = [];
  bobIds = [];
  completed = [];
  rejected = [];
  // One at a time, each to its end: creation order is submission order, and statuses are final.
  for (const [caller, body, outcome] of submissions) {
    const requestId = await client.submitOk(caller, body);
    const done = await client.waitForStatus(caller, requestId, outcome);
    if (done.status !== outcome) throw new Error(`${requestId}: expected ${outcome}, got ${JSON.stringify(done)}`);
    (caller === alice ? aliceIds : bobIds).push(requestId);
    if (caller === alice) (outcome === 'COMPLETED' ? completed : rejected).push(requestId);
  }
});

const list = (caller: typeof alice, query = '') => client.as(caller, `/v1/requests${query ? `?${query}` : ''}`);
const idsIn = (body: Json) => (body.requests as Json[]).map((r) => r.requestId);
const newestFirst = (ids: string[]) => [...ids].reverse();

describe('GET /v1/requests', () => {
  it("lists the caller's own requests only, newest first", async () => {
    const mine = await list(alice);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toMatch(/^application\/json/);
    expect(idsIn(mine.body)).toEqual(newestFirst(aliceIds));
    expect(mine.body.nextToken).toBeUndefined();
    expect(idsIn((await list(bob)).body)).toEqual(bobIds);
  });

  it('an item is the request view without proposal and result, and nothing internal', async () => {
    const items = (await list(alice)).body.requests as Json[];
    for (const item of items) {
      const { proposal, result: _result, ...view } = (await client.getRequest(alice, String(item.requestId))).body;
      expect(proposal).toBeDefined();
      expect(item).toEqual(view);
      for (const key of ['proposal', 'result', 'requesterRoles', 'executionArn', 'startInput', 'traceId', 'timeline']) {
        expect(Object.keys(item)).not.toContain(key);
      }
    }
  });

  it("an auditor sees everyone's, newest first", async () => {
    const all = await list(auditor);
    expect(all.status).toBe(200);
    const everyone = [...aliceIds, ...bobIds];
    const listed = idsIn(all.body).filter((id) => everyone.includes(String(id)));
    expect(listed).toHaveLength(everyone.length);
    const createdAt = (all.body.requests as Json[]).map((r) => String(r.createdAt));
    expect(createdAt).toEqual([...createdAt].sort().reverse());
    expect(new Set((all.body.requests as Json[]).map((r) => r.requestedBy))).toEqual(new Set([alice.sub, bob.sub]));
  });

  it('filters by one status', async () => {
    expect(idsIn((await list(alice, 'status=COMPLETED')).body)).toEqual(newestFirst(completed));
    expect(idsIn((await list(alice, 'status=REJECTED')).body)).toEqual(newestFirst(rejected));
    expect(idsIn((await list(alice, 'status=PENDING_APPROVAL')).body)).toEqual([]);
    const auditorCompleted = (await list(auditor, 'status=COMPLETED')).body.requests as Json[];
    expect(auditorCompleted.map((r) => r.requestId).sort()).toEqual([...completed, ...bobIds].sort());
  });

  it('pages with limit 2 across 5 requests: every request exactly once, in order', async () => {
    const pages: unknown[][] = [];
    let query = 'limit=2';
    for (;;) {
      const page = await list(alice, query);
      expect(page.status).toBe(200);
      pages.push(idsIn(page.body));
      if (typeof page.body.nextToken !== 'string') break;
      expect(pages.length).toBeLessThan(5);
      query = `limit=2&nextToken=${encodeURIComponent(page.body.nextToken)}`;
    }
    const expected = newestFirst(aliceIds);
    expect(pages).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)]);
  });

  it.each([
    ['an unknown status', 'status=DONE', 'query.status'],
    ['an empty status', 'status=', 'query.status'],
    ['a task status', 'status=PENDING', 'query.status'],
    ['limit 0', 'limit=0', 'query.limit'],
    ['limit 101', 'limit=101', 'query.limit'],
    ['a limit that is not a number', 'limit=ten', 'query.limit'],
    ['an unknown parameter', 'owner=lr-bob', 'query'],
  ])('answers %s with 400 validation_failed naming the parameter', async (_what, query, named) => {
    const response = await list(alice, query);
    expectProblem(response, 400, 'validation_failed');
    expect(String(response.body.detail)).toContain(named);
  });

  it('answers a forged nextToken with 400 invalid_next_token', async () => {
    const forged = Buffer.from(JSON.stringify({ requestId: aliceIds[0], requestedBy: bob.sub, createdAt: '2999-01-01T00:00:00.000Z', extra: 1 })).toString('base64url');
    for (const token of ['not-a-token', '%21%21%21', forged]) {
      expectProblem(await list(bob, `nextToken=${token}`), 400, 'invalid_next_token');
    }
  });

  it("another caller's nextToken gets 400 and reveals nothing", async () => {
    const first = await list(alice, 'limit=1');
    const token = String(first.body.nextToken);
    const asBob = await list(bob, `nextToken=${encodeURIComponent(token)}`);
    expectProblem(asBob, 400, 'invalid_next_token');
    for (const id of aliceIds) expect(asBob.text).not.toContain(id);
    expect(asBob.text).not.toContain(token);
  });

  it('without a token: 401', async () => {
    const response = await client.call('/v1/requests');
    expectProblem(response, 401, 'unauthorized');
    expect(response.text).not.toContain('lr-');
  });
});
