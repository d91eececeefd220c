import { vaultKey } from '../../lambdas/shared/adapters/aws/stateStore';
import { newRequestId, taskIdFor } from '../../lambdas/shared/ids';
import { AUDIT_SIGNING_KEY_ENV, checkpointKey, TABLES, type TableKey } from '../../lambdas/shared/tables';
import { DEFAULT_MODEL_IDS } from '../../lib/config';
import { FUNCTION_NAMES, STATE_OBJECT_PATTERNS, bindTable, type FunctionName } from '../../lib/constructs/functions';
import {
  logicalIdOf,
  refersTo,
  roleOfFunction,
  statementsByRole,
  synthWarden,
  type Statement,
  type Synthesized,
} from './synth';

let synth: Synthesized;
let statements: Map<string, Statement[]>;

beforeAll(() => {
  synth = synthWarden();
  statements = statementsByRole(synth.template);
});

function functionId(name: FunctionName, from: Synthesized = synth): string {
  return logicalIdOf(from.stack, from.stack.functions.byName[name]);
}

function functionProps(name: FunctionName): Record<string, unknown> {
  return synth.template.toJSON().Resources[functionId(name)].Properties;
}

function statementsOf(name: FunctionName, from: Synthesized = synth, byRole = statements): Statement[] {
  return byRole.get(roleOfFunction(from.template, functionId(name, from))) ?? [];
}

/** The DynamoDB actions a function has on each table, by TABLES key. */
function tableActions(name: FunctionName): Partial<Record<TableKey, string[]>> {
  const result: Partial<Record<TableKey, string[]>> = {};
  for (const key of Object.keys(TABLES) as TableKey[]) {
    const tableId = logicalIdOf(synth.stack, synth.stack.data.tables[key]);
    const actions = statementsOf(name)
      .filter((s) => s.resources.some((r) => refersTo(r, tableId)))
      .flatMap((s) => s.actions)
      .filter((a) => a.startsWith('dynamodb:'))
      .map((a) => a.replace('dynamodb:', ''));
    if (actions.length > 0) result[key] = [...new Set(actions)].sort();
  }
  return result;
}

describe('every Warden Lambda', () => {
  it('is one of the nine named functions, and there are no others', () => {
    expect(FUNCTION_NAMES).toHaveLength(9);
    synth.template.resourceCountIs('AWS::Lambda::Function', FUNCTION_NAMES.length);
  });

  it.each(FUNCTION_NAMES)('%s runs Node 24 on arm64 with active tracing and its handler', (name) => {
    expect(functionProps(name)).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
    });
  });

  it.each(FUNCTION_NAMES)('%s logs to its own log group with the configured retention', (name) => {
    const logGroupRef = (functionProps(name).LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const logGroup = synth.template.toJSON().Resources[logGroupRef];
    expect(logGroup).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain' });
    const logStatements = statementsOf(name).filter((s) => s.actions.some((a) => a.startsWith('logs:')));
    expect(logStatements).toEqual([
      expect.objectContaining({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [{ 'Fn::GetAtt': [logGroupRef, 'Arn'] }],
      }),
    ]);
  });

  it.each(FUNCTION_NAMES)('%s has the Powertools environment and never logs events', (name) => {
    const variables = (functionProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: `warden-${name}`,
      POWERTOOLS_METRICS_NAMESPACE: 'Warden',
      POWERTOOLS_LOGGER_LOG_EVENT: 'false',
    });
    // Source maps at init cost every cold start (npm run bench measures it): the map ships, the flag does not.
    expect(variables.NODE_OPTIONS).toBeUndefined();
  });

  it('gives the inference function more time than the 10 s default', () => {
    expect(functionProps('inference').Timeout).toBe(30);
    expect(functionProps('validation')).toMatchObject({ Timeout: 10, MemorySize: 512 });
  });
});

