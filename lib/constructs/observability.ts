import { ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  HorizontalAnnotation,
  type IMetric,
  LogQueryWidget,
  MathExpression,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  DIMENSION_VALUES,
  METRIC_NAMESPACE,
  METRIC_SERVICE,
  type MetricName,
} from '../../lambdas/shared/metrics-catalog';
import { ROUTES } from '../../lambdas/shared/schemas/workflow';
import type { WardenFunction } from './functions';

/** Thresholds of the alarms that are a matter of taste; the rest alarm on any occurrence. */
export interface AlarmThresholds {
  /**
   * Rejected decisions as a percentage of all decisions in 15 minutes.
   * @default 15
   */
  readonly rejectionRatePercent?: number;
  /**
   * Decisions a 15-minute window needs before its rejection rate can alarm.
   * @default 20
   */
  readonly minRequestsForRejectionRate?: number;
  /**
   * p99 of ValidationLatency over 5 minutes, in milliseconds.
   * @default 2000
   */
  readonly validationP99Ms?: number;
}

export interface WardenObservabilityProps {
  readonly functions: readonly WardenFunction[];
  readonly stateMachine: IStateMachine;
  readonly api: IHttpApi;
  /** Encrypts the alarm topic and the failed-executions queue. */
  readonly key: IKey;
  /** @default the AlarmThresholds defaults */
  readonly thresholds?: AlarmThresholds;
  /**
   * What happens to the failed-executions queue (and the messages in it) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The statuses of an execution that ended without reaching its own end state. */
export const FAILED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/**
 * An alarm's name: fixed per stack (`Warden-RejectionRate`), so the alarm topic's policy and the
 * key's policy can name every alarm's ARN without a reference to it: the key policy referring to
 * the alarms would be a dependency cycle (alarm → topic → key).
 */
export function alarmNameFor(stackName: string, alarmId: string): string {
  if (Token.isUnresolved(stackName)) throw new Error('The Warden stack needs a literal stack name (its alarms are named after it).');
  return `${stackName}-${alarmId}`;
}

/**
 * What an operator watches and gets paged for (DESIGN.md §7):
 * - failed, timed-out and aborted executions, each as a message on a KMS-encrypted SQS queue
 *   (EventBridge, from Step Functions' status-change events) with what a redrive needs;
 * - alarms to one encrypted SNS topic: rejection rate, validation p99, that queue's depth,
 *   failed / timed-out executions, Lambda errors and throttles, API 5xx, undelivered failure events;
 * - a dashboard of Warden's own metrics (lambdas/shared/metrics-catalog.ts) and the AWS ones.
 */
export class WardenObservability extends Construct {
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  /** Failed, timed-out and aborted executions, one message each (the redrive worklist). */
  readonly failedExecutions: Queue;
  /** The EventBridge rule that feeds `failedExecutions`. */
  readonly failedExecutionsRule: Rule;
  /** Aborted and timed-out executions never reach MarkFailed: this rule has finalize mark them FAILED. */
  readonly abandonedExecutionsRule: Rule;
  /** The rejection-rate alarm's metric math (percent of decisions rejected in 15 minutes). */
  readonly rejectionRate: MathExpression;

  constructor(scope: Construct, id: string, props: WardenObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const period = Duration.minutes(5);
    const thresholds = {
      rejectionRatePercent: props.thresholds?.rejectionRatePercent ?? 15,
      minRequestsForRejectionRate: props.thresholds?.minRequestsForRejectionRate ?? 20,
      validationP99Ms: props.thresholds?.validationP99Ms ?? 2000,
    };
    const fns = [...props.functions];
    const fnNamed = (name: string) => fns.find((fn) => fn.wardenName === name);

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Warden alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    const notify = new SnsAction(this.alarmTopic);

    // --- Failed executions → SQS ------------------------------------------------------------
    this.failedExecutions = new Queue(this, 'FailedExecutions', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // It is the end of the line, so it has no dead-letter queue of its own (both packs ask for one).
    const terminalQueue =
      'This queue is the dead-letter store itself: one message per failed, timed-out or aborted execution, kept 14 days for an operator to redrive by hand; no consumer receives from it, so a redrive policy would never trigger.';
    Validations.of(this.failedExecutions).acknowledge({ id: 'AwsSolutions-SQS3', reason: terminalQueue });
    Validations.of(this.failedExecutions).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason: terminalQueue });

