import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { Conflict, NotFound } from '../../../lambdas/shared/errors';
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