describe('reserved concurrency (a ceiling where a runaway costs money)', () => {
  const reservedOf = (from: Synthesized) =>
    Object.fromEntries(
      FUNCTION_NAMES.map((name) => [name, from.template.toJSON().Resources[functionId(name, from)].Properties.ReservedConcurrentExecutions ?? null]),
    );

  it('caps the inference function (Bedrock calls) at 10 by default, and nothing else', () => {
    expect(reservedOf(synth)).toEqual({
      gateway: null,
      triage: null,
      inference: 10,
      validation: null,
      dehydrate: null,
      approval: null,
      execution: null,
      finalize: null,
      mcp: null,
    });
  });

  it('follows the config: another cap, a new one, or none', () => {
    const custom = synthWarden({ reservedConcurrency: { inference: 3, gateway: 25 } });
    expect(reservedOf(custom)).toMatchObject({ inference: 3, gateway: 25, approval: null });
    const lifted = synthWarden({ reservedConcurrency: { inference: null } });
    expect(Object.values(reservedOf(lifted)).every((cap) => cap === null)).toBe(true);
  });
});

describe('environment from the bind helpers', () => {
  it.each(FUNCTION_NAMES)('%s gets a table env var exactly for the tables it may touch', (name) => {
    const variables = (functionProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
    const granted = Object.keys(tableActions(name)) as TableKey[];
    for (const key of Object.keys(TABLES) as TableKey[]) {
      const tableId = logicalIdOf(synth.stack, synth.stack.data.tables[key]);
      if (granted.includes(key)) expect(variables[TABLES[key].envVar]).toEqual({ Ref: tableId });
      else expect(variables[TABLES[key].envVar]).toBeUndefined();
    }
  });

  it.each(['gateway', 'mcp'] as const)('passes %s its orchestration settings', (name) => {
    const variables = (functionProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      APPROVAL_TIMEOUT_SECONDS: '604800',
      ROLE_CLAIM: 'cognito:groups',
      STATE_MACHINE_ARN: { Ref: logicalIdOf(synth.stack, synth.stack.workflow.stateMachine) },
    });
  });

  it('passes mcp the issuer, audience and JWKS the JWT authorizer trusts, and no other function any', () => {
    const env = (name: FunctionName) => (functionProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
    const poolId = logicalIdOf(synth.stack, synth.stack.identity.userPool!);
    const clientId = logicalIdOf(synth.stack, synth.stack.identity.userPoolClient!);
    const [authorizer] = Object.values(synth.template.findResources('AWS::ApiGatewayV2::Authorizer')) as { Properties: { JwtConfiguration: { Issuer: unknown; Audience: unknown[] } } }[];
    expect(env('mcp')).toMatchObject({
      JWT_ISSUER: authorizer.Properties.JwtConfiguration.Issuer,
      JWT_AUDIENCE: authorizer.Properties.JwtConfiguration.Audience[0],
      JWT_JWKS_URL: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [poolId, 'ProviderURL'] }, '/.well-known/jwks.json']] },
    });
    expect(authorizer.Properties.JwtConfiguration).toEqual({ Issuer: { 'Fn::GetAtt': [poolId, 'ProviderURL'] }, Audience: [{ Ref: clientId }] });
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'mcp')) expect(Object.keys(env(name)).filter((k) => k.startsWith('JWT_'))).toEqual([]);
  });

  it('gives mcp an external issuer and all its audiences, with no JWKS URL (found by OIDC discovery, as the authorizer does)', () => {
    const external = synthWarden({ auth: { issuer: 'https://idp.example.com/realms/warden', audience: ['warden-api', 'warden-cli'], roleClaim: 'roles' } });
    const id = logicalIdOf(external.stack, external.stack.functions.byName.mcp);
    const variables = external.template.toJSON().Resources[id].Properties.Environment.Variables as Record<string, unknown>;
    expect(variables).toMatchObject({ JWT_ISSUER: 'https://idp.example.com/realms/warden', JWT_AUDIENCE: 'warden-api,warden-cli', ROLE_CLAIM: 'roles' });
    expect(variables.JWT_JWKS_URL).toBeUndefined();
  });

  it('passes model, threshold, bucket and role-claim settings to the functions that use them', () => {
    const env = (name: FunctionName) => (functionProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env('inference')).toMatchObject({
      MODEL_PROVIDER: 'bedrock',
      MODEL_ID_LOW: 'global.anthropic.claude-haiku-4-5-20251001-v1:0',
      MODEL_ID_HIGH: 'global.anthropic.claude-sonnet-4-6',
    });
    expect(env('validation')).toMatchObject({ CONFIDENCE_THRESHOLD: '0.95' });
    expect(env('approval')).toMatchObject({ ROLE_CLAIM: 'cognito:groups' });
    const bucketId = logicalIdOf(synth.stack, synth.stack.data.bucket);
    const bucketUsers: FunctionName[] = ['gateway', 'dehydrate', 'approval', 'execution', 'finalize', 'mcp'];
    for (const name of bucketUsers) {
      expect(env(name)).toMatchObject({
        STATE_BUCKET: { Ref: bucketId },
        STATE_KMS_KEY_ID: { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.data.key), 'Arn'] },
      });
    }
    for (const name of FUNCTION_NAMES.filter((n) => !bucketUsers.includes(n))) {
      expect(env(name).STATE_BUCKET).toBeUndefined();
    }
  });
});

