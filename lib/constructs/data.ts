import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TABLES, type KeyAttribute, type TableDefinition, type TableKey } from '../../lambdas/shared/tables';

/** The S3 prefix that holds dehydrated workflow states (see `checkpointKey` in tables.ts). */
export const CHECKPOINT_PREFIX = 'checkpoints/';

export interface WardenDataProps {
  readonly removalPolicy: RemovalPolicy;
  /**
   * The approval wait's timeout: a checkpoint must outlive it, so checkpoints expire only
   * after this plus a margin (and never before 90 days).
   */
  readonly approvalTimeoutSeconds: number;
  /**
   * Write S3 server access logs of the state bucket to a separate bucket.
   * @default true
   */
  readonly serverAccessLogs?: boolean;
}

/**
 * The stores: one customer-managed KMS key, the checkpoint bucket and the DynamoDB tables,
 * created from `TABLES` so the keys here and in the local runtime cannot drift.
 */
export class WardenData extends Construct {
  readonly key: Key;
  /**
   * Signs each request's audit chain head. Asymmetric, so that anyone may verify with the public
   * half while only the Lambdas that append may sign (`bindAuditLog`, and the key policy).
   */
  readonly auditSigningKey: Key;
  readonly bucket: Bucket;
  readonly accessLogsBucket?: Bucket;
  readonly tables: { readonly [K in TableKey]: Table };

  constructor(scope: Construct, id: string, props: WardenDataProps) {
    super(scope, id);
    const retain = props.removalPolicy === RemovalPolicy.RETAIN;

    this.key = new Key(this, 'Key', {
      description: 'Warden: encrypts workflow checkpoints and the DynamoDB tables',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });

    this.auditSigningKey = new Key(this, 'AuditSigningKey', {
      description: 'Warden: signs each request audit chain head (kms:Sign only for the Lambdas that append)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      // KMS rotates symmetric keys only; heads name the key that signed them.
      enableKeyRotation: false,
      removalPolicy: props.removalPolicy,
    });

    if (props.serverAccessLogs ?? true) {
      // Access-log delivery only supports SSE-S3 on the target bucket, not SSE-KMS.
      this.accessLogsBucket = new Bucket(this, 'AccessLogsBucket', {
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
        removalPolicy: props.removalPolicy,
        autoDeleteObjects: !retain,
      });
    }

    const checkpointDays = Math.max(90, Math.ceil(props.approvalTimeoutSeconds / 86_400) + 30);
    this.bucket = new Bucket(this, 'StateBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: this.accessLogsBucket ? 'state-bucket/' : undefined,
      lifecycleRules: [
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(90) },
        { id: 'expire-old-checkpoints', prefix: CHECKPOINT_PREFIX, expiration: Duration.days(checkpointDays) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: !retain,
    });

    const tables = {} as { [K in TableKey]: Table };
    for (const tableKey of Object.keys(TABLES) as TableKey[]) {
      tables[tableKey] = this.createTable(TABLES[tableKey], props.removalPolicy);
    }
    this.tables = tables;
  }

  private createTable(definition: TableDefinition, removalPolicy: RemovalPolicy): Table {
    const table = new Table(this, definition.logicalName, {
      partitionKey: attribute(definition.partitionKey),
      sortKey: definition.sortKey && attribute(definition.sortKey),
      timeToLiveAttribute: definition.timeToLiveAttribute,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    for (const index of definition.globalSecondaryIndexes ?? []) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: index.sortKey && attribute(index.sortKey),
      });
    }
    return table;
  }
}

function attribute(key: KeyAttribute): { name: string; type: AttributeType } {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}
