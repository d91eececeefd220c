/**
 * The stores' names and keys, as plain data: the CDK data construct creates them from this,
 * the local runtime creates the same tables in its emulator, and the adapters read the
 * physical names from the environment variables named here. Keys cannot drift.
 */

export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface TableDefinition {
  /** Logical name: the CDK construct id and the local table name's suffix. */
  readonly logicalName: string;
  /** The environment variable that carries the physical table name to a Lambda. */
  readonly envVar: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly timeToLiveAttribute?: string;
  readonly globalSecondaryIndexes?: readonly {
    readonly indexName: string;
    readonly partitionKey: KeyAttribute;
    readonly sortKey?: KeyAttribute;
  }[];
}

export const TABLES = {
  requests: {
    logicalName: 'Requests',
    envVar: 'REQUESTS_TABLE',
    partitionKey: { name: 'requestId', type: 'S' },
    // GET /v1/requests, newest first. A stack deployed before these indexes existed gets both in
    // one update, which CloudFormation refuses (one GSI creation per update): deploy one, then both.
    globalSecondaryIndexes: [
      {
        // A requester's own requests. Both keys are attributes every request has always had,
        // so the index covers requests written before it existed.
        indexName: 'byRequester',
        partitionKey: { name: 'requestedBy', type: 'S' },
        sortKey: { name: 'createdAt', type: 'S' },
      },
      {
        // Everyone's, for auditors: one constant partition (`REQUESTS_TIMELINE`), so a page is one
        // Query in creation order. A GSI partition takes about 1,000 writes/s and a request is
        // written some ten times in its life: ~100 requests/s, far above an approval workflow's
        // rate. Sharding it would make every page a merge of one Query per shard.
        indexName: 'byCreation',
        partitionKey: { name: 'timeline', type: 'S' },
        sortKey: { name: 'createdAt', type: 'S' },
      },
    ],
  },
  tasks: {
    logicalName: 'ApprovalTasks',
    envVar: 'TASKS_TABLE',
    partitionKey: { name: 'taskId', type: 'S' },
    globalSecondaryIndexes: [
      {
        indexName: 'byStatus',
        partitionKey: { name: 'status', type: 'S' },
        sortKey: { name: 'createdAt', type: 'S' },
      },
    ],
  },
  audit: {
    logicalName: 'Audit',
    envVar: 'AUDIT_TABLE',
    partitionKey: { name: 'requestId', type: 'S' },
    sortKey: { name: 'seq', type: 'N' },
  },
  idempotency: {
    logicalName: 'Idempotency',
    envVar: 'IDEMPOTENCY_TABLE',
    partitionKey: { name: 'id', type: 'S' },
    timeToLiveAttribute: 'expiration',
  },
  records: {
    logicalName: 'SystemOfRecord',
    envVar: 'RECORDS_TABLE',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
  },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;

export const TASKS_BY_STATUS_INDEX = TABLES.tasks.globalSecondaryIndexes[0].indexName;
export const REQUESTS_BY_REQUESTER_INDEX = TABLES.requests.globalSecondaryIndexes[0].indexName;
export const REQUESTS_BY_CREATION_INDEX = TABLES.requests.globalSecondaryIndexes[1].indexName;
/** The attribute and value that put a request in the `byCreation` index (the adapter writes it). */
export const REQUESTS_TIMELINE = { attribute: TABLES.requests.globalSecondaryIndexes[1].partitionKey.name, value: 'all' } as const;

export const STATE_BUCKET_ENV = 'STATE_BUCKET';
export const STATE_KEY_ENV = 'STATE_KMS_KEY_ID';
export const STATE_MACHINE_ARN_ENV = 'STATE_MACHINE_ARN';
/** The asymmetric KMS key (its ARN) that signs each request's audit head. */
export const AUDIT_SIGNING_KEY_ENV = 'AUDIT_SIGNING_KEY_ID';

/** S3 key of a dehydrated workflow state. Both ids are validated before they get here. */
export function checkpointKey(requestId: string, taskId: string): string {
  return `checkpoints/${requestId}/${taskId}.json`;
}

/**
 * Seed data for the example system of record (DESIGN.md §3): what local mode loads into a
 * new data directory, what the tests start from, and what `npm run seed` loads into a deployed stack.
 * These are the records several actions read; an action's own (a refund's orders) are declared by
 * its builtin connector (`builtin.seed`) and loaded after these.
 */
export const SEED = {
  vendors: [
    { name: 'Alpha Tech Systems', validated: true },
    { name: 'Globex Corporation', validated: true },
    { name: 'Initech', validated: true },
    { name: 'Umbrella Supplies', validated: false },
  ],
  customers: [
    { customerId: 'C-1001', tier: 'basic' },
    { customerId: 'C-1002', tier: 'standard' },
    { customerId: 'C-1003', tier: 'premium' },
  ],
} as const;
