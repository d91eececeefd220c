import { API_ROUTES, MCP_ROUTES } from '../../lib/constructs/api';
import { logicalIdOf, refersTo, roleOfFunction, statementsByRole, synthWarden, type Statement, type Synthesized } from './synth';

/**
 * Stack-wide invariants: whatever anyone adds later, these must hold for every role.
 */
let synth: Synthesized;
let byRole: Map<string, Statement[]>;
let all: { role: string; statement: Statement }[];

beforeAll(() => {
  synth = synthWarden();
  byRole = statementsByRole(synth.template);
  all = [...byRole.entries()].flatMap(([role, statements]) => statements.map((statement) => ({ role, statement })));
});

/** Actions AWS only accepts on Resource "*" that CDK adds for tracing and vended log delivery. */
const SERVICE_WILDCARD_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

function roleOf(name: 'gateway' | 'approval' | 'mcp'): string {
  return roleOfFunction(synth.template, logicalIdOf(synth.stack, synth.stack.functions.byName[name]));
}

it('has only Allow statements with explicit actions (no NotAction, no wildcard in any action)', () => {
  expect(all.length).toBeGreaterThan(0);
  for (const { statement } of all) {
    expect(statement.effect).toBe('Allow');
    expect(statement.actions.length).toBeGreaterThan(0);
    // Not even a partial one such as `dynamodb:*Item` or `kms:GenerateDataKey*`.
    for (const action of statement.actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
  }
});

it('scopes every other wildcard in a resource ARN to a reviewed pattern', () => {
  const synthProfiled = synthWarden({ modelIds: { low: 'us.anthropic.claude-3-haiku-20240307-v1:0' } });
  const statements = [...all.map((a) => a.statement), ...[...statementsByRole(synthProfiled.template).values()].flat()];
  const reviewed = [
    // Checkpoints and PII vaults: one object kind each under checkpoints/ of the state bucket.
    /^\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["DataStateBucket[0-9A-F]{8}","Arn"\]\},"\/checkpoints\/\*\/(?:t_\*\.json|vault\.json)"\]\]\}$/,
    // The state machine invoking a function's versions (`arn:…:function:name:*`).
    /^\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["Functions\w+","Arn"\]\},":\*"\]\]\}$/,
    // A cross-region inference profile routes to the named model (no wildcard in it) in any region.
    /^"arn:aws:bedrock:\*::foundation-model\/anthropic\.claude-(?:3-haiku-20240307-v1:0|haiku-4-5-20251001-v1:0|sonnet-4-6)"$/,
  ];
  const partial = statements.flatMap((s) => s.resources.map((r) => JSON.stringify(r))).filter((r) => r.includes('*') && r !== '"*"');
  expect(partial.length).toBeGreaterThan(0);
  expect(partial.filter((r) => !reviewed.some((re) => re.test(r)))).toEqual([]);
});

it('has one single-character wildcard only: the random suffix of the API key secret named in config', () => {
  const withSettings = synthWarden({
    modelProvider: 'openai-compatible',
    openAiBaseUrl: 'https://llm.internal.example.com/v1',
    modelIds: { low: 'qwen2.5:7b-instruct', high: 'Qwen/Qwen2.5-72B-Instruct' },
    modelIdParameters: { low: '/warden/model/low' },
    openAiApiKeySecret: 'warden/openai-api-key',
  });
  const statements = [...all.map((a) => a.statement), ...[...statementsByRole(withSettings.template).values()].flat()];
  const withQuestionMark = statements.flatMap((s) => s.resources.map((r) => JSON.stringify(r))).filter((r) => r.includes('?'));
  // `-??????` matches the 6 characters Secrets Manager appends to this name, so this one secret only.
  expect(withQuestionMark).toEqual(['"arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/openai-api-key-??????"']);
  // And the parameter is granted by its exact ARN, no wildcard at all.
  const ssm = statements.filter((s) => s.actions.some((a) => a.startsWith('ssm:')));
  expect(ssm.flatMap((s) => s.resources)).toEqual(['arn:aws:ssm:us-east-1:123456789012:parameter/warden/model/low']);
});

