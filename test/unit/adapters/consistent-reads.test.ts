import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchReadIncomplete, ConsistentReads } from '../../../lambdas/shared/adapters/aws/dynamo';
import { recordKeys } from '../../../lambdas/shared/adapters/aws/systemOfRecord';
import { useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();
const table = () => stores().emulators.tableNames.records;

let counter = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;

/** The real emulator's client, with the name of each command it is sent (what a round trip is). */
function watched(unprocessed?: (keys: Record<string, unknown>[], call: number) => Record<string, unknown>[]) {
  const sent: string[] = [];
  const doc = {
    async send(command: { constructor: { name: string }; input: unknown }) {
      sent.push(command.constructor.name);
      // Throttling stand-in: the emulator never leaves keys unprocessed, so some keys are held
      // back from it and handed back as DynamoDB does, to be asked again.
      if (unprocessed && command instanceof BatchGetCommand) {
        const request = command.input.RequestItems![table()];
        const keys = request.Keys as Record<string, unknown>[];
        const held = unprocessed(keys, sent.filter((name) => name === 'BatchGetCommand').length);
        const asked = keys.filter((key) => !held.includes(key));
        const out = asked.length > 0 ? await stores().doc.send(new BatchGetCommand({ RequestItems: { [table()]: { ...request, Keys: asked } } })) : { Responses: { [table()]: [] } };
        return { ...out, ...(held.length > 0 ? { UnprocessedKeys: { [table()]: { Keys: held, ConsistentRead: true } } } : {}) };
      }
      return stores().doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, sent };
}

async function putRecord(id: string, attributes: Record<string, unknown> = {}) {
  const key = { pk: `TEST#${id}`, sk: 'META' };
  await stores().doc.send(new PutCommand({ TableName: table(), Item: { ...key, id, ...attributes } }));
  return key;
}

describe('ConsistentReads', () => {
  it('sends reads started together as one BatchGetItem and gives each read its own item', async () => {
    const [a, b] = [await putRecord(unique('a'), { n: 1 }), await putRecord(unique('b'), { n: 2 })];
    const missing = { pk: `TEST#${unique('none')}`, sk: 'META' };
    const { doc, sent } = watched();
    const reads = new ConsistentReads(doc, table(), ['pk', 'sk']);
    // As validation starts them: one from inside an async function a few promise jobs deep.
    const viaAsync = (async () => {
      await Promise.resolve();
      await Promise.resolve();
      return reads.get(b);
    })();
    const [first, second, none, again] = await Promise.all([reads.get(a), viaAsync, reads.get(missing), reads.get(a)]);
    expect(sent).toEqual(['BatchGetCommand']);
    expect(first).toMatchObject({ ...a, n: 1 });
    expect(second).toMatchObject({ ...b, n: 2 });
    expect(none).toBeUndefined();
    expect(again).toEqual(first);
  });

  it('sends a read alone as a GetItem, and later reads as later calls', async () => {
    const key = await putRecord(unique('alone'), { n: 3 });
    const { doc, sent } = watched();
    const reads = new ConsistentReads(doc, table(), ['pk', 'sk']);
    expect(await reads.get(key)).toMatchObject({ n: 3 });
    expect(await reads.get(key)).toMatchObject({ n: 3 });
    expect(sent).toEqual(['GetCommand', 'GetCommand']);
  });

  it('splits more than 100 keys into batches of at most 100', async () => {
    const keys = await Promise.all(Array.from({ length: 130 }, (_, i) => putRecord(unique(`many${i}`), { i })));
    const { doc, sent } = watched();
    const reads = new ConsistentReads(doc, table(), ['pk', 'sk']);
    const items = await Promise.all(keys.map((key) => reads.get(key)));
    expect(sent).toEqual(['BatchGetCommand', 'BatchGetCommand']);
    expect(items.map((item) => item?.i)).toEqual(keys.map((_, i) => i));
  });

  it('asks again for keys DynamoDB leaves unprocessed', async () => {
    const keys = await Promise.all([1, 2, 3].map((n) => putRecord(unique(`throttled${n}`), { n })));
    // The first answer processes one key only.
    const { doc, sent } = watched((asked, call) => (call === 1 ? asked.slice(1) : []));
    const reads = new ConsistentReads(doc, table(), ['pk', 'sk']);
    const items = await Promise.all(keys.map((key) => reads.get(key)));
    expect(items.map((item) => item?.n)).toEqual([1, 2, 3]);
    expect(sent).toEqual(['BatchGetCommand', 'BatchGetCommand']);
  });

  it('fails every read of the batch when keys stay unprocessed, and the next reads work', async () => {
    const keys = await Promise.all([1, 2].map((n) => putRecord(unique(`stuck${n}`), { n })));
    let stuck = true;
    const { doc } = watched((asked) => (stuck ? asked : []));
    const reads = new ConsistentReads(doc, table(), ['pk', 'sk']);
    const results = await Promise.allSettled(keys.map((key) => reads.get(key)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(BatchReadIncomplete);
    stuck = false;
    expect((await Promise.all(keys.map((key) => reads.get(key)))).map((item) => item?.n)).toEqual([1, 2]);
  });

  it("batches the system of record's reads that validation starts together (facts and the duplicate check)", async () => {
    const vendor = unique('Vendor');
    await stores().doc.send(new PutCommand({ TableName: table(), Item: { ...recordKeys.vendor(vendor), name: vendor, validated: true } }));
    const fingerprint = unique('fp');
    await stores().doc.send(new PutCommand({ TableName: table(), Item: { ...recordKeys.effect(fingerprint), requestId: 'r_earlier', at: '2026-06-01T12:00:00.000Z' } }));
    const { doc, sent } = watched();
    const { DynamoSystemOfRecord } = await import('../../../lambdas/shared/adapters/aws/systemOfRecord');
    const records = new DynamoSystemOfRecord(doc, table());
    const [found, effect] = await Promise.all([records.findVendor(vendor), records.findEffect(fingerprint)]);
    expect(found).toEqual({ name: vendor, validated: true });
    expect(effect).toEqual({ requestId: 'r_earlier', at: '2026-06-01T12:00:00.000Z' });
    expect(sent).toEqual(['BatchGetCommand']);
  });
});
