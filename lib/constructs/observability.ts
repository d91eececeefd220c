import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WardenFunction } from './functions';

export interface WardenObservabilityProps {
  readonly functions: readonly WardenFunction[];
  readonly stateMachine: IStateMachine;
  readonly api: IHttpApi;
  /** Encrypts the alarm topic; CloudWatch is allowed to use it for publishing. */
  readonly key: IKey;
  /**
   * p99 duration of the validation Lambda above which an alarm fires (DESIGN.md §7).
   * @default Duration.seconds(2)
   */
  readonly validationP99Threshold?: Duration;
}

/**
 * Alarms on the things that must not go unnoticed (failed or timed-out executions, Lambda
 * errors and throttles, slow validation, API 5xx) to one SNS topic, plus a dashboard.
 */
export class WardenObservability extends Construct {
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: WardenObservabilityProps) {
    super(scope, id);
    const period = Duration.minutes(5);

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'Warden alarms',
      masterKey: props.key,
      enforceSSL: true,
    });
    // CloudWatch publishes to the encrypted topic itself, so it needs the key (key policy).
    props.key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const notify = new SnsAction(this.alarmTopic);

    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string): void => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(notify);
      this.alarms.push(created);
    };

    const sm = props.stateMachine;
    const executionMetric = (metricName: string): IMetric => sm.metric(metricName, { period, statistic: Stats.SUM });
    alarm('ExecutionsFailed', executionMetric('ExecutionsFailed'), 1, 'A governed request failed after its retries.');
    alarm('ExecutionsTimedOut', executionMetric('ExecutionsTimedOut'), 1, 'A governed request execution timed out.');

    for (const fn of props.functions) {
      const name = fn.wardenName.charAt(0).toUpperCase() + fn.wardenName.slice(1);
      alarm(`${name}Errors`, fn.metricErrors({ period, statistic: Stats.SUM }), 1, `The ${fn.wardenName} Lambda threw.`);
      alarm(`${name}Throttles`, fn.metricThrottles({ period, statistic: Stats.SUM }), 1, `The ${fn.wardenName} Lambda was throttled.`);
    }

    const validation = props.functions.find((fn) => fn.wardenName === 'validation');
    const p99Limit = props.validationP99Threshold ?? Duration.seconds(2);
    if (validation) {
      alarm(
        'ValidationLatencyP99',
        validation.metricDuration({ period, statistic: Stats.p(99) }),
        p99Limit.toMilliseconds(),
        `Validation p99 duration is at or above ${p99Limit.toSeconds()} s.`,
      );
    }

    alarm('Api5xx', props.api.metricServerError({ period, statistic: Stats.SUM }), 1, 'The HTTP API returned 5xx.');

    this.dashboard = new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'Executions',
            left: ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'].map((metricName) =>
              executionMetric(metricName),
            ),
          }),
          new GraphWidget({
            title: 'API',
            left: [
              props.api.metricCount({ period }),
              props.api.metricClientError({ period }),
              props.api.metricServerError({ period }),
            ],
            right: [props.api.metricLatency({ period, statistic: Stats.p(99) })],
          }),
        ],
        [
          new GraphWidget({
            title: 'Lambda errors',
            left: props.functions.map((fn) => fn.metricErrors({ period, label: fn.wardenName })),
          }),
          new GraphWidget({
            title: 'Lambda p99 duration',
            left: props.functions.map((fn) => fn.metricDuration({ period, statistic: Stats.p(99), label: fn.wardenName })),
          }),
        ],
      ],
    });
  }
}
