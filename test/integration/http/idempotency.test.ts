import { randomUUID } from 'node:crypto';
import { expectProblem, useTestServer, type Caller, type Json } from '../../support/http-client';

/**
 * The Idempotency-Key header of POST /v1/requests (API.md "Requests"): the same key from the
 * same principal with the same body is the same request and starts nothing new; with another
 * body it is a conflict; another principal's key is another principal's.
 */

const alice = { sub: 'id-alice', roles: ['support-agent'] };
const bob = { sub: 'id-bob', roles: ['support-agent'] };

const { client } = useTestServer();

let lot = 0;
/** An auto-approved purchase order, unique per call. */
function orderBody(note = '') {
  lot += 1;
  return {
    text: `Idempotency lot ${lot}${note}`,
    action: 'purchase_order',
    fields: { vendor: 'Initech', amount: 300 + lot, description: `idempotency lot ${lot}` },
  };
}

const newKey = () => `key-${randomUUID()}`;
const withKey = (caller: Caller, body: unknown, key: string) => client.submit(caller, body, { 'Idempotency-Key': key });

async function auditEvents(requestId: string): Promise<string[]> {
  const audit = await client.getAudit(alice, requestId);
  expect(audit.status).toBe(200);
  return (audit.body.entries as Json[]).map((e) => String(e.step));
}

describe('same key, same principal, same body', () => {
  it('returns the same requestId and executes once', async () => {
    const key = newKey();
    const body = orderBody();
    const first = await withKey(alice, body, key);
    expect(first.status).toBe(202);
    const requestId = String(first.body.requestId);

    const second = await withKey(alice, body, key);
    expect([200, 202]).toContain(second.status);
    expect(second.body).toMatchObject({ requestId, links: { self: `/v1/requests/${requestId}` } });

    const done = await client.waitForStatus(alice, requestId, 'COMPLETED');
    expect(done).toMatchObject({ status: 'COMPLETED', result: { purchaseOrderNumber: expect.any(String) } });

    // After completion too: the same request, now COMPLETED, and still nothing new.
    const third = await withKey(alice, body, key);
    expect([200, 202]).toContain(third.status);
    expect(third.body).toMatchObject({ requestId, status: 'COMPLETED' });

    const steps = await auditEvents(requestId);
    expect(steps.filter((s) => s === 'Submit')).toHaveLength(1);
    expect(steps.filter((s) => s === 'Execute')).toHaveLength(1);
    expect(await client.waitForStatus(alice, requestId, 'COMPLETED')).toMatchObject({ result: done.result });
  });

  it('concurrent submissions with one key are one request, submitted once and executed once', async () => {
    // A race has to be given chances to happen: a few bursts, as a client retrying on timeouts would send them.
    for (let burst = 0; burst < 3; burst++) {
      const key = newKey();
      const body = orderBody();
      const answers = await Promise.all(Array.from({ length: 4 }, () => withKey(alice, body, key)));
      expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 202)).toEqual([]);
      const requestId = String(answers[0]?.body.requestId);
      expect(new Set(answers.map((a) => a.body.requestId))).toEqual(new Set([requestId]));

      expect(await client.waitForStatus(alice, requestId, 'COMPLETED')).toMatchObject({ status: 'COMPLETED' });
      const steps = await auditEvents(requestId);
      expect({ burst, executes: steps.filter((s) => s === 'Execute').length }).toEqual({ burst, executes: 1 });
      // One submission, so one Submit entry: the trail must not record a replay as a second one.
      expect({ burst, submits: steps.filter((s) => s === 'Submit').length }).toEqual({ burst, submits: 1 });
    }
  });

  it('the body is compared by content, not by the order of its keys', async () => {
    const key = newKey();
    const body = orderBody();
    const first = await withKey(alice, body, key);
    expect(first.status).toBe(202);
    const reordered = { fields: { description: body.fields.description, amount: body.fields.amount, vendor: body.fields.vendor }, action: body.action, text: body.text };
    const second = await withKey(alice, reordered, key);
    expect([200, 202]).toContain(second.status);
    expect(second.body.requestId).toBe(first.body.requestId);
  });
});

describe('conflicts and scope', () => {
  it('the same key with a different body is 409 idempotency_key_reused; the original request stands, once', async () => {
    const key = newKey();
    const body = orderBody();
    const first = await withKey(alice, body, key);
    expect(first.status).toBe(202);
    const changed = { ...body, fields: { ...body.fields, amount: body.fields.amount + 1 } };
    expectProblem(await withKey(alice, changed, key), 409, 'idempotency_key_reused');
    expectProblem(await withKey(alice, { ...body, text: `${body.text}!` }, key), 409, 'idempotency_key_reused');
    // The original still stands, once.
    await client.waitForStatus(alice, String(first.body.requestId), 'COMPLETED');
    expect((await auditEvents(String(first.body.requestId))).filter((s) => s === 'Submit')).toHaveLength(1);
  });

  it("the same key from another principal is that principal's own, new request", async () => {
    const key = newKey();
    const body = orderBody();
    const mine = await withKey(alice, body, key);
    const theirs = await withKey(bob, body, key);
    expect(mine.status).toBe(202);
    expect(theirs.status).toBe(202);
    expect(theirs.body.requestId).not.toBe(mine.body.requestId);
    // Bob's request is his: it runs on its own. The identical proposal executes once: Bob's ends
    // REJECTED duplicate_proposal when Alice's ran before his was validated, FAILED with that code
    // when both were approved before either ran (the effect's claim refuses the second).
    const theirsDone = await client.waitForStatus(bob, String(theirs.body.requestId), 'COMPLETED', 'REJECTED', 'FAILED');
    expect(theirsDone).toMatchObject({ requestedBy: bob.sub });
    if (theirsDone.status === 'REJECTED') expect(theirsDone.decision).toMatchObject({ reasons: expect.arrayContaining(['duplicate_proposal']) });
    if (theirsDone.status === 'FAILED') expect(theirsDone.error).toMatchObject({ code: 'duplicate_proposal' });
    expectProblem(await client.getRequest(bob, String(mine.body.requestId)), 404, 'not_found');
  });

  it('a key of 64 allowed characters is accepted', async () => {
    const response = await withKey(alice, orderBody(), `${'A-z_9'.repeat(12)}abcd`);
    expect(response.status).toBe(202);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'k'.repeat(65)],
    ['a space', 'two words'],
    ['a slash', 'a/b'],
    ['a dot', 'key.1'],
    ['a non-ASCII letter', 'clé'],
  ])('a malformed key (%s) is 400 naming Idempotency-Key', async (_name, key) => {
    const response = await withKey(alice, orderBody(), key);
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.detail).toMatch(/Idempotency-Key/i);
  });
});
