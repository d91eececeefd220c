process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startEmulators } from '../local/emulators';
async function rate(dataDir?: string) {
  const em = await startEmulators({ dataDir });
  const c = new DynamoDBClient({ endpoint: em.endpoints.dynamodb, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const table = em.tableNames.audit;
  let n = 0; const N = 3000;
  const cpu0 = process.cpuUsage(); const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, async (_, w) => { while (n < N) { const i = n++; await c.send(new PutItemCommand({ TableName: table, Item: { requestId: { S: 'r' + (i % 500) }, seq: { N: String(i) }, data: { S: 'x'.repeat(300) } } })); await c.send(new GetItemCommand({ TableName: table, Key: { requestId: { S: 'r' + (i % 500) }, seq: { N: String(i) } }, ConsistentRead: true })); } }));
  const s = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
  console.log(dataDir ? 'disk  ' : 'memory', (2 * N / s).toFixed(0), 'calls/s', 'cpu ms/call', ((cpu.user + cpu.system) / 1000 / (2 * N)).toFixed(2));
  c.destroy(); await em.stop();
}
async function main() { await rate(await mkdtemp(join(tmpdir(), 'wbx-'))); await rate(undefined); await rate(await mkdtemp(join(tmpdir(), 'wbx-'))); await rate(undefined); }
main();
