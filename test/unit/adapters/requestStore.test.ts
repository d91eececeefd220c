import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { Conflict, InvalidInput, NotFound } from '../../../lambdas/shared/errors';
import type { RequestListScope } from '../../../lambdas/shared/ports';
import type { RequestRecord, RequestStatus } from '../../../lambdas/shared/schemas/records';
import { aRequestRecord } from '../../support/fixtures';
import { useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();

describe('DynamoRequestStore', () => {
  it('creates and reads back a record', async () => {
    const record = aRequestRecord({ traceId: 'trace-1', action: 'purchase_order' });
    await stores().requests.create(record);
    expect(await stores().requests.get(record.requestId)).toEqual(record);
  });

  it('refuses to create a record twice and keeps the first', async () => {
    const record = aRequestRecord();
    await stores().requests.create(record);
    const again = stores().requests.create({ ...record, requestedBy: 'someone-else' });
    await expect(again).rejects.toBeInstanceOf(Conflict);
    await expect(again).rejects.toMatchObject({ code: 'request_exists', status: 409 });
    expect((await stores().requests.get(record.requestId))?.requestedBy).toBe('requester-1');
  });

  it('returns undefined for unknown and invalid ids', async () => {
    expect(await stores().requests.get('r_doesnotexist')).toBeUndefined();
    expect(await stores().requests.get('../etc/passwd')).toBeUndefined();
    expect(await stores().requests.get('x'.repeat(65))).toBeUndefined();
  });

  it('updates the patched attributes and updatedAt, leaving the rest', async () => {
    const record = aRequestRecord({ createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z' });
    await stores().requests.create(record);
    stores().clock.set('2026-02-02T10:00:00.000Z');
    await stores().requests.update(record.requestId, {
      status: 'COMPLETED',
      result: { purchaseOrderNumber: 'PO-1' },
      error: undefined,
    });
    expect(await stores().requests.get(record.requestId)).toEqual({
      ...record,
      status: 'COMPLETED',
      result: { purchaseOrderNumber: 'PO-1' },
      updatedAt: '2026-02-02T10:00:00.000Z',
    });
  });

  it('never lets a patch rewrite the identity or creation time', async () => {
    const record = aRequestRecord();
    await stores().requests.create(record);
    await stores().requests.update(record.requestId, {
      status: 'RUNNING',
      ...({ requestId: 'r_hijack', createdAt: '1999-01-01T00:00:00.000Z' } as object),
    });
    const { Item } = await stores().doc.send(
      new GetCommand({ TableName: stores().emulators.tableNames.requests, Key: { requestId: record.requestId } }),
    );
    expect(Item).toMatchObject({ requestId: record.requestId, createdAt: record.createdAt, status: 'RUNNING' });
  });

  it('uses an explicit updatedAt from the patch', async () => {
    const record = aRequestRecord();
    await stores().requests.create(record);
    await stores().requests.update(record.requestId, { status: 'RUNNING', updatedAt: '2026-03-03T00:00:00.000Z' });
    expect((await stores().requests.get(record.requestId))?.updatedAt).toBe('2026-03-03T00:00:00.000Z');
  });

  it('does not create a record by updating an unknown or invalid id', async () => {
    await expect(stores().requests.update('r_missing', { status: 'RUNNING' })).rejects.toBeInstanceOf(NotFound);
    await expect(stores().requests.update('a/b', { status: 'RUNNING' })).rejects.toBeInstanceOf(NotFound);
    expect(await stores().requests.get('r_missing')).toBeUndefined();
  });

  it('updateIf writes only while the status is one of those given, and says whether it did', async () => {
    const record = aRequestRecord({ status: 'PENDING_APPROVAL' });
    await stores().requests.create(record);

    expect(await stores().requests.updateIf(record.requestId, { status: 'RUNNING' }, ['PENDING_APPROVAL'])).toBe(true);
    expect((await stores().requests.get(record.requestId))?.status).toBe('RUNNING');
    await stores().requests.update(record.requestId, { status: 'EXPIRED' });
    // A terminal status written meanwhile stands.
    expect(await stores().requests.updateIf(record.requestId, { status: 'PENDING_APPROVAL' }, ['RUNNING'])).toBe(false);
    expect((await stores().requests.get(record.requestId))?.status).toBe('EXPIRED');
    expect(await stores().requests.updateIf(record.requestId, { status: 'RUNNING' }, ['PENDING_APPROVAL', 'RUNNING'])).toBe(false);
    expect(await stores().requests.updateIf('r_missing', { status: 'RUNNING' }, ['PENDING_APPROVAL'])).toBe(false);
    expect(await stores().requests.get('r_missing')).toBeUndefined();
  });
});

describe('DynamoRequestStore.list', () => {
  /** Each test lists its own requester, so the records other tests write never show up. */
  const aRequester = () => `lister-${randomUUID()}`;
  /** Minutes apart, in creation order; `statuses` gives each one's status. */
  async function createRequests(requestedBy: string, statuses: RequestStatus[], day = '2026-04-01'): Promise<RequestRecord[]> {
    const records = statuses.map((status, i) => {
      const at = `${day}T10:${String(i).padStart(2, '0')}:00.000Z`;
      return aRequestRecord({ requestedBy, status, createdAt: at, updatedAt: at });
    });
    for (const record of records) await stores().requests.create(record);
    return records;
  }
  async function listAll(scope: RequestListScope, limit: number, status?: RequestStatus) {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await stores().requests.list(scope, { limit, cursor, ...(status ? { status } : {}) });
      expect(page.requests.length).toBeLessThanOrEqual(limit);
      pages.push(page.requests.map((r) => r.requestId));
      cursor = page.nextToken;
    } while (cursor && pages.length < 50);
    return pages;
  }
  const idsOf = (records: RequestRecord[]) => records.map((r) => r.requestId);
  const newestFirst = (records: RequestRecord[]) => idsOf([...records].reverse());

  it("lists one requester's requests, newest first, whole records, nobody else's", async () => {
    const mine = await createRequests(aRequester(), ['QUEUED', 'COMPLETED', 'REJECTED']);
    await createRequests(aRequester(), ['QUEUED']);
    const page = await stores().requests.list({ requestedBy: mine[0]!.requestedBy }, { limit: 50 });
    expect(page.requests).toEqual([...mine].reverse());
    expect(page.nextToken).toBeUndefined();
  });

  it('pages with limit 2 across 5 requests: each exactly once, in order', async () => {
    const records = await createRequests(aRequester(), ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'EXPIRED']);
    const pages = await listAll({ requestedBy: records[0]!.requestedBy }, 2);
    expect(pages.slice(0, 3)).toEqual([newestFirst(records).slice(0, 2), newestFirst(records).slice(2, 4), newestFirst(records).slice(4)]);
    expect(pages.flat()).toEqual(newestFirst(records));
  });

  it('filters by status, across pages too', async () => {
    const records = await createRequests(aRequester(), ['COMPLETED', 'REJECTED', 'COMPLETED', 'QUEUED', 'COMPLETED', 'REJECTED']);
    const completed = records.filter((r) => r.status === 'COMPLETED');
    const scope = { requestedBy: records[0]!.requestedBy };
    const page = await stores().requests.list(scope, { status: 'COMPLETED', limit: 50 });
    expect(page.requests.map((r) => r.requestId)).toEqual(newestFirst(completed));
    expect((await listAll(scope, 1, 'COMPLETED')).flat()).toEqual(newestFirst(completed));
    expect((await stores().requests.list(scope, { status: 'EXPIRED', limit: 50 })).requests).toEqual([]);
  });

  it("lists everyone's, newest first, for the 'everyone' scope", async () => {
    // A day no other test uses, so these are the newest items in the index.
    const alice = await createRequests(aRequester(), ['QUEUED', 'COMPLETED'], '2999-01-01');
    const bob = await createRequests(aRequester(), ['REJECTED'], '2999-01-02');
    const page = await stores().requests.list('everyone', { limit: 3 });
    expect(page.requests.map((r) => r.requestId)).toEqual([bob[0]!.requestId, alice[1]!.requestId, alice[0]!.requestId]);
    expect(page.nextToken).toEqual(expect.any(String));
    const completed = await stores().requests.list('everyone', { status: 'COMPLETED', limit: 1 });
    expect(completed.requests.map((r) => r.requestId)).toEqual([alice[1]!.requestId]);
  });

  it("refuses another requester's cursor, an auditor's cursor on a requester's listing and the reverse", async () => {
    const alice = await createRequests(aRequester(), ['QUEUED', 'QUEUED']);
    const bob = aRequester();
    const aliceCursor = (await stores().requests.list({ requestedBy: alice[0]!.requestedBy }, { limit: 1 })).nextToken!;
    const everyoneCursor = (await stores().requests.list('everyone', { limit: 1 })).nextToken!;
    for (const listing of [
      stores().requests.list({ requestedBy: bob }, { limit: 1, cursor: aliceCursor }),
      stores().requests.list({ requestedBy: bob }, { limit: 1, cursor: everyoneCursor }),
      stores().requests.list('everyone', { limit: 1, cursor: aliceCursor }),
    ]) {
      await expect(listing).rejects.toBeInstanceOf(InvalidInput);
      await expect(listing).rejects.toMatchObject({ status: 400, code: 'invalid_next_token' });
    }
  });

  it.each([
    ['empty', ''],
    ['not base64url', '!!!'],
    ['base64url of non-JSON', Buffer.from('not json').toString('base64url')],
    ['a key with extra attributes', Buffer.from(JSON.stringify({ requestId: 'r_1', requestedBy: 'me', createdAt: 'x', status: 'QUEUED' })).toString('base64url')],
    ['a hostile requestId', Buffer.from(JSON.stringify({ requestId: '../x', requestedBy: 'me', createdAt: 'x' })).toString('base64url')],
  ])('rejects a forged cursor (%s) with 400 invalid_next_token', async (_what, cursor) => {
    const listing = stores().requests.list({ requestedBy: 'me' }, { limit: 1, cursor });
    await expect(listing).rejects.toMatchObject({ status: 400, code: 'invalid_next_token' });
  });

  it('rejects a limit outside 1..100', async () => {
    await expect(stores().requests.list({ requestedBy: 'me' }, { limit: 0 })).rejects.toMatchObject({ status: 400, code: 'invalid_limit' });
    await expect(stores().requests.list('everyone', { limit: 101 })).rejects.toMatchObject({ status: 400, code: 'invalid_limit' });
  });

  it('a request written before the indexes existed: its requester lists it at once, auditors once it is next updated', async () => {
    const old = aRequestRecord({ requestedBy: aRequester(), createdAt: '2999-02-01T00:00:00.000Z', updatedAt: '2999-02-01T00:00:00.000Z' });
    // As an earlier version wrote it: the record alone, without the byCreation partition attribute.
    await stores().doc.send(new PutCommand({ TableName: stores().emulators.tableNames.requests, Item: old }));
    expect((await stores().requests.list({ requestedBy: old.requestedBy }, { limit: 10 })).requests).toEqual([old]);
    expect(idsOf((await stores().requests.list('everyone', { limit: 1 })).requests)).not.toContain(old.requestId);
    await stores().requests.update(old.requestId, { status: 'RUNNING' });
    expect(idsOf((await stores().requests.list('everyone', { limit: 1 })).requests)).toEqual([old.requestId]);
  });
});
