import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDocumentClient } from '../../../lambdas/shared/adapters/aws/clients';
import { DynamoRequestStore } from '../../../lambdas/shared/adapters/aws/requestStore';
import { S3StateStore } from '../../../lambdas/shared/adapters/aws/stateStore';
import { DynamoSystemOfRecord } from '../../../lambdas/shared/adapters/aws/systemOfRecord';
import { DynamoTaskIndex } from '../../../lambdas/shared/adapters/aws/taskIndex';
import { newRequestId } from '../../../lambdas/shared/ids';
import { TABLES } from '../../../lambdas/shared/tables';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, localTableNames, startEmulators, waitUntilGone, type Emulators } from '../../../local/emulators';
import { aPendingTask, aRequestRecord, aWorkflowState } from '../../support/fixtures';

/**
 * The adapters built the way a Lambda builds them (fromEnv), but from the emulators' env map
 * rather than process.env: proves that env is all a process needs.
 */
function adaptersFrom(emulators: Emulators) {
  const env = emulators.env;
  const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! };
  const doc = createDocumentClient({ region: env.AWS_REGION!, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB!, credentials });
  const s3 = new S3Client({
    region: env.AWS_REGION!,
    endpoint: env.AWS_ENDPOINT_URL_S3!,
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  return {
    requests: DynamoRequestStore.fromEnv(doc, env),
    tasks: DynamoTaskIndex.fromEnv(doc, env),
    records: DynamoSystemOfRecord.fromEnv(doc, env),
    state: S3StateStore.fromEnv(s3, env),
    destroy: () => {
      doc.destroy();
      s3.destroy();
    },
  };
}

describe('startEmulators', () => {
  it('names every table warden-<logicalName> and exports them with the endpoints in env', async () => {
    const emulators = await startEmulators();
    try {
      const names = localTableNames();
      expect(names.tasks).toBe('warden-ApprovalTasks');
      for (const key of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
        expect(emulators.env[TABLES[key].envVar]).toBe(names[key]);
      }
      expect(emulators.env).toMatchObject({
        AWS_ENDPOINT_URL_DYNAMODB: emulators.endpoints.dynamodb,
        AWS_ENDPOINT_URL_S3: emulators.endpoints.s3,
        STATE_BUCKET: 'warden-state',
        AWS_REGION: 'us-east-1',
      });
      expect(emulators.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const dynamo = new DynamoDBClient({
        region: 'us-east-1',
        endpoint: emulators.endpoints.dynamodb,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      try {
        const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: names.tasks }));
        expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byStatus']);
        expect(Table?.KeySchema).toEqual([{ AttributeName: 'taskId', KeyType: 'HASH' }]);
      } finally {
        dynamo.destroy();
      }

      const adapters = adaptersFrom(emulators);
      try {
        expect(await adapters.records.findVendor('Initech')).toEqual({ name: 'Initech', validated: true });
        expect(await adapters.records.getOrder('O-5001')).toMatchObject({ customerId: 'C-1002', total: 450 });
      } finally {
        adapters.destroy();
      }
    } finally {
      await emulators.stop();
    }
  });

  it('keeps data across a restart on the same data directory, without re-seeding over it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'warden-emulators-test-'));
    try {
      const record = aRequestRecord();
      const task = aPendingTask({ requestId: record.requestId });
      const state = aWorkflowState({ requestId: record.requestId });
      let key: string;

      const first = await startEmulators({ dataDir });
      const before = adaptersFrom(first);
      try {
        await before.requests.create(record);
        await before.tasks.putPending(task);
        key = await before.state.putCheckpoint(record.requestId, task.taskId, state);
        // Dated the day it runs, so the tier moves at once (a later date is only scheduled).
        const at = new Date().toISOString();
        await before.records.execute({
          requestId: newRequestId(),
          fingerprint: 'fp-restart',
          proposal: {
            action: 'tier_upgrade',
            fields: {
              customerId: 'C-1001',
              currentTier: 'basic',
              targetTier: 'standard',
              effectiveDate: at.slice(0, 10),
              justification: 'outgrew the plan',
            },
          },
          at,
        });
      } finally {
        before.destroy();
        await first.stop();
      }

      const second = await startEmulators({ dataDir });
      const after = adaptersFrom(second);
      try {
        expect(await after.requests.get(record.requestId)).toEqual(record);
        expect(await after.tasks.get(task.taskId)).toEqual(task);
        expect((await after.tasks.listByStatus('PENDING', 10)).tasks.map((t) => t.taskId)).toContain(task.taskId);
        expect(await after.state.getCheckpoint(key)).toEqual(state);
        expect(await after.records.getCustomer('C-1001')).toEqual({ customerId: 'C-1001', tier: 'standard' });
      } finally {
        after.destroy();
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('starts from a clean slate without a data directory', async () => {
    const emulators = await startEmulators();
    const adapters = adaptersFrom(emulators);
    try {
      expect(await adapters.records.getCustomer('C-1001')).toEqual({ customerId: 'C-1001', tier: 'basic' });
    } finally {
      adapters.destroy();
      await emulators.stop();
    }
  });

  it('gives a data directory from before an index existed the index, keeping every item', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'warden-emulators-test-'));
    try {
      const name = localTableNames().requests;
      const old = aRequestRecord({ requestedBy: 'before-the-index' });
      const first = await startEmulators({ dataDir });
      const dynamo = new DynamoDBClient({ region: LOCAL_REGION, endpoint: first.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
      const doc = createDocumentClient({ region: LOCAL_REGION, endpoint: first.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
      try {
        // The requests table as an earlier version created it: no secondary index.
        await dynamo.send(new DeleteTableCommand({ TableName: name }));
        await waitUntilGone(dynamo, name);
        const { globalSecondaryIndexes: _none, ...withoutIndexes } = TABLES.requests;
        await createTable(dynamo, name, withoutIndexes);
        await doc.send(new PutCommand({ TableName: name, Item: old }));
      } finally {
        doc.destroy();
        dynamo.destroy();
        await first.stop();
      }

      const second = await startEmulators({ dataDir });
      const after = adaptersFrom(second);
      const check = new DynamoDBClient({ region: LOCAL_REGION, endpoint: second.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS });
      try {
        const { Table } = await check.send(new DescribeTableCommand({ TableName: name }));
        expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(['byCreation', 'byRequester']);
        expect(await after.requests.get(old.requestId)).toEqual(old);
        expect((await after.requests.list({ requestedBy: old.requestedBy }, { limit: 10 })).requests).toEqual([old]);
      } finally {
        check.destroy();
        after.destroy();
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
