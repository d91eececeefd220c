import { Match } from 'aws-cdk-lib/assertions';
import { FUNCTION_NAMES } from '../../lib/constructs/functions';
import { logicalIdOf, synthWarden, type Synthesized } from './synth';

let synth: Synthesized;
type Alarm = { Properties: Record<string, unknown> };
let alarms: Alarm[];

beforeAll(() => {
  synth = synthWarden();
  alarms = Object.values(synth.template.findResources('AWS::CloudWatch::Alarm')) as Alarm[];
});

function alarmOn(metricName: string, dimension?: { Name: string; Value: unknown }): Alarm[] {
  return alarms.filter(
    (alarm) =>
      alarm.Properties.MetricName === metricName &&
      (!dimension || JSON.stringify(alarm.Properties.Dimensions).includes(JSON.stringify(dimension))),
  );
}

it('sends every alarm to the KMS-encrypted alarm topic', () => {
  const topicId = logicalIdOf(synth.stack, synth.stack.observability.alarmTopic);
  synth.template.hasResourceProperties('AWS::SNS::Topic', {
    KmsMasterKeyId: { 'Fn::GetAtt': [logicalIdOf(synth.stack, synth.stack.data.key), 'Arn'] },
  });
  expect(alarms.length).toBeGreaterThan(0);
  for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
});

it('lets CloudWatch use the key to publish to the encrypted topic', () => {
  synth.template.hasResourceProperties('AWS::KMS::Key', {
    KeyPolicy: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: Match.arrayWith(['kms:Decrypt']),
        }),
      ]),
    },
  });
});

it('alarms on failed and timed-out executions', () => {
  const sm = { Name: 'StateMachineArn', Value: { Ref: logicalIdOf(synth.stack, synth.stack.workflow.stateMachine) } };
  for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
    const [alarm] = alarmOn(metric, sm);
    expect(alarm?.Properties).toMatchObject({ Namespace: 'AWS/States', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  }
});

it.each(FUNCTION_NAMES)('alarms on errors and throttles of %s', (name) => {
  const fn = { Name: 'FunctionName', Value: { Ref: logicalIdOf(synth.stack, synth.stack.functions.byName[name]) } };
  expect(alarmOn('Errors', fn)).toHaveLength(1);
  expect(alarmOn('Throttles', fn)).toHaveLength(1);
});

it('alarms when validation p99 reaches 2 s', () => {
  const fn = { Name: 'FunctionName', Value: { Ref: logicalIdOf(synth.stack, synth.stack.functions.byName.validation) } };
  const [alarm] = alarmOn('Duration', fn);
  expect(alarm?.Properties).toMatchObject({ ExtendedStatistic: 'p99', Threshold: 2000 });
});

it('alarms on API 5xx and has a dashboard', () => {
  expect(alarmOn('5xx')).toHaveLength(1);
  synth.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
});
