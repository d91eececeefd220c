import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../../lib/config';
import { WardenStack } from '../../lib/warden-stack';
import { FUNCTION_NAMES } from '../../lib/constructs/functions';
import { alarmNameFor } from '../../lib/constructs/observability';
import { METRIC_NAMESPACE, METRIC_SERVICE, METRICS } from '../../lambdas/shared/metrics-catalog';
import { logicalIdOf, readCdkJson, synthWarden, type Synthesized } from './synth';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Alarm = { Properties: Record<string, unknown> };

let synth: Synthesized;
let alarms: Record<string, Alarm>;

beforeAll(() => {
  synth = synthWarden();
  alarms = synth.template.findResources('AWS::CloudWatch::Alarm') as Record<string, Alarm>;
});

const id = (construct: { node: { defaultChild?: unknown } }, from = synth) => logicalIdOf(from.stack, construct);

function alarmsOn(metricName: string, dimension?: { Name: string; Value: unknown }, from = alarms): Alarm[] {
  return Object.values(from).filter(
    (alarm) =>
      alarm.Properties.MetricName === metricName &&
      (!dimension || JSON.stringify(alarm.Properties.Dimensions).includes(JSON.stringify(dimension))),
  );
}

function onlyAlarmOn(metricName: string, dimension?: { Name: string; Value: unknown }, from = alarms): Record<string, unknown> {
  const found = alarmsOn(metricName, dimension, from);
  expect(found).toHaveLength(1);
  return found[0].Properties;
}

function rejectionRateAlarm(from: Synthesized): Record<string, unknown> {
  const all = from.template.findResources('AWS::CloudWatch::Alarm') as Record<string, Alarm>;
  const found = Object.values(all).filter((alarm) =>
    ((alarm.Properties.Metrics as { Expression?: string }[] | undefined) ?? []).some((m) => m.Expression?.includes('rejected')),
  );
  expect(found).toHaveLength(1);
  return found[0].Properties;
}

/** The dashboard body as JSON, with every CloudFormation reference in it replaced by `<ref>`. */
function dashboardBody(from = synth): { widgets: { type: string; properties: Record<string, unknown> }[] } {
  const [dashboard] = Object.values(from.template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
  const body = dashboard.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] };
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
  return JSON.parse(text) as ReturnType<typeof dashboardBody>;
}

function widgetTitled(title: RegExp): { type: string; properties: Record<string, unknown> } {
  const widget = dashboardBody().widgets.find((w) => title.test(String(w.properties.title ?? '')));
  if (!widget) throw new Error(`no widget titled ${title}`);
  return widget;
}

