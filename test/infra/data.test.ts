import { Match, type Template } from 'aws-cdk-lib/assertions';
import { TABLES, type TableKey } from '../../lambdas/shared/tables';
import { STACK_OUTPUTS } from '../../lib/outputs';
import { logicalIdOf, synthWarden, type Synthesized } from './synth';

let retained: Synthesized;
let destroyed: Synthesized;

beforeAll(() => {
  retained = synthWarden();
  destroyed = synthWarden({ removalPolicy: 'destroy', approvalTimeoutSeconds: 31_536_000 });
});

function keyId(): string {
  return logicalIdOf(retained.stack, retained.stack.data.key);
}
function signingKeyId(): string {
  return logicalIdOf(retained.stack, retained.stack.data.auditSigningKey);
}
function bucketId(): string {
  return logicalIdOf(retained.stack, retained.stack.data.bucket);
}

describe('KMS keys', () => {
  it('are the data key, with rotation on, and the audit signing key (ECC P-256, sign and verify only)', () => {
    retained.template.resourceCountIs('AWS::KMS::Key', 2);
    const keys = retained.template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    expect(keys[keyId()]!.Properties).toMatchObject({ EnableKeyRotation: true });
    expect(keys[keyId()]!.Properties.KeySpec).toBeUndefined();
    expect(keys[signingKeyId()]!.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', EnableKeyRotation: false });
  });

  it('denies kms:Sign with the audit key to every principal but the eight function roles', () => {
    const policy = retained.template.toJSON().Resources[signingKeyId()].Properties.KeyPolicy as { Statement: Record<string, unknown>[] };
    const deny = policy.Statement.filter((s) => s.Effect === 'Deny');
    expect(deny).toHaveLength(1);
    expect(deny[0]).toMatchObject({ Action: 'kms:Sign', Principal: { AWS: '*' }, Resource: '*' });
    const roles = (deny[0]!.Condition as { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [string, string] }[] } }).ArnNotEquals['aws:PrincipalArn'];
    const functionRoles = Object.values(retained.stack.functions.byName).map((fn) => logicalIdOf(retained.stack, fn.role!));
    expect(roles.map((arn) => arn['Fn::GetAtt'][0]).sort()).toEqual(functionRoles.sort());
    // No role but theirs holds kms:Sign on it in an identity policy either.
    const signers = Object.entries(retained.template.findResources('AWS::IAM::Policy'))
      .filter(([, resource]) => JSON.stringify(resource).includes('"kms:Sign"'))
      .flatMap(([, resource]) => (resource as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.map((r) => r.Ref));
    expect(signers.sort()).toEqual(functionRoles.sort());
  });
});

describe('state bucket', () => {
  function bucket(template: Template, id: string): Record<string, unknown> {
    return template.toJSON().Resources[id] as Record<string, unknown>;
  }

  it('uses SSE-KMS with the stack key and a bucket key', () => {
    expect(bucket(retained.template, bucketId())).toMatchObject({
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId(), 'Arn'] } },
            },
          ],
        },
      },
    });
  });

  it('blocks all public access, is versioned and owner-enforced', () => {
    expect(bucket(retained.template, bucketId())).toMatchObject({
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      },
    });
  });

  it('denies every request that is not over TLS', () => {
    retained.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires noncurrent versions and old checkpoints', () => {
    expect(bucket(retained.template, bucketId())).toMatchObject({
      Properties: {
        LifecycleConfiguration: {
          Rules: expect.arrayContaining([
            expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' }),
            expect.objectContaining({ Prefix: 'checkpoints/', ExpirationInDays: 90, Status: 'Enabled' }),
          ]),
        },
      },
    });
  });

  it('keeps checkpoints longer than the longest approval wait', () => {
    const id = logicalIdOf(destroyed.stack, destroyed.stack.data.bucket);
    const rules = (bucket(destroyed.template, id).Properties as { LifecycleConfiguration: { Rules: Record<string, unknown>[] } })
      .LifecycleConfiguration.Rules;
    const checkpoints = rules.find((rule) => rule.Prefix === 'checkpoints/');
    expect(checkpoints?.ExpirationInDays).toBeGreaterThan(365);
  });

  it('writes server access logs to a separate SSE-S3 bucket', () => {
    const logs = retained.stack.data.accessLogsBucket;
    expect(logs).toBeDefined();
    const logsId = logicalIdOf(retained.stack, logs!);
    expect(bucket(retained.template, bucketId())).toMatchObject({
      Properties: { LoggingConfiguration: { DestinationBucketName: { Ref: logsId } } },
    });
    expect(bucket(retained.template, logsId)).toMatchObject({
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      },
    });
  });

  it('is retained by default and deleted (with its objects) under removalPolicy destroy', () => {
    expect(bucket(retained.template, bucketId())).toMatchObject({ DeletionPolicy: 'Retain' });
    const id = logicalIdOf(destroyed.stack, destroyed.stack.data.bucket);
    expect(bucket(destroyed.template, id)).toMatchObject({ DeletionPolicy: 'Delete' });
    destroyed.template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });
});