it('lets only API Gateway, for this API and one route each, invoke the gateway, approval and mcp functions (and EventBridge, finalize)', () => {
  const invokers = Object.values(synth.template.findResources('AWS::Lambda::Permission')).map((p) => p.Properties as Record<string, unknown>);
  const fns = synth.stack.functions.byName;
  const apiId = logicalIdOf(synth.stack, synth.stack.api.httpApi);
  // The one other invoker: the ExecutionAbandoned rule, on finalize only (observability.test.ts).
  const fromEvents = invokers.filter((p) => p.Principal === 'events.amazonaws.com');
  expect(fromEvents).toHaveLength(1);
  expect(JSON.stringify(fromEvents[0].FunctionName)).toContain(`"${logicalIdOf(synth.stack, fns.finalize)}"`);
  const permissions = invokers.filter((p) => p.Principal !== 'events.amazonaws.com');
  // One per route of API.md (GET and POST /v1/requests get one each, with the same path), and one per MCP route.
  expect(permissions).toHaveLength(API_ROUTES.length + MCP_ROUTES.length);
  for (const permission of permissions) {
    expect(permission).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com' });
    const target = JSON.stringify(permission.FunctionName);
    expect([fns.gateway, fns.approval, fns.mcp].map((fn) => logicalIdOf(synth.stack, fn)).some((id) => target.includes(`"${id}"`))).toBe(true);
    const source = JSON.stringify(permission.SourceArn);
    expect(source).toContain(`{"Ref":"${apiId}"}`);
    expect(source).toMatch(/"\/\*\/\*\/(?:v1\/[a-z/{}A-Z]+|health|openapi\.json|mcp|\.well-known\/oauth-protected-resource)"/);
  }
});

it('attaches no managed policies (no AWSLambdaBasicExecutionRole, no *FullAccess)', () => {
  const roles = synth.template.findResources('AWS::IAM::Role');
  expect(Object.keys(roles).length).toBeGreaterThan(0);
  for (const role of Object.values(roles)) {
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  }
  expect(JSON.stringify(synth.template.toJSON())).not.toContain('FullAccess');
});

it('has exactly one Resource "*" statement of its own: the approval role resuming task tokens', () => {
  const wildcard = all.filter(({ statement }) => statement.resources.includes('*'));
  const ours = wildcard.filter(({ statement }) => statement.actions.some((a) => !SERVICE_WILDCARD_ACTIONS.has(a)));
  expect(ours).toHaveLength(1);
  expect(ours[0].role).toBe(roleOf('approval'));
  expect([...ours[0].statement.actions].sort()).toEqual([
    'states:SendTaskFailure',
    'states:SendTaskHeartbeat',
    'states:SendTaskSuccess',
  ]);
});

it('gives states:SendTask* to the approval role only', () => {
  const holders = all.filter(({ statement }) => statement.actions.some((a) => a.startsWith('states:SendTask')));
  expect(new Set(holders.map((h) => h.role))).toEqual(new Set([roleOf('approval')]));
});

it('gives states:StartExecution to the gateway and mcp roles only (both submit requests), on the state machine only', () => {
  const holders = all.filter(({ statement }) => statement.actions.includes('states:StartExecution'));
  expect(holders.map((h) => h.role).sort()).toEqual([roleOf('gateway'), roleOf('mcp')].sort());
  for (const holder of holders) expect(holder.statement.resources).toEqual([{ Ref: logicalIdOf(synth.stack, synth.stack.workflow.stateMachine) }]);
});

it('lets no role update, delete or batch-write the audit table', () => {
  const auditId = logicalIdOf(synth.stack, synth.stack.data.tables.audit);
  const onAudit = all.filter(({ statement }) => statement.resources.some((r) => r === '*' || refersTo(r, auditId)));
  expect(onAudit.length).toBeGreaterThan(0);
  const mutating = onAudit.flatMap(({ statement }) =>
    statement.actions.filter((a) => /^dynamodb:(?:UpdateItem|DeleteItem|BatchWriteItem|PartiQL\w*|ExecuteStatement|BatchExecuteStatement|ExecuteTransaction|TransactWriteItems|DeleteTable|UpdateTable|RestoreTable\w*|ImportTable)$/.test(a)),
  );
  expect(mutating).toEqual([]);
  // Stronger than the deny list: append and read are all any role holds on the audit table.
  const actions = new Set(onAudit.flatMap(({ statement }) => statement.actions.filter((a) => a.startsWith('dynamodb:'))));
  expect([...actions].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
});

it('lets the state machine invoke exactly its six functions (and their versions)', () => {
  const smRole = logicalIdOf(synth.stack, synth.stack.workflow.stateMachine.role);
  const invoke = (byRole.get(smRole) ?? []).filter((s) => s.actions.includes('lambda:InvokeFunction'));
  expect(invoke).toHaveLength(1);
  const fns = synth.stack.functions.byName;
  const expected = (['triage', 'inference', 'validation', 'dehydrate', 'execution', 'finalize'] as const).flatMap((name) => {
    const id = logicalIdOf(synth.stack, fns[name]);
    return [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, ':*']] }];
  });
  expect(invoke[0].resources).toEqual(expect.arrayContaining(expected));
  expect(invoke[0].resources).toHaveLength(expected.length);
  const others = all.filter(({ role, statement }) => role !== smRole && statement.actions.includes('lambda:InvokeFunction'));
  expect(others).toEqual([]);
});