describe('least privilege per function', () => {
  const expected: Record<FunctionName, Partial<Record<TableKey, string[]>>> = {
    gateway: {
      requests: ['GetItem', 'PutItem', 'Query', 'UpdateItem'],
      audit: ['GetItem', 'PutItem', 'Query'],
      idempotency: ['DeleteItem', 'GetItem', 'PutItem'],
    },
    triage: { audit: ['GetItem', 'PutItem', 'Query'] },
    inference: { requests: ['UpdateItem'], audit: ['GetItem', 'PutItem', 'Query'] },
    validation: { records: ['BatchGetItem', 'GetItem', 'Query', 'UpdateItem'], requests: ['UpdateItem'], audit: ['GetItem', 'PutItem', 'Query'] },
    dehydrate: { tasks: ['GetItem', 'PutItem'], requests: ['UpdateItem'], audit: ['GetItem', 'PutItem', 'Query'] },
    approval: { tasks: ['GetItem', 'Query', 'UpdateItem'], requests: ['GetItem', 'UpdateItem'], audit: ['GetItem', 'PutItem', 'Query'] },
    execution: { records: ['BatchGetItem', 'DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'], audit: ['GetItem', 'PutItem', 'Query'] },
    finalize: { records: ['BatchGetItem', 'GetItem', 'UpdateItem'], requests: ['GetItem', 'UpdateItem'], tasks: ['UpdateItem'], audit: ['GetItem', 'PutItem', 'Query'] },
    // The gateway's submit and view code, so the gateway's stores and nothing else.
    mcp: {
      requests: ['GetItem', 'PutItem', 'Query', 'UpdateItem'],
      audit: ['GetItem', 'PutItem', 'Query'],
      idempotency: ['DeleteItem', 'GetItem', 'PutItem'],
    },
  };

  it.each(['validation', 'finalize'] as const)('%s may write only the cumulative ledger\'s items (LIMIT#…) in the record table', (name) => {
    const tableId = logicalIdOf(synth.stack, synth.stack.data.tables.records);
    const writes = statementsOf(name).filter((s) => s.resources.some((r) => refersTo(r, tableId)) && s.actions.includes('dynamodb:UpdateItem'));
    expect(writes.length).toBeGreaterThan(0);
    for (const statement of writes) {
      expect(statement.condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['LIMIT#*'] } });
    }
  });

  it('finalize reads only effect claims (EFFECT#…) in the record table', () => {
    const tableId = logicalIdOf(synth.stack, synth.stack.data.tables.records);
    const reads = statementsOf('finalize').filter((s) => s.resources.some((r) => refersTo(r, tableId)) && s.actions.includes('dynamodb:GetItem'));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'], condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['EFFECT#*'] } } });
  });

  it.each(FUNCTION_NAMES)('%s has exactly its DynamoDB actions, table by table', (name) => {
    expect(tableActions(name)).toEqual(expected[name]);
  });

  it.each(FUNCTION_NAMES)('%s uses no AWS service beyond what it needs', (name) => {
    const services = new Set(statementsOf(name).flatMap((s) => s.actions.map((a) => a.split(':')[0])));
    const base = ['dynamodb', 'kms', 'logs', 'xray'];
    const extra: Partial<Record<FunctionName, string[]>> = {
      gateway: ['s3', 'states'],
      inference: ['bedrock'],
      dehydrate: ['s3'],
      approval: ['s3', 'states'],
      execution: ['s3'],
      finalize: ['s3'],
      mcp: ['s3', 'states'],
    };
    expect([...services].sort()).toEqual([...base, ...(extra[name] ?? [])].sort());
  });

  it('lets approval query only the tasks table and its byStatus index', () => {
    const tasksId = logicalIdOf(synth.stack, synth.stack.data.tables.tasks);
    const query = statementsOf('approval').filter((s) => s.actions.includes('dynamodb:Query') && refersTo(s.resources, tasksId));
    expect(query).toHaveLength(1);
    expect(query[0].resources).toEqual([
      { 'Fn::GetAtt': [tasksId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tasksId, 'Arn'] }, '/index/byStatus']] },
    ]);
  });

  it('lets the gateway query only the requests table and its byRequester and byCreation indexes, and write nothing there', () => {
    const requestsId = logicalIdOf(synth.stack, synth.stack.data.tables.requests);
    const onRequests = statementsOf('gateway').filter((s) => refersTo(s.resources, requestsId));
    const query = onRequests.filter((s) => s.actions.includes('dynamodb:Query'));
    expect(query).toHaveLength(1);
    expect(query[0]).toMatchObject({ actions: ['dynamodb:Query'] });
    expect(query[0].resources).toHaveLength(3);
    expect(query[0].resources).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [requestsId, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [requestsId, 'Arn'] }, '/index/byRequester']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [requestsId, 'Arn'] }, '/index/byCreation']] },
      ]),
    );
    // The item writes stay on the table itself, never on an index.
    for (const statement of onRequests.filter((s) => s !== query[0])) {
      expect(statement.resources).toEqual([{ 'Fn::GetAtt': [requestsId, 'Arn'] }]);
    }
  });

  it('lets dehydrate write and approval read checkpoints, the gateway write and execution/finalize read the PII vault, nothing more', () => {
    const bucketId = logicalIdOf(synth.stack, synth.stack.data.bucket);
    const objects = (pattern: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${pattern}`]] });
    const checkpoints = objects('checkpoints/*/t_*.json');
    const vault = objects('checkpoints/*/vault.json');
    const s3 = (name: FunctionName) =>
      statementsOf(name)
        .filter((s) => s.actions.some((a) => a.startsWith('s3:')))
        .map((s) => ({ actions: s.actions, resources: s.resources }));
    expect(s3('dehydrate')).toEqual([{ actions: ['s3:PutObject'], resources: [checkpoints] }]);
    expect(s3('approval')).toEqual([{ actions: ['s3:GetObject'], resources: [checkpoints] }]);
    expect(s3('gateway')).toEqual([{ actions: ['s3:PutObject'], resources: [vault] }]);
    expect(s3('mcp')).toEqual([{ actions: ['s3:PutObject'], resources: [vault] }]);
    expect(s3('execution')).toEqual([{ actions: ['s3:GetObject'], resources: [vault] }]);
    expect(s3('finalize')).toEqual([{ actions: ['s3:GetObject'], resources: [vault] }]);
  });

  it('grants object patterns that cover exactly the keys the adapters build (checkpoints and vaults never overlap)', () => {
    // IAM's `*` matches any characters, `/` included.
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    const requestId = newRequestId();
    const checkpoint = checkpointKey(requestId, taskIdFor(requestId));
    const vault = vaultKey(requestId);
    expect(glob(STATE_OBJECT_PATTERNS.checkpoint).test(checkpoint)).toBe(true);
    expect(glob(STATE_OBJECT_PATTERNS.checkpoint).test(vault)).toBe(false);
    expect(glob(STATE_OBJECT_PATTERNS.vault).test(vault)).toBe(true);
    expect(glob(STATE_OBJECT_PATTERNS.vault).test(checkpoint)).toBe(false);
  });

  it('scopes every KMS grant to the stack key through DynamoDB or S3, or to signing with the audit key', () => {
    const keyArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.data.key), 'Arn'] };
    const signingKeyArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.data.auditSigningKey), 'Arn'] };
    for (const name of FUNCTION_NAMES) {
      const kms = statementsOf(name).filter((s) => s.actions.some((a) => a.startsWith('kms:')));
      expect(kms.length).toBeGreaterThan(0);
      const signing = kms.filter((s) => s.actions.includes('kms:Sign'));
      expect(signing).toEqual([expect.objectContaining({ actions: ['kms:GetPublicKey', 'kms:Sign'], resources: [signingKeyArn] })]);
      expect(signing[0]!.condition).toBeUndefined();
      for (const statement of kms.filter((s) => !signing.includes(s))) {
        expect(statement.resources).toEqual([keyArn]);
        expect(statement.actions.every((a) => a.startsWith('kms:') && !a.includes('*'))).toBe(true);
        const via = (statement.condition?.StringEquals as Record<string, string> | undefined)?.['kms:ViaService'];
        expect(['dynamodb.us-east-1.amazonaws.com', 's3.us-east-1.amazonaws.com']).toContain(via);
      }
    }
  });

  it('hands every function that appends to the audit table the signing key it signs heads with', () => {
    const signingKeyArn = { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.data.auditSigningKey), 'Arn'] };
    for (const name of FUNCTION_NAMES) {
      expect(tableActions(name).audit).toContain('PutItem');
      const variables = (functionProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables[AUDIT_SIGNING_KEY_ENV]).toEqual(signingKeyArn);
    }
  });

  it('gives S3-side KMS use per direction: dehydrate encrypts, approval decrypts', () => {
    const viaS3 = (name: FunctionName) =>
      statementsOf(name)
        .filter((s) => JSON.stringify(s.condition ?? {}).includes('s3.us-east-1'))
        .flatMap((s) => s.actions)
        .sort();
    expect(viaS3('dehydrate')).toEqual(['kms:Encrypt', 'kms:GenerateDataKey']);
    expect(viaS3('gateway')).toEqual(['kms:Encrypt', 'kms:GenerateDataKey']);
    expect(viaS3('mcp')).toEqual(['kms:Encrypt', 'kms:GenerateDataKey']);
    expect(viaS3('approval')).toEqual(['kms:Decrypt']);
    expect(viaS3('execution')).toEqual(['kms:Decrypt']);
    expect(viaS3('finalize')).toEqual(['kms:Decrypt']);
    expect(viaS3('validation')).toEqual([]);
  });

  it.each(['gateway', 'mcp'] as const)('lets %s start executions of the state machine, nothing else in Step Functions', (name) => {
    const states = statementsOf(name).filter((s) => s.actions.some((a) => a.startsWith('states:')));
    expect(states).toEqual([
      expect.objectContaining({
        actions: ['states:StartExecution'],
        resources: [{ Ref: logicalIdOf(synth.stack, synth.stack.workflow.stateMachine) }],
      }),
    ]);
  });

  it('lets the approval function resume task tokens (Resource "*" is all Step Functions accepts)', () => {
    const states = statementsOf('approval').filter((s) => s.actions.some((a) => a.startsWith('states:')));
    expect(states).toEqual([
      expect.objectContaining({
        actions: ['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess'],
        resources: ['*'],
      }),
    ]);
  });

  it('grants InvokeModel on exactly the two default global profiles and the models behind them', () => {
    const bedrock = statementsOf('inference').filter((s) => s.actions.some((a) => a.startsWith('bedrock:')));
    expect(bedrock).toHaveLength(1);
    expect(bedrock[0].actions).toEqual(['bedrock:InvokeModel']);
    // A global profile: the profile in this region, the model in any region, and the region-less model ARN.
    expect([...bedrock[0].resources].sort()).toEqual([
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0',
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6',
      'arn:aws:bedrock:::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0',
      'arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-6',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-6',
    ]);
  });

  it('refuses to grant anything but reads and appends on the audit table', () => {
    const triage = synth.stack.functions.byName.triage;
    for (const action of ['UpdateItem', 'DeleteItem', 'BatchWriteItem'] as const) {
      expect(() => bindTable(triage, synth.stack.data, 'audit', [action])).toThrow(/audit table is append-only/);
    }
  });
});

describe('model grants by config', () => {
  it('grants both the inference-profile ARN and the foundation-model ARNs for profile ids', () => {
    const profiled = synthWarden({
      modelIds: {
        low: 'us.anthropic.claude-3-haiku-20240307-v1:0',
        high: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
      },
    });
    const bedrock = statementsOf('inference', profiled, statementsByRole(profiled.template)).filter((s) =>
      s.actions.includes('bedrock:InvokeModel'),
    );
    expect(bedrock).toHaveLength(1);
    expect([...bedrock[0].resources].sort()).toEqual([
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0',
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0',
    ]);
  });

  it('gives the inference function the OpenAI-compatible server, and no Bedrock access', () => {
    const openai = synthWarden({
      modelProvider: 'openai-compatible',
      openAiBaseUrl: 'https://llm.internal.example.com/v1',
      modelIds: { low: 'qwen2.5:7b-instruct', high: 'Qwen/Qwen2.5-72B-Instruct' },
    });
    const all = [...statementsByRole(openai.template).values()].flat();
    expect(all.flatMap((s) => s.actions).filter((a) => a.startsWith('bedrock:'))).toEqual([]);
    const resources = openai.template.toJSON().Resources;
    expect(resources[functionId('inference', openai)].Properties.Environment.Variables).toMatchObject({
      MODEL_PROVIDER: 'openai-compatible',
      OPENAI_BASE_URL: 'https://llm.internal.example.com/v1',
      MODEL_ID_LOW: 'qwen2.5:7b-instruct',
      MODEL_ID_HIGH: 'Qwen/Qwen2.5-72B-Instruct',
    });
    // Only the inference function talks to the model server.
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'inference')) {
      expect(resources[functionId(name, openai)].Properties.Environment?.Variables?.OPENAI_BASE_URL).toBeUndefined();
    }
  });

  it('grants no Bedrock access with the rules provider', () => {
    const rules = synthWarden({ modelProvider: 'rules' });
    const all = [...statementsByRole(rules.template).values()].flat();
    expect(all.flatMap((s) => s.actions).filter((a) => a.startsWith('bedrock:'))).toEqual([]);
    const inference = rules.template.toJSON().Resources[functionId('inference', rules)];
    expect(inference.Properties.Environment.Variables.MODEL_PROVIDER).toBe('rules');
  });
});

describe('model settings read at run time (SSM parameters, the API key secret)', () => {
  const { low: HAIKU, high: SONNET } = DEFAULT_MODEL_IDS;
  const NOVA = 'us.amazon.nova-lite-v1:0';
  const OPENAI = {
    modelProvider: 'openai-compatible',
    openAiBaseUrl: 'https://llm.internal.example.com/v1',
    modelIds: { low: 'qwen2.5:7b-instruct', high: 'Qwen/Qwen2.5-72B-Instruct' },
  };

  const variablesOf = (name: FunctionName, from: Synthesized): Record<string, unknown> =>
    from.template.toJSON().Resources[functionId(name, from)].Properties.Environment?.Variables ?? {};
  /** Every statement of every role that has one of the service's actions. */
  const serviceStatements = (from: Synthesized, service: string) =>
    [...statementsByRole(from.template).entries()].flatMap(([role, list]) =>
      list.filter((s) => s.actions.some((a) => a.startsWith(`${service}:`))).map((statement) => ({ role, statement })),
    );
  const inferenceRole = (from: Synthesized) => roleOfFunction(from.template, functionId('inference', from));

  let swappable: Synthesized;
  beforeAll(() => {
    swappable = synthWarden({
      modelIdParameters: { low: '/warden/model/low', high: '/warden/model/high' },
      allowedModelIds: [HAIKU, SONNET, NOVA],
    });
  });

  it('gives the inference function the parameters and the allowed ids, and nothing to any other function', () => {
    expect(variablesOf('inference', swappable)).toMatchObject({
      MODEL_ID_LOW: HAIKU,
      MODEL_ID_HIGH: SONNET,
      MODEL_ID_LOW_PARAMETER: '/warden/model/low',
      MODEL_ID_HIGH_PARAMETER: '/warden/model/high',
    });
    expect(JSON.parse(variablesOf('inference', swappable).MODEL_IDS_ALLOWED as string)).toEqual([HAIKU, SONNET, NOVA]);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'inference')) {
      const variables = Object.keys(variablesOf(name, swappable));
      expect(variables.filter((v) => v.startsWith('MODEL_'))).toEqual([]);
    }
  });

  it('grants ssm:GetParameter on exactly the two parameters, to the inference role only', () => {
    expect(serviceStatements(swappable, 'ssm')).toEqual([
      {
        role: inferenceRole(swappable),
        statement: expect.objectContaining({
          effect: 'Allow',
          actions: ['ssm:GetParameter'],
          resources: expect.arrayContaining([
            'arn:aws:ssm:us-east-1:123456789012:parameter/warden/model/low',
            'arn:aws:ssm:us-east-1:123456789012:parameter/warden/model/high',
          ]),
        }),
      },
    ]);
    expect(serviceStatements(swappable, 'ssm')[0].statement.resources).toHaveLength(2);
  });

  it('grants InvokeModel on every model the parameters may name (and no other)', () => {
    const bedrock = serviceStatements(swappable, 'bedrock');
    expect(bedrock).toHaveLength(1);
    expect(bedrock[0].statement.actions).toEqual(['bedrock:InvokeModel']);
    expect([...bedrock[0].statement.resources].sort()).toEqual([
      'arn:aws:bedrock:*::foundation-model/amazon.nova-lite-v1:0',
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0',
      'arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6',
      'arn:aws:bedrock:::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0',
      'arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-6',
      `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${HAIKU}`,
      `arn:aws:bedrock:us-east-1:123456789012:inference-profile/${SONNET}`,
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0',
    ]);
  });

  it('reads a parameter both tiers share through one ARN; a plain name has no leading slash to drop', () => {
    const shared = synthWarden({ modelIdParameters: { low: 'warden-model', high: 'warden-model' } });
    expect(variablesOf('inference', shared)).toMatchObject({ MODEL_ID_LOW_PARAMETER: 'warden-model', MODEL_ID_HIGH_PARAMETER: 'warden-model' });
    // Without allowedModelIds only the deployed two may be named.
    expect(JSON.parse(variablesOf('inference', shared).MODEL_IDS_ALLOWED as string)).toEqual([HAIKU, SONNET]);
    expect(serviceStatements(shared, 'ssm').map((s) => s.statement.resources)).toEqual([['arn:aws:ssm:us-east-1:123456789012:parameter/warden-model']]);
  });

  it('sets no parameter and grants no SSM access without modelIdParameters, or with the rules provider', () => {
    for (const from of [synth, synthWarden({ modelProvider: 'rules', modelIdParameters: { low: '/warden/model/low' } })]) {
      expect(serviceStatements(from, 'ssm')).toEqual([]);
      expect(Object.keys(variablesOf('inference', from)).filter((v) => v.includes('PARAMETER') || v === 'MODEL_IDS_ALLOWED')).toEqual([]);
    }
  });

  it('gives the openai-compatible provider its parameters too, with no Bedrock access', () => {
    const openai = synthWarden({ ...OPENAI, modelIdParameters: { high: '/warden/model/high' } });
    expect(variablesOf('inference', openai)).toMatchObject({ MODEL_ID_HIGH_PARAMETER: '/warden/model/high' });
    expect(variablesOf('inference', openai).MODEL_ID_LOW_PARAMETER).toBeUndefined();
    expect(serviceStatements(openai, 'ssm').map((s) => s.statement.resources)).toEqual([['arn:aws:ssm:us-east-1:123456789012:parameter/warden/model/high']]);
    expect(serviceStatements(openai, 'bedrock')).toEqual([]);
  });

  it('grants secretsmanager:GetSecretValue on exactly the API key secret (by name: its one ARN suffix), to the inference role only', () => {
    const byName = synthWarden({ ...OPENAI, openAiApiKeySecret: 'warden/openai-api-key' });
    expect(variablesOf('inference', byName)).toMatchObject({ OPENAI_API_KEY_SECRET: 'warden/openai-api-key' });
    expect(variablesOf('inference', byName).OPENAI_API_KEY).toBeUndefined();
    expect(serviceStatements(byName, 'secretsmanager')).toEqual([
      {
        role: inferenceRole(byName),
        statement: expect.objectContaining({
          actions: ['secretsmanager:GetSecretValue'],
          resources: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/openai-api-key-??????'],
        }),
      },
    ]);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'inference')) {
      expect(variablesOf(name, byName).OPENAI_API_KEY_SECRET).toBeUndefined();
    }
  });

  it('grants GetSecretValue on a complete secret ARN as given', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:shared/llm-key-AbC123';
    const byArn = synthWarden({ ...OPENAI, openAiApiKeySecret: arn });
    expect(variablesOf('inference', byArn)).toMatchObject({ OPENAI_API_KEY_SECRET: arn });
    expect(serviceStatements(byArn, 'secretsmanager').map((s) => s.statement.resources)).toEqual([[arn]]);
  });

  it('grants no secret access without openAiApiKeySecret, or with a provider that sends no key', () => {
    for (const from of [synth, synthWarden(OPENAI), synthWarden({ openAiApiKeySecret: 'warden/openai-api-key' })]) {
      expect(serviceStatements(from, 'secretsmanager')).toEqual([]);
      expect(variablesOf('inference', from).OPENAI_API_KEY_SECRET).toBeUndefined();
    }
  });
});
