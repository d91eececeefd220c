import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../lambdas/shared/adapters/aws/auditLog';
import { KmsAuditSigner } from '../../lambdas/shared/adapters/aws/auditSigner';
import { createDocumentClient, createKmsClient, createS3Client } from '../../lambdas/shared/adapters/aws/clients';
import { DynamoIdempotencyStore } from '../../lambdas/shared/adapters/aws/idempotencyStore';
import { DynamoRequestStore } from '../../lambdas/shared/adapters/aws/requestStore';
import { S3StateStore } from '../../lambdas/shared/adapters/aws/stateStore';
import { DynamoSystemOfRecord } from '../../lambdas/shared/adapters/aws/systemOfRecord';
import { DynamoTaskIndex } from '../../lambdas/shared/adapters/aws/taskIndex';
import type { Clock } from '../../lambdas/shared/ports';
import { TABLES } from '../../lambdas/shared/tables';
import { createTable, LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type Emulators } from '../../local/emulators';

/** A clock a test can move; starts at the real time so ISO comparisons with fresh data hold. */
export class TestClock implements Clock {
  private current = new Date();
  now(): Date {
    return new Date(this.current);
  }
  set(date: Date | string): void {
    this.current = new Date(date);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  reset(): void {
    this.current = new Date();
  }
}

export interface EmulatedStores {
  emulators: Emulators;
  doc: DynamoDBDocumentClient;
  s3: S3Client;
  /** The audit log's signer, on the emulators' stand-in key. */
  signer: KmsAuditSigner;
  /** Shared by the adapters that read time (task deadlines, idempotency expiry, audit). */
  clock: TestClock;
  requests: DynamoRequestStore;
  tasks: DynamoTaskIndex;
  state: S3StateStore;
  audit: DynamoAuditLog;
  idempotency: DynamoIdempotencyStore;
  records: DynamoSystemOfRecord;
}

/**
 * Starts one emulator set for the calling test file (beforeAll) and stops it (afterAll).
 * Clients get explicit endpoints and credentials, so test files never share process.env.
 * Returns an accessor: the stores exist only once beforeAll has run.
 */
export function useEmulatedStores(): () => EmulatedStores {
  let stores: EmulatedStores | undefined;

  beforeAll(async () => {
    const emulators = await startEmulators();
    const options = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const doc = createDocumentClient({ ...options, endpoint: emulators.endpoints.dynamodb });
    const s3 = createS3Client({ ...options, endpoint: emulators.endpoints.s3 }, {});
    const kms = createKmsClient({ ...options, endpoint: emulators.endpoints.kms });
    const signer = new KmsAuditSigner(kms, emulators.auditSigningKeyId);
    const clock = new TestClock();
    const t = emulators.tableNames;
    stores = {
      emulators,
      doc,
      s3,
      signer,
      clock,
      requests: new DynamoRequestStore(doc, t.requests, clock),
      tasks: new DynamoTaskIndex(doc, t.tasks, clock),
      state: new S3StateStore(s3, emulators.bucket, { kmsKeyId: 'alias/warden-test' }),
      audit: new DynamoAuditLog(doc, t.audit, signer, { clock }),
      idempotency: new DynamoIdempotencyStore(doc, t.idempotency, clock),
      records: new DynamoSystemOfRecord(doc, t.records),
    };
  });

  // Each test starts at the real time, whatever the previous one did to the clock.
  beforeEach(() => stores?.clock.reset());

  afterAll(async () => {
    if (!stores) return;
    stores.doc.destroy();
    stores.s3.destroy();
    stores.signer.kms.destroy();
    await stores.emulators.stop();
    stores = undefined;
  });

  return () => {
    if (!stores) throw new Error('emulated stores are used outside a test (beforeAll has not run)');
    return stores;
  };
}

/** An empty system-of-record table named `name` on these emulators (for tests that seed one). */
export async function createRecordsTable(stores: EmulatedStores, name: string): Promise<string> {
  const client = new DynamoDBClient({ endpoint: stores.emulators.endpoints.dynamodb, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    await createTable(client, name, TABLES.records);
  } finally {
    client.destroy();
  }
  return name;
}

/** Every item of a table, read consistently. */
export async function scanTable(stores: EmulatedStores, tableName: string) {
  const { Items = [] } = await stores.doc.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
  return Items;
}
