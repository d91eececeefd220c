import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { InvalidInput } from '../../../lambdas/shared/errors';
import { newRequestId } from '../../../lambdas/shared/ids';
import { useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();

let counter = 0;
const aKey = () => `principal-1#key-${Date.now()}-${++counter}`;

describe('DynamoIdempotencyStore', () => {
  it('claims a new key and stores its expiry in epoch seconds', async () => {
    const key = aKey();
    stores().clock.set('2026-01-01T00:00:00.000Z');
    expect(await stores().idempotency.claim(key, { requestId: 'r_first', bodyHash: 'h1' }, 3600)).toBeUndefined();
    const { Item } = await stores().doc.send(
      new GetCommand({ TableName: stores().emulators.tableNames.idempotency, Key: { id: key } }),
    );
    expect(Item).toEqual({ id: key, requestId: 'r_first', bodyHash: 'h1', expiration: Date.UTC(2026, 0, 1) / 1000 + 3600 });
  });

  it('returns the holder of a claimed key and keeps it', async () => {
    const key = aKey();
    await stores().idempotency.claim(key, { requestId: 'r_first', bodyHash: 'h1' }, 3600);
    expect(await stores().idempotency.claim(key, { requestId: 'r_second', bodyHash: 'h2' }, 3600)).toEqual({
      requestId: 'r_first',
      bodyHash: 'h1',
    });
    expect(await stores().idempotency.claim(key, { requestId: 'r_third', bodyHash: 'h1' }, 3600)).toEqual({
      requestId: 'r_first',
      bodyHash: 'h1',
    });
  });

  it('lets exactly one of concurrent claims win', async () => {
    const key = aKey();
    const ids = Array.from({ length: 8 }, () => newRequestId());
    const results = await Promise.all(ids.map((requestId) => stores().idempotency.claim(key, { requestId, bodyHash: 'h' }, 60)));
    const winners = results.filter((r) => r === undefined);
    expect(winners).toHaveLength(1);
    const winner = ids[results.indexOf(undefined)];
    expect(results.filter((r) => r !== undefined).every((r) => r!.requestId === winner)).toBe(true);
  });

  it('treats an expired claim as absent and overwrites it', async () => {
    const key = aKey();
    await stores().idempotency.claim(key, { requestId: 'r_old', bodyHash: 'h1' }, 60);
    stores().clock.advance(61_000);
    expect(await stores().idempotency.claim(key, { requestId: 'r_new', bodyHash: 'h2' }, 60)).toBeUndefined();
    expect(await stores().idempotency.claim(key, { requestId: 'r_newest', bodyHash: 'h3' }, 60)).toEqual({
      requestId: 'r_new',
      bodyHash: 'h2',
    });
  });

  it('frees a released key for the next claim', async () => {
    const key = aKey();
    await stores().idempotency.claim(key, { requestId: 'r_first', bodyHash: 'h1' }, 3600);
    await stores().idempotency.release(key);
    await stores().idempotency.release(key);
    expect(await stores().idempotency.claim(key, { requestId: 'r_second', bodyHash: 'h2' }, 3600)).toBeUndefined();
  });

  it('rejects empty or oversized keys and a bad ttl', async () => {
    await expect(stores().idempotency.claim('', { requestId: 'r', bodyHash: 'h' }, 60)).rejects.toBeInstanceOf(InvalidInput);
    await expect(stores().idempotency.claim('k'.repeat(1025), { requestId: 'r', bodyHash: 'h' }, 60)).rejects.toBeInstanceOf(InvalidInput);
    await expect(stores().idempotency.claim(aKey(), { requestId: 'r', bodyHash: 'h' }, 0)).rejects.toBeInstanceOf(InvalidInput);
  });
});