describe('DynamoDB tables', () => {
  const tableKeys = Object.keys(TABLES) as TableKey[];

  function table(key: TableKey, from: Synthesized = retained): { Properties: Record<string, unknown>; DeletionPolicy?: string } {
    const id = logicalIdOf(from.stack, from.stack.data.tables[key]);
    return from.template.toJSON().Resources[id];
  }

  it('creates exactly the five tables of TABLES', () => {
    retained.template.resourceCountIs('AWS::DynamoDB::Table', 5);
    expect(tableKeys.sort()).toEqual(['audit', 'idempotency', 'records', 'requests', 'tasks']);
  });

  it.each(tableKeys)('%s has the keys of its definition', (key) => {
    const definition = TABLES[key];
    const keySchema: { AttributeName: string; KeyType: string }[] = [
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
    ];
    const attributes: { AttributeName: string; AttributeType: string }[] = [
      { AttributeName: definition.partitionKey.name, AttributeType: definition.partitionKey.type },
    ];
    if ('sortKey' in definition) {
      keySchema.push({ AttributeName: definition.sortKey.name, KeyType: 'RANGE' });
      attributes.push({ AttributeName: definition.sortKey.name, AttributeType: definition.sortKey.type });
    }
    const props = table(key).Properties;
    expect(props.KeySchema).toEqual(keySchema);
    expect(props.AttributeDefinitions).toEqual(expect.arrayContaining(attributes));
  });

  it.each(tableKeys)('%s is on-demand, encrypted with the stack key, with PITR and deletion protection', (key) => {
    expect(table(key)).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId(), 'Arn'] } },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('has no deletion protection when removalPolicy is destroy', () => {
    for (const key of tableKeys) {
      expect(table(key, destroyed)).toMatchObject({ DeletionPolicy: 'Delete', Properties: { DeletionProtectionEnabled: false } });
    }
  });

  it('indexes approval tasks by status and creation time (GSI byStatus)', () => {
    expect(table('tasks').Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byStatus',
        KeySchema: [
          { AttributeName: 'status', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  it('indexes requests by requester and, for auditors, all of them, each newest first by createdAt', () => {
    expect(table('requests').Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byRequester',
        KeySchema: [
          { AttributeName: 'requestedBy', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'byCreation',
        KeySchema: [
          { AttributeName: 'timeline', KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(table('requests').Properties.KeySchema).toEqual([{ AttributeName: 'requestId', KeyType: 'HASH' }]);
  });

  it('expires idempotency records by their TTL attribute, and only those', () => {
    expect(table('idempotency').Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
    for (const key of tableKeys.filter((k) => k !== 'idempotency')) {
      expect(table(key).Properties.TimeToLiveSpecification).toBeUndefined();
    }
  });

  it('outputs the system-of-record table name under the key npm run seed looks up', () => {
    const outputs = retained.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(STACK_OUTPUTS.recordsTable).toBe('SystemOfRecordTableName');
    expect(outputs[STACK_OUTPUTS.recordsTable]?.Value).toEqual({ Ref: logicalIdOf(retained.stack, retained.stack.data.tables.records) });
  });
});
