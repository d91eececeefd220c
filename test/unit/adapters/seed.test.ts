import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { catalogSeed, seedItems, seedSystemOfRecord } from '../../../lambdas/shared/adapters/aws/seed';
import { recordKeys } from '../../../lambdas/shared/adapters/aws/systemOfRecord';
import { SEED } from '../../../lambdas/shared/tables';
import { createRecordsTable, scanTable, useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();

let tables = 0;
/** An empty system-of-record table of this test only. */
function freshTable(): Promise<string> {
  return createRecordsTable(stores(), `seed-test-${++tables}`);
}

function scan(tableName: string) {
  return scanTable(stores(), tableName);
}

const N = seedItems().length;
const outcomes = (results: { outcome: string }[]) => results.map((r) => r.outcome);

describe('seedSystemOfRecord', () => {
  it('writes every seed item into an empty table, then writes nothing the second time', async () => {
    const table = await freshTable();
    const first = await seedSystemOfRecord(stores().doc, table);
    expect(outcomes(first)).toEqual(Array(N).fill('written'));
    const stored = await scan(table);
    expect(stored).toHaveLength(N);
    expect(stored).toEqual(expect.arrayContaining(seedItems()));
    expect(stored).toContainEqual({ ...recordKeys.order('O-5001'), orderId: 'O-5001', customerId: 'C-1002', total: 450, currency: 'USD', refundedTotal: 0 });

    const second = await seedSystemOfRecord(stores().doc, table);
    expect(outcomes(second)).toEqual(Array(N).fill('present'));
    expect(await scan(table)).toEqual(stored);
  });

  it('reports a record that changed since as differing, naming the attributes, and leaves it as it is', async () => {
    const table = await freshTable();
    await seedSystemOfRecord(stores().doc, table);
    const key = recordKeys.customer('C-1001');
    await stores().doc.send(
      new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'SET tier = :t, tierEffectiveDate = :d', ExpressionAttributeValues: { ':t': 'premium', ':d': '2027-01-01' } }),
    );

    const results = await seedSystemOfRecord(stores().doc, table);
    const differing = results.filter((r) => r.outcome === 'differing');
    expect(differing).toEqual([{ item: expect.objectContaining(key), outcome: 'differing', differingAttributes: ['tier', 'tierEffectiveDate'] }]);
    expect(results.filter((r) => r.outcome === 'present')).toHaveLength(N - 1);
    const { Item } = await stores().doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
    expect(Item).toEqual({ ...key, customerId: 'C-1001', tier: 'premium', tierEffectiveDate: '2027-01-01' });
  });

  it('writes only what is missing', async () => {
    const table = await freshTable();
    await seedSystemOfRecord(stores().doc, table, { vendors: SEED.vendors, customers: [] });
    const results = await seedSystemOfRecord(stores().doc, table);
    expect(results.filter((r) => r.outcome === 'written').map((r) => r.item.pk)).toEqual([
      ...SEED.customers.map((c) => recordKeys.customer(c.customerId).pk),
      // Every action's own builtin records, in catalog order (the seed actions': refund's orders).
      ...(catalogSeed().records ?? []).map((record) => `${record.type}#${record.id}`),
    ]);
    expect(results.filter((r) => r.outcome === 'written').map((r) => r.item.pk)).toEqual(
      expect.arrayContaining(['O-5001', 'O-5002'].map((orderId) => recordKeys.order(orderId).pk)),
    );
    expect(results.filter((r) => r.outcome === 'present')).toHaveLength(SEED.vendors.length);
  });

  it('under dryRun classifies every item the same way and writes nothing', async () => {
    const table = await freshTable();
    expect(outcomes(await seedSystemOfRecord(stores().doc, table, catalogSeed(), { dryRun: true }))).toEqual(Array(N).fill('written'));
    expect(await scan(table)).toEqual([]);

    await seedSystemOfRecord(stores().doc, table, { vendors: [], customers: SEED.customers });
    await stores().doc.send(
      new UpdateCommand({ TableName: table, Key: recordKeys.customer('C-1002'), UpdateExpression: 'SET tier = :t', ExpressionAttributeValues: { ':t': 'basic' } }),
    );
    const before = await scan(table);
    const results = await seedSystemOfRecord(stores().doc, table, catalogSeed(), { dryRun: true });
    expect(results.filter((r) => r.outcome === 'written')).toHaveLength(N - SEED.customers.length);
    expect(results.filter((r) => r.outcome === 'present')).toHaveLength(SEED.customers.length - 1);
    expect(results.filter((r) => r.outcome === 'differing').map((r) => r.differingAttributes)).toEqual([['tier']]);
    expect(await scan(table)).toEqual(before);
  });
});