describe('alarm topic', () => {
  it('sends every alarm to the KMS-encrypted alarm topic', () => {
    const topicId = id(synth.stack.observability.alarmTopic);
    synth.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [id(synth.stack.data.key), 'Arn'] },
    });
    expect(Object.keys(alarms).length).toBeGreaterThan(0);
    for (const alarm of Object.values(alarms)) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('names every alarm after the stack', () => {
    const names = Object.values(alarms).map((alarm) => alarm.Properties.AlarmName);
    expect(names).toEqual(expect.arrayContaining(['Warden-RejectionRate', 'Warden-FailedExecutionsQueued', 'Warden-TriageErrors', 'Warden-Api5xx']));
    for (const name of names) expect(name).toMatch(/^Warden-[A-Za-z0-9]+$/);
    expect(new Set(names).size).toBe(names.length);
    expect(alarmNameFor('Warden-Staging', 'Api5xx')).toBe('Warden-Staging-Api5xx');
  });

  /** What CloudWatch must be limited to: this account, and exactly the alarms of this stack. */
  const fromTheStacksAlarms = () => ({
    StringEquals: { 'aws:SourceAccount': '123456789012' },
    ArnEquals: {
      'aws:SourceArn': Object.values(alarms).map((alarm) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${String(alarm.Properties.AlarmName)}`),
    },
  });

  it("lets CloudWatch publish to the topic, for this account's and this stack's alarms only, and refuses anything but TLS", () => {
    const topicId = id(synth.stack.observability.alarmTopic);
    const [policy, ...others] = Object.values(synth.template.findResources('AWS::SNS::TopicPolicy')) as Resource[];
    expect(others).toEqual([]);
    expect(policy.Properties.Topics).toEqual([{ Ref: topicId }]);
    expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      {
        Sid: 'AllowPublishThroughSSLOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'CloudWatchAlarmsOfThisStackPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: fromTheStacksAlarms(),
      },
    ]);
  });

  it("lets CloudWatch use the key to publish to the encrypted topic, for this account's and this stack's alarms only", () => {
    const key = synth.template.toJSON().Resources[id(synth.stack.data.key)] as Resource;
    const statements = (key.Properties.KeyPolicy as { Statement: { Principal?: { Service?: string } }[] }).Statement;
    expect(statements.filter((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com')).toEqual([
      {
        Sid: 'CloudWatchAlarmsPublishToTheEncryptedAlarmTopic',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: fromTheStacksAlarms(),
      },
    ]);
  });

  it('names the alarm ARNs with the deploy-time account, region and partition in an environment-agnostic stack', () => {
    const { warden: _defaults, ...flags } = readCdkJson().context;
    const app = new App({ context: { ...flags, 'aws:cdk:bundling-stacks': [] } });
    const agnostic = new WardenStack(app, 'Agnostic', { config: parseConfig({}) });
    const policy = Object.values(Template.fromStack(agnostic).findResources('AWS::SNS::TopicPolicy'))[0] as Resource;
    const allow = (policy.Properties.PolicyDocument as { Statement: { Effect: string; Condition: Record<string, Record<string, unknown>> }[] }).Statement.find(
      (s) => s.Effect === 'Allow',
    );
    expect(allow?.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect((allow?.Condition.ArnEquals['aws:SourceArn'] as unknown[])[0]).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:Agnostic-RejectionRate']],
    });
  });

  it('alarms on any occurrence, and treats no data as nothing having happened', () => {
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    }
  });
});

describe('alarms', () => {
  it('on a rejection rate above 15% of decisions in 15 minutes, once there were at least 20', () => {
    const alarm = rejectionRateAlarm(synth);
    expect(alarm).toMatchObject({ Threshold: 15, ComparisonOperator: 'GreaterThanThreshold' });
    const metrics = alarm.Metrics as { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: Record<string, unknown> }[];
    const expression = metrics.find((m) => m.Expression);
    const total = '(FILL(approved, 0) + FILL(rejected, 0) + FILL(pending, 0))';
    expect(expression).toMatchObject({ ReturnData: true, Expression: `IF(${total} >= 20, 100 * FILL(rejected, 0) / ${total}, 0)` });
    const inputs = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
    const outcome = (value: string) => ({
      Metric: {
        Namespace: METRIC_NAMESPACE,
        MetricName: 'Outcome',
        Dimensions: [
          { Name: 'outcome', Value: value },
          { Name: 'service', Value: METRIC_SERVICE },
        ],
      },
      Period: 900,
      Stat: 'Sum',
    });
    expect(inputs).toEqual({ approved: outcome('approved'), rejected: outcome('rejected'), pending: outcome('pending_approval') });
  });

  it('on a validation latency p99 above 2 s over 5 minutes', () => {
    expect(onlyAlarmOn('ValidationLatency')).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: METRIC_SERVICE }],
      ExtendedStatistic: 'p99',
      Period: 300,
      Threshold: 2000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('on any message in the failed-executions queue', () => {
    const queue = { Name: 'QueueName', Value: { 'Fn::GetAtt': [id(synth.stack.observability.failedExecutions), 'QueueName'] } };
    expect(onlyAlarmOn('ApproximateNumberOfMessagesVisible', queue)).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 0,
    });
  });

  it('on any failure-event EventBridge could not deliver to that queue', () => {
    const rule = { Name: 'RuleName', Value: { Ref: id(synth.stack.observability.failedExecutionsRule) } };
    expect(onlyAlarmOn('FailedInvocations', rule)).toMatchObject({ Namespace: 'AWS/Events', Statistic: 'Sum', Threshold: 0 });
  });

  it('on any failed or timed-out execution', () => {
    const sm = { Name: 'StateMachineArn', Value: { Ref: id(synth.stack.workflow.stateMachine) } };
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      expect(onlyAlarmOn(metric, sm)).toMatchObject({ Namespace: 'AWS/States', Statistic: 'Sum', Period: 300, Threshold: 0 });
    }
  });

  it.each(FUNCTION_NAMES)('on any error or throttle of %s', (name) => {
    const fn = { Name: 'FunctionName', Value: { Ref: id(synth.stack.functions.byName[name]) } };
    expect(onlyAlarmOn('Errors', fn)).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 0 });
    expect(onlyAlarmOn('Throttles', fn)).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 0 });
  });

  it('on any API 5xx', () => {
    expect(onlyAlarmOn('5xx')).toMatchObject({ Namespace: 'AWS/ApiGateway', Threshold: 0 });
  });

  it('take their thresholds from the config', () => {
    const custom = synthWarden({ alarms: { rejectionRatePercent: 30, minRequestsForRejectionRate: 5, validationP99Ms: 1500 } });
    const customAlarms = custom.template.findResources('AWS::CloudWatch::Alarm') as Record<string, Alarm>;
    const rate = rejectionRateAlarm(custom);
    expect(rate.Threshold).toBe(30);
    expect(JSON.stringify(rate.Metrics)).toContain('>= 5, 100 * FILL(rejected, 0)');
    expect(onlyAlarmOn('ValidationLatency', undefined, customAlarms).Threshold).toBe(1500);
    // The defaults are what cdk.json writes out.
    expect(rejectionRateAlarm(synth).Threshold).toBe(15);
  });
});

describe('failed executions → dead-letter queue', () => {
  let rule: Resource;
  let queueId: string;

  beforeAll(() => {
    rule = synth.template.toJSON().Resources[id(synth.stack.observability.failedExecutionsRule)] as Resource;
    queueId = id(synth.stack.observability.failedExecutions);
  });

  it('keeps messages 14 days, encrypted with the stack key, retained by default', () => {
    const queue = synth.template.toJSON().Resources[queueId] as Resource & { DeletionPolicy?: string };
    expect(queue.Properties).toEqual({
      KmsMasterKeyId: { 'Fn::GetAtt': [id(synth.stack.data.key), 'Arn'] },
      MessageRetentionPeriod: 14 * 24 * 60 * 60,
    });
    expect(queue.DeletionPolicy).toBe('Retain');
    const destroyed = synthWarden({ removalPolicy: 'destroy' });
    const destroyedQueue = destroyed.template.toJSON().Resources[id(destroyed.stack.observability.failedExecutions, destroyed)] as Resource;
    expect(destroyedQueue.DeletionPolicy).toBe('Delete');
  });

  it('refuses anything but TLS, and takes messages only from the rule', () => {
    const [policy] = Object.values(synth.template.findResources('AWS::SQS::QueuePolicy')) as Resource[];
    expect(policy.Properties.Queues).toEqual([{ Ref: queueId }]);
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [id(synth.stack.observability.failedExecutionsRule), 'Arn'] } } },
        }),
      ]),
    );
    expect(statements.filter((s) => s.Effect === 'Allow')).toHaveLength(1);
  });

  it('lets EventBridge use the key for this account only (the queue is SSE-KMS)', () => {
    synth.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'EventBridgeSendsToTheEncryptedFailedExecutionsQueue',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          },
        ]),
      },
    });
  });

  it("matches this state machine's failed, timed-out and aborted executions", () => {
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: {
        status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        stateMachineArn: [{ Ref: id(synth.stack.workflow.stateMachine) }],
      },
    });
    expect(rule.Properties.State).toBe('ENABLED');
  });

  it('puts on the queue what a redrive needs, and none of the execution input or output', () => {
    const [target, ...others] = rule.Properties.Targets as {
      Arn: unknown;
      InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
      RetryPolicy: unknown;
    }[];
    expect(others).toEqual([]);
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });

    // An event as Step Functions sends it; the message is the template with its paths filled in.
    const event = {
      account: '123456789012',
      region: 'us-east-1',
      time: '2026-01-02T03:04:05Z',
      detail: {
        executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Warden-GovernedRequest:r_abc',
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:Warden-GovernedRequest',
        name: 'r_abc',
        status: 'ABORTED',
        startDate: 1767322000000,
        stopDate: 1767322045000,
        error: null,
        input: '{"text":"alice@example.com"}',
        output: null,
      },
    };
    const at = (path: string): unknown => path.replace(/^\$\./, '').split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], event);
    const { InputPathsMap, InputTemplate } = target.InputTransformer;
    const message = JSON.parse(InputTemplate.replace(/<([\w-]+)>/g, (_m, key: string) => JSON.stringify(at(InputPathsMap[key])))) as Record<string, unknown>;
    expect(message).toEqual({
      requestId: 'r_abc',
      name: 'r_abc',
      executionArn: event.detail.executionArn,
      stateMachineArn: event.detail.stateMachineArn,
      status: 'ABORTED',
      startDate: event.detail.startDate,
      stopDate: event.detail.stopDate,
      error: null,
      account: event.account,
      region: event.region,
      time: event.time,
    });
    expect(Object.values(InputPathsMap)).not.toEqual(expect.arrayContaining([expect.stringMatching(/input|output|cause/)]));
  });
});

describe('aborted and timed-out executions → their request FAILED', () => {
  it('sends them to the finalize function in MarkFailed form, with only the request id and the status', () => {
    const rule = synth.template.toJSON().Resources[id(synth.stack.observability.abandonedExecutionsRule)] as Resource;
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['ABORTED', 'TIMED_OUT'], stateMachineArn: [{ Ref: id(synth.stack.workflow.stateMachine) }] },
    });
    const [target, ...others] = rule.Properties.Targets as { Arn: unknown; InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string } }[];
    expect(others).toEqual([]);
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [id(synth.stack.functions.byName.finalize), 'Arn'] });
    expect(Object.values(target.InputTransformer.InputPathsMap).sort()).toEqual(['$.detail.name', '$.detail.status']);
    const template = target.InputTransformer.InputTemplate;
    expect(template).toContain('"mode":"failed"');
    expect(template).toMatch(/"requestId":<[^>]+>/);
  });

  it('lets exactly that rule invoke the finalize function', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [id(synth.stack.functions.byName.finalize), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [id(synth.stack.observability.abandonedExecutionsRule), 'Arn'] },
    });
  });
});

describe('dashboard', () => {
  it('is the only one, and plots every metric Warden emits', () => {
    synth.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const text = JSON.stringify(dashboardBody());
    for (const name of Object.keys(METRICS)) expect(text).toContain(`"${name}`);
  });

  const metricsOf = (title: RegExp): unknown[][] => ((widgetTitled(title).properties.metrics as unknown[][] | undefined) ?? []);

  it('shows requests by route and decisions by outcome', () => {
    const routes = metricsOf(/by route/);
    for (const route of ['deterministic', 'generative', 'human']) {
      expect(routes).toContainEqual(expect.arrayContaining([METRIC_NAMESPACE, 'Route', 'route', route]));
    }
    expect(routes).toContainEqual(expect.arrayContaining([METRIC_NAMESPACE, 'RequestsSubmitted']));
    const outcomes = metricsOf(/by outcome/);
    for (const outcome of ['approved', 'rejected', 'pending_approval']) {
      expect(outcomes).toContainEqual(expect.arrayContaining(['Outcome', 'outcome', outcome]));
    }
    expect(metricsOf(/terminal status/)).toHaveLength(4);
  });

  it('shows the rejection rate with the alarm threshold, and rejections by reason', () => {
    const rate = metricsOf(/Rejection rate/);
    expect(JSON.stringify(rate)).toContain('100 * FILL(rejected, 0)');
    expect(widgetTitled(/Rejection rate/).properties.annotations).toEqual({ horizontal: [expect.objectContaining({ value: 15, label: 'alarm' })] });
    expect(JSON.stringify(metricsOf(/by reason/))).toContain('MetricName=\\"Rejections\\"');
  });

  it('shows approvals, the pending balance and their age, and approval latency p50/p99', () => {
    const approvals = JSON.stringify(metricsOf(/^Approvals$/));
    for (const name of ['ApprovalsRequested', 'ApprovalsDecided', 'ApprovalsExpired', 'RUNNING_SUM']) expect(approvals).toContain(name);
    const latency = metricsOf(/Approval latency/);
    expect(latency).toContainEqual(expect.arrayContaining(['ApprovalLatency', expect.objectContaining({ stat: 'p50' })]));
    expect(latency).toContainEqual(expect.arrayContaining(['ApprovalLatency', expect.objectContaining({ stat: 'p99' })]));
    const open = widgetTitled(/Open approval tasks/);
    expect(open.type).toBe('log');
    expect(String(open.properties.query)).toMatch(/filter last = "awaiting approval"[\s\S]*sort openedAt asc/);
  });

  it('shows model tokens and cost by tier', () => {
    const tokens = JSON.stringify(metricsOf(/Model tokens/));
    for (const tier of ['low', 'high']) {
      expect(tokens).toContain(`"ModelInputTokens","service","warden","tier","${tier}"`);
      expect(tokens).toContain(`"ModelOutputTokens","service","warden","tier","${tier}"`);
    }
    expect(JSON.stringify(metricsOf(/Model cost/))).toContain('ModelCostUsd');
  });

  it('shows Lambda errors, p99 duration and throttles for every function', () => {
    expect(metricsOf(/Lambda errors/)).toHaveLength(FUNCTION_NAMES.length);
    expect(metricsOf(/Lambda throttles/)).toHaveLength(FUNCTION_NAMES.length);
    const durations = metricsOf(/Lambda duration p99/);
    expect(durations).toHaveLength(FUNCTION_NAMES.length);
    for (const metric of durations) expect(metric).toContainEqual(expect.objectContaining({ stat: 'p99' }));
  });

  it('shows failed and timed-out executions, failures by code and the dead-letter queue depth', () => {
    const executions = JSON.stringify(metricsOf(/^Executions$/));
    for (const name of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) expect(executions).toContain(name);
    expect(JSON.stringify(metricsOf(/failures by code/))).toContain('ExecutionFailures');
    expect(JSON.stringify(metricsOf(/Failed-executions queue/))).toContain('ApproximateNumberOfMessagesVisible');
  });

  it('shows the state of every alarm', () => {
    const status = dashboardBody().widgets.find((w) => w.type === 'alarm');
    expect((status?.properties.alarms as unknown[]).length).toBe(Object.keys(alarms).length);
  });
});

describe('the metric names the functions use', () => {
  it('are in the namespace their environment names', () => {
    const fns = synth.template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    const namespaces = new Set(
      Object.values(fns).map((fn) => (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.POWERTOOLS_METRICS_NAMESPACE),
    );
    expect([...namespaces]).toEqual([METRIC_NAMESPACE]);
  });

  it('have bounded dimensions only (never a request, task or principal id)', () => {
    for (const definition of Object.values(METRICS)) {
      for (const dimension of definition.dimensions) expect(['route', 'outcome', 'reason', 'tier', 'decision', 'status', 'code']).toContain(dimension);
    }
  });
});
