import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { STATE_MACHINE_ARN_ENV } from '../lambdas/shared/tables';
import { logRetentionOf, removalPolicyOf } from './cdk-config';
import type { WardenConfig } from './config';
import { WardenApi } from './constructs/api';
import { WardenData } from './constructs/data';
import { bindStateMachine, bindTokenIssuer, WardenFunctions } from './constructs/functions';
import { WardenIdentity } from './constructs/identity';
import { WardenObservability } from './constructs/observability';
import { WardenWorkflow } from './constructs/workflow';
import { STACK_OUTPUTS } from './outputs';

export interface WardenStackProps extends StackProps {
  /** The parsed `warden` context (see `parseConfig`). */
  readonly config: WardenConfig;
}

/** Warden: data, functions, the governed-request workflow, identity, the HTTP API, alarms and the dashboard. */
export class WardenStack extends Stack {
  readonly data: WardenData;
  readonly functions: WardenFunctions;
  readonly workflow: WardenWorkflow;
  readonly identity: WardenIdentity;
  readonly api: WardenApi;
  readonly observability: WardenObservability;

  constructor(scope: Construct, id: string, props: WardenStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = removalPolicyOf(config);
    const logRetention = logRetentionOf(config);

    this.data = new WardenData(this, 'Data', {
      removalPolicy,
      approvalTimeoutSeconds: config.approvalTimeoutSeconds,
    });
    this.functions = new WardenFunctions(this, 'Functions', { config, data: this.data, removalPolicy });
    const fns = this.functions.byName;

    this.workflow = new WardenWorkflow(this, 'Workflow', {
      functions: fns,
      logRetention,
      removalPolicy,
      approvalTimeoutSeconds: config.approvalTimeoutSeconds,
    });
    bindStateMachine(fns.gateway, this.workflow.stateMachine);
    bindStateMachine(fns.mcp, this.workflow.stateMachine);
    // Every other function only names its execution in its logs (no permission comes with it).
    for (const fn of Object.values(fns)) {
      if (fn !== fns.gateway && fn !== fns.mcp) fn.addEnvironment(STATE_MACHINE_ARN_ENV, this.workflow.stateMachineArnWithoutRef);
    }

    this.identity = new WardenIdentity(this, 'Identity', { auth: config.auth, removalPolicy });
    bindTokenIssuer(fns.mcp, this.identity);
    this.api = new WardenApi(this, 'Api', {
      gateway: fns.gateway,
      approval: fns.approval,
      mcp: fns.mcp,
      issuer: this.identity.issuer,
      audience: this.identity.audience,
      throttling: config.throttling,
      logRetention,
      removalPolicy,
    });

    this.observability = new WardenObservability(this, 'Observability', {
      functions: Object.values(fns),
      stateMachine: this.workflow.stateMachine,
      api: this.api.httpApi,
      key: this.data.key,
      thresholds: config.alarms,
      removalPolicy,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the Warden HTTP API' });
    new CfnOutput(this, 'StateMachineArn', { value: this.workflow.stateMachine.stateMachineArn });
    new CfnOutput(this, 'WorkflowLogGroupName', {
      value: this.workflow.logGroup.logGroupName,
      description: "The state machine's log group (state transitions, no execution data)",
    });
    if (this.identity.userPool && this.identity.userPoolClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.identity.userPoolClient.userPoolClientId });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.observability.alarmTopic.topicArn });
    new CfnOutput(this, 'FailedExecutionsQueueUrl', {
      value: this.observability.failedExecutions.queueUrl,
      description: 'Failed, timed-out and aborted executions, one message each, for a redrive',
    });
    new CfnOutput(this, 'DashboardName', { value: this.observability.dashboard.dashboardName });
    new CfnOutput(this, STACK_OUTPUTS.recordsTable, {
      value: this.data.tables.records.tableName,
      description: 'The example system of record; npm run seed loads its example records',
    });
  }
}
