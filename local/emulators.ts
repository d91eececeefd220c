import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ScanCommand,
  type AttributeDefinition,
  type AttributeValue,
  type KeySchemaElement,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedSystemOfRecord } from '../lambdas/shared/adapters/aws/seed';
import { AUDIT_SIGNING_KEY_ENV, STATE_BUCKET_ENV, TABLES, type TableDefinition, type TableKey } from '../lambdas/shared/tables';
import { lockDataDir } from './data-dir-lock';
import { startLocalKms } from './kms';

/**
 * In-process stand-ins for DynamoDB (dynalite), S3 (s3rver) and the audit signing key (KMS) on
 * 127.0.0.1, with Warden's tables, bucket, key and seed data. The adapters reach them through the standard
 * AWS_ENDPOINT_URL_* variables in `env`: the same code as in AWS, different endpoints.
 */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_BUCKET = 'warden-state';
/**
 * Dummy credentials for signing. dynalite accepts any; s3rver checks signatures against its
 * one built-in key pair, so this is that pair.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export function localTableNames(): Record<TableKey, string> {
  const names = {} as Record<TableKey, string>;
  for (const key of Object.keys(TABLES) as TableKey[]) names[key] = `warden-${TABLES[key].logicalName}`;
  return names;
}

export interface Emulators {
  endpoints: { dynamodb: string; s3: string; kms: string };
  /** What a process (or a Lambda handler in-process) needs to use the emulators. */
  env: Record<string, string>;
  tableNames: Record<TableKey, string>;
  bucket: string;
  /** The ARN of the key audit heads are signed with. */
  auditSigningKeyId: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /**
   * Persist under `${dataDir}/dynamodb` and `${dataDir}/s3`; in memory / a temp dir when absent.
   * The directory is locked until `stop()`: a second start on it throws DataDirInUse.
   */
  dataDir?: string;
}

