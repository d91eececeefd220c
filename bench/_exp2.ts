process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { spawn } from 'node:child_process';
import { DynamoDBClient, PutItemCommand, GetItemCommand, CreateTableCommand } from '@aws-sdk/client-dynamodb';
async function main() {
  const proc = spawn(process.execPath, ['-e', "require('dynalite')({createTableMs:0}).listen(45123,'127.0.0.1',()=>console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => proc.stdout!.once('data', r));
  const c = new DynamoDBClient({ endpoint: 'http://127.0.0.1:45123', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  await c.send(new CreateTableCommand({ TableName: 't', BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'requestId', KeyType: 'HASH' }, { AttributeName: 'seq', KeyType: 'RANGE' }], AttributeDefinitions: [{ AttributeName: 'requestId', AttributeType: 'S' }, { AttributeName: 'seq', AttributeType: 'N' }] }));
  for (let round = 0; round < 2; round++) {
    let n = 0; const N = 3000; const cpu0 = process.cpuUsage(); const t0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, async () => { while (n < N) { const i = n++; await c.send(new PutItemCommand({ TableName: 't', Item: { requestId: { S: 'r' + (i % 500) }, seq: { N: String(i) }, data: { S: 'x'.repeat(300) } } })); await c.send(new GetItemCommand({ TableName: 't', Key: { requestId: { S: 'r' + (i % 500) }, seq: { N: String(i) } }, ConsistentRead: true })); } }));
    const s = (performance.now() - t0) / 1000; const cpu = process.cpuUsage(cpu0);
    console.log('separate process', (2 * N / s).toFixed(0), 'calls/s; client cpu ms/call', ((cpu.user + cpu.system) / 1000 / (2 * N)).toFixed(2));
  }
  c.destroy(); proc.kill();
}
main();