    this.failedExecutionsRule = new Rule(this, 'ExecutionEndedBadly', {
      description: 'A governed-request execution failed, timed out or was aborted: queue it for a redrive.',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: [...FAILED_EXECUTION_STATUSES],
          stateMachineArn: [props.stateMachine.stateMachineArn],
        },
      },
    });
    const queue = this.failedExecutions;
    this.failedExecutionsRule.addTarget({
      bind: () => ({
        arn: queue.queueArn,
        targetResource: queue,
        // What a redrive needs, and nothing of the execution's input or output (PII lives there).
        input: RuleTargetInput.fromObject({
          requestId: EventField.fromPath('$.detail.name'),
          name: EventField.fromPath('$.detail.name'),
          executionArn: EventField.fromPath('$.detail.executionArn'),
          stateMachineArn: EventField.fromPath('$.detail.stateMachineArn'),
          status: EventField.fromPath('$.detail.status'),
          startDate: EventField.fromPath('$.detail.startDate'),
          stopDate: EventField.fromPath('$.detail.stopDate'),
          error: EventField.fromPath('$.detail.error'),
          account: EventField.account,
          region: EventField.region,
          time: EventField.time,
        }),
        retryPolicy: { maximumEventAgeInSeconds: 24 * 60 * 60, maximumRetryAttempts: 185 },
      }),
    });
    Validations.of(this.failedExecutionsRule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The only target is itself the dead-letter queue of failed executions (retried for 24 h); an event it still cannot take shows in the rule\'s FailedInvocations metric, which the FailureEventsUndelivered alarm pages on.',
    });
    // Only this rule may send, and EventBridge may use the key only for this account's requests.
    queue.addToResourcePolicy(
      new PolicyStatement({
        sid: 'FailedExecutionEventsFromTheRule',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.failedExecutionsRule.ruleArn } },
      }),
    );
    props.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeSendsToTheEncryptedFailedExecutionsQueue',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    const finalize = fnNamed('finalize');
    if (!finalize) throw new Error('WardenObservability needs the finalize function');
    this.abandonedExecutionsRule = new Rule(this, 'ExecutionAbandoned', {
      description: 'An execution was aborted or timed out, so MarkFailed never ran: finalize marks its request FAILED.',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['ABORTED', 'TIMED_OUT'], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
    });
    this.abandonedExecutionsRule.addTarget(
      new LambdaFunction(finalize, {
        // The MarkFailed input, with only what the event knows: the execution name is the request id.
        event: RuleTargetInput.fromObject({
          mode: 'failed',
          state: { requestId: EventField.fromPath('$.detail.name'), error: { Error: EventField.fromPath('$.detail.status') } },
        }),
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      }),
    );
    Validations.of(this.abandonedExecutionsRule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'Every aborted or timed-out execution is already queued by the ExecutionEndedBadly rule for an operator; this rule only updates its request record (retried for 24 h), so a lost event loses no work.',
    });

    // --- Metrics -----------------------------------------------------------------------------
    const warden = (name: MetricName, statistic: string, dimensions: Record<string, string> = {}, label?: string, metricPeriod = period): Metric =>
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: METRIC_SERVICE, ...dimensions },
        statistic,
        period: metricPeriod,
        ...(label ? { label } : {}),
      });
    const search = (name: MetricName, dimension: string, label: string): MathExpression =>
      new MathExpression({
        expression: `SEARCH('{${METRIC_NAMESPACE},${dimension},service} MetricName="${name}"', 'Sum', ${period.toSeconds()})`,
        usingMetrics: {},
        label,
        period,
      });

    const window = Duration.minutes(15);
    const decisions = Object.fromEntries(
      DIMENSION_VALUES.outcome.map((outcome) => [outcome, warden('Outcome', Stats.SUM, { outcome }, outcome, window)]),
    ) as Record<(typeof DIMENSION_VALUES.outcome)[number], Metric>;
    const total = `(FILL(approved, 0) + FILL(rejected, 0) + FILL(pending, 0))`;
    this.rejectionRate = new MathExpression({
      expression: `IF(${total} >= ${thresholds.minRequestsForRejectionRate}, 100 * FILL(rejected, 0) / ${total}, 0)`,
      usingMetrics: { approved: decisions.approved, rejected: decisions.rejected, pending: decisions.pending_approval },
      label: 'Rejection rate (%)',
      period: window,
    });

    // --- Alarms ------------------------------------------------------------------------------
    const alarmArns: string[] = [];
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string): Alarm => {
      const alarmName = alarmNameFor(stack.stackName, alarmId);
      alarmArns.push(stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
      const created = new Alarm(this, alarmId, {
        alarmName,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No data means nothing happened: no requests, no failures, no messages.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${description} See README "Operate".`,
      });
      created.addAlarmAction(notify);
      this.alarms.push(created);
      return created;
    };

    alarm(
      'RejectionRate',
      this.rejectionRate,
      thresholds.rejectionRatePercent,
      `More than ${thresholds.rejectionRatePercent}% of decisions were rejected in 15 minutes (with at least ${thresholds.minRequestsForRejectionRate} decisions).`,
    );
    alarm(
      'ValidationLatencyP99',
      warden('ValidationLatency', Stats.p(99)),
      thresholds.validationP99Ms,
      `Validation p99 is above ${thresholds.validationP99Ms} ms.`,
    );
    alarm(
      'FailedExecutionsQueued',
      queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM }),
      0,
      'A failed, timed-out or aborted execution is waiting in the failed-executions queue.',
    );
    alarm(
      'FailureEventsUndelivered',
      new Metric({
        namespace: 'AWS/Events',
        metricName: 'FailedInvocations',
        dimensionsMap: { RuleName: this.failedExecutionsRule.ruleName },
        statistic: Stats.SUM,
        period,
      }),
      0,
      'EventBridge could not put a failed-execution event on the queue (check the queue policy and the key policy).',
    );

    const sm = props.stateMachine;
    const executions = (metricName: string, label?: string): Metric => sm.metric(metricName, { period, statistic: Stats.SUM, ...(label ? { label } : {}) });
    alarm('ExecutionsFailed', executions('ExecutionsFailed'), 0, 'A governed request execution failed.');
    alarm('ExecutionsTimedOut', executions('ExecutionsTimedOut'), 0, 'A governed request execution timed out.');

    for (const fn of fns) {
      const name = fn.wardenName.charAt(0).toUpperCase() + fn.wardenName.slice(1);
      alarm(`${name}Errors`, fn.metricErrors({ period, statistic: Stats.SUM }), 0, `The ${fn.wardenName} Lambda threw.`);
      alarm(`${name}Throttles`, fn.metricThrottles({ period, statistic: Stats.SUM }), 0, `The ${fn.wardenName} Lambda was throttled.`);
    }
    alarm('Api5xx', props.api.metricServerError({ period, statistic: Stats.SUM }), 0, 'The HTTP API returned 5xx.');

    // enforceSSL gave the topic a policy of its own, which replaces SNS's default one: CloudWatch
    // may publish only because of this statement, and only for this stack's alarms.
    const fromTheseAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnEquals: { 'aws:SourceArn': alarmArns },
    };
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisStackPublish',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: fromTheseAlarms,
      }),
    );
    // CloudWatch encrypts the message for the topic itself, so it needs the key as well.
    const { statementAdded } = props.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheEncryptedAlarmTopic',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromTheseAlarms,
      }),
    );
    // An imported key's policy cannot change here: the alarms would fire and notify no one.
    if (!statementAdded) throw new Error('WardenObservability needs a key whose policy it can extend (CloudWatch must use it to publish alarms).');

    // --- Dashboard ---------------------------------------------------------------------------
    const height = 6;
    const threshold = (value: number, label: string): HorizontalAnnotation => ({ value, label });
    const approvalLogGroups = ['dehydrate', 'approval', 'finalize'].flatMap((name) => {
      const fn = fnNamed(name);
      return fn ? [fn.logGroup.logGroupName] : [];
    });
    const pendingChange = new MathExpression({
      expression: 'RUNNING_SUM(FILL(requested, 0) - FILL(approved, 0) - FILL(rejected, 0) - FILL(expired, 0))',
      usingMetrics: {
        requested: warden('ApprovalsRequested', Stats.SUM),
        approved: warden('ApprovalsDecided', Stats.SUM, { decision: 'approved' }),
        rejected: warden('ApprovalsDecided', Stats.SUM, { decision: 'rejected' }),
        expired: warden('ApprovalsExpired', Stats.SUM),
      },
      label: 'Pending: change since the start of the range',
      period,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new TextWidget({
            markdown:
              '## Warden\nRequests, decisions, approvals and model use (namespace `Warden`), the Lambdas, the state machine and the failed-executions queue. What to do on each alarm: README "Operate".',
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            title: 'Requests: submitted and by route',
            left: [warden('RequestsSubmitted', Stats.SUM, {}, 'submitted'), ...ROUTES.map((route) => warden('Route', Stats.SUM, { route }, route))],
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Decisions by outcome',
            left: DIMENSION_VALUES.outcome.map((outcome) => warden('Outcome', Stats.SUM, { outcome }, outcome)),
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Requests by terminal status',
            left: DIMENSION_VALUES.status.map((status) => warden('RequestsFinalized', Stats.SUM, { status }, status)),
            width: 8,
            height,
          }),
        ],
        [
          new GraphWidget({
            title: 'Rejection rate (% of decisions, 15 min)',
            left: [this.rejectionRate],
            leftAnnotations: [threshold(thresholds.rejectionRatePercent, 'alarm')],
            leftYAxis: { min: 0, max: 100 },
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Rejections and escalations by reason',
            left: [search('Rejections', 'reason', 'rejected:'), search('Escalations', 'reason', 'to a human:')],
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Validation latency (ms)',
            left: [warden('ValidationLatency', Stats.p(50), {}, 'p50'), warden('ValidationLatency', Stats.p(99), {}, 'p99')],
            leftAnnotations: [threshold(thresholds.validationP99Ms, 'p99 alarm')],
            width: 8,
            height,
          }),
        ],
        [
          new GraphWidget({
            title: 'Approvals',
            left: [
              warden('ApprovalsRequested', Stats.SUM, {}, 'requested'),
              ...DIMENSION_VALUES.decision.map((decision) => warden('ApprovalsDecided', Stats.SUM, { decision }, decision)),
              warden('ApprovalsExpired', Stats.SUM, {}, 'expired'),
            ],
            right: [pendingChange],
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Approval latency (ms, task opened → decided)',
            left: [warden('ApprovalLatency', Stats.p(50), {}, 'p50'), warden('ApprovalLatency', Stats.p(99), {}, 'p99')],
            width: 8,
            height,
          }),
          new LogQueryWidget({
            title: 'Open approval tasks, oldest first (opened within the range)',
            logGroupNames: approvalLogGroups,
            queryLines: [
              'fields @timestamp, taskId, requestId, message',
              'filter ispresent(taskId) and message in ["awaiting approval", "approval delivered to the workflow", "task decided", "approval expired", "request finalized", "request failed"]',
              'stats earliest(@timestamp) as openedAt, latest(message) as last, latest(requestId) as request by taskId',
              'filter last = "awaiting approval"',
              'sort openedAt asc',
              'limit 50',
            ],
            width: 8,
            height,
          }),
        ],
        [
          new GraphWidget({
            title: 'Model tokens by tier',
            left: DIMENSION_VALUES.tier.flatMap((tier) => [
              warden('ModelInputTokens', Stats.SUM, { tier }, `input ${tier}`),
              warden('ModelOutputTokens', Stats.SUM, { tier }, `output ${tier}`),
            ]),
            width: 12,
            height,
          }),
          new GraphWidget({
            title: 'Model cost (USD) by tier',
            left: DIMENSION_VALUES.tier.map((tier) => warden('ModelCostUsd', Stats.SUM, { tier }, tier)),
            width: 12,
            height,
          }),
        ],
        [
          new GraphWidget({
            title: 'Lambda errors',
            left: fns.map((fn) => fn.metricErrors({ period, statistic: Stats.SUM, label: fn.wardenName })),
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Lambda duration p99 (ms)',
            left: fns.map((fn) => fn.metricDuration({ period, statistic: Stats.p(99), label: fn.wardenName })),
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Lambda throttles',
            left: fns.map((fn) => fn.metricThrottles({ period, statistic: Stats.SUM, label: fn.wardenName })),
            width: 8,
            height,
          }),
        ],
        [
          new GraphWidget({
            title: 'Executions',
            left: ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'].map((name) =>
              executions(name, name.replace(/^Executions/, '').toLowerCase()),
            ),
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Execution failures by code (MarkFailed)',
            left: [search('ExecutionFailures', 'code', '')],
            width: 8,
            height,
          }),
          new GraphWidget({
            title: 'Failed-executions queue',
            left: [queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: 'messages' })],
            right: [queue.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM, label: 'oldest (s)' })],
            width: 8,
            height,
          }),
        ],
        [
          new GraphWidget({
            title: 'API',
            left: [
              props.api.metricCount({ period, label: 'requests' }),
              props.api.metricClientError({ period, label: '4xx' }),
              props.api.metricServerError({ period, label: '5xx' }),
            ],
            right: [props.api.metricLatency({ period, statistic: Stats.p(99), label: 'p99 latency' })],
            width: 12,
            height,
          }),
          new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12, height }),
        ],
      ],
    });
  }
}