// Neither package ships types; these are the parts used here.
interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
type DynaliteServer = Server;
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
  vhostBuckets: boolean;
}
const dynalite = require('dynalite') as (options: DynaliteOptions) => DynaliteServer;
const S3rver = require('s3rver') as new (options: S3rverOptions) => S3rverInstance;

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const { dataDir } = options;
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    // Reverse order: clients before servers, servers before their directories.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    let dynamoPath: string | undefined;
    let s3Dir: string;
    if (dataDir) {
      // Before any store opens, and released last, after every store has closed.
      const lock = await lockDataDir(dataDir);
      cleanups.push(() => lock.release());
      dynamoPath = join(dataDir, 'dynamodb');
      s3Dir = join(dataDir, 's3');
      await mkdir(dynamoPath, { recursive: true });
      await mkdir(s3Dir, { recursive: true });
    } else {
      s3Dir = await mkdtemp(join(tmpdir(), 'warden-s3-'));
      cleanups.push(() => rm(s3Dir, { recursive: true, force: true }));
    }

    const dynamoServer = dynalite({
      ...(dynamoPath ? { path: dynamoPath } : {}),
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
    });
    await new Promise<void>((resolve, reject) => {
      dynamoServer.once('error', reject);
      dynamoServer.listen(0, '127.0.0.1', () => resolve());
    });
    cleanups.push(() => closeServer(dynamoServer));
    const dynamodb = `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}`;

    const s3rver = new S3rver({
      address: '127.0.0.1',
      port: 0,
      directory: s3Dir,
      silent: true,
      configureBuckets: [{ name: LOCAL_BUCKET }],
      // Path-style only: every client of the emulator sets forcePathStyle.
      vhostBuckets: false,
    });
    const s3Address = await s3rver.run();
    cleanups.push(async () => {
      s3rver.httpServer?.closeAllConnections();
      await s3rver.close();
    });
    const s3 = `http://127.0.0.1:${s3Address.port}`;

    const kms = await startLocalKms({ dataDir, region: LOCAL_REGION });
    cleanups.push(() => kms.close());

    const tableNames = localTableNames();
    const client = new DynamoDBClient({ endpoint: dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    cleanups.push(async () => client.destroy());
    await createMissingTables(client, tableNames);
    await seedSystemOfRecord(DynamoDBDocumentClient.from(client), tableNames.records);

    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
      AWS_ENDPOINT_URL_S3: s3,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      [STATE_BUCKET_ENV]: LOCAL_BUCKET,
      [AUDIT_SIGNING_KEY_ENV]: kms.keyArn,
    };
    for (const key of Object.keys(TABLES) as TableKey[]) env[TABLES[key].envVar] = tableNames[key];

    return { endpoints: { dynamodb, s3, kms: kms.endpoint }, env, tableNames, bucket: LOCAL_BUCKET, auditSigningKeyId: kms.keyArn, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function closeServer(server: Server): Promise<void> {
  // Keep-alive sockets from SDK clients would otherwise hold the server (and jest) open.
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

async function createMissingTables(client: DynamoDBClient, tableNames: Record<TableKey, string>): Promise<void> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);

  for (const key of Object.keys(TABLES) as TableKey[]) {
    const name = tableNames[key];
    if (!existing.has(name)) await createTable(client, name, TABLES[key]);
    else await addMissingIndexes(client, name, TABLES[key]);
  }
}

/**
 * A data directory from before an index existed: dynalite's UpdateTable cannot create an index,
 * so the table is rebuilt from its definition and its items are written back (local data only).
 */
async function addMissingIndexes(client: DynamoDBClient, name: string, table: TableDefinition): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  if ((table.globalSecondaryIndexes ?? []).every((index) => present.has(index.indexName))) return;
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  await client.send(new DeleteTableCommand({ TableName: name }));
  await waitUntilGone(client, name);
  await createTable(client, name, table);
  for (let i = 0; i < items.length; i += 25) {
    let pending: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const { UnprocessedItems } = await client.send(new BatchWriteItemCommand({ RequestItems: { [name]: pending } }));
      pending = UnprocessedItems?.[name] ?? [];
    }
  }
}

/** Waits until a deleted local table is gone (the emulator deletes asynchronously). */
export async function waitUntilGone(client: DynamoDBClient, name: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { TableNames = [] } = await client.send(new ListTablesCommand({}));
    if (!TableNames.includes(name)) return;
    await sleep(10);
  }
  throw new Error(`local table ${name} was not deleted`);
}

/** Creates one table from its definition in the emulator and waits until it is ACTIVE. */
export async function createTable(client: DynamoDBClient, name: string, table: TableDefinition): Promise<void> {
  await client.send(new CreateTableCommand(createTableInput(name, table)));
  await waitUntilActive(client, name);
}

function createTableInput(name: string, table: TableDefinition) {
  const attributes = new Map<string, AttributeDefinition>();
  const keySchema = (pk: TableDefinition['partitionKey'], sk?: TableDefinition['sortKey']): KeySchemaElement[] => {
    for (const attr of sk ? [pk, sk] : [pk]) attributes.set(attr.name, { AttributeName: attr.name, AttributeType: attr.type });
    return [
      { AttributeName: pk.name, KeyType: 'HASH' },
      ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
    ];
  };
  const KeySchema = keySchema(table.partitionKey, table.sortKey);
  const GlobalSecondaryIndexes = table.globalSecondaryIndexes?.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    // A listing returns whole task items.
    Projection: { ProjectionType: 'ALL' as const },
  }));
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST' as const,
    KeySchema,
    AttributeDefinitions: [...attributes.values()],
    ...(GlobalSecondaryIndexes ? { GlobalSecondaryIndexes } : {}),
  };
}

async function waitUntilActive(client: DynamoDBClient, name: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await sleep(10);
  }
  throw new Error(`local table ${name} did not become ACTIVE`);
}
