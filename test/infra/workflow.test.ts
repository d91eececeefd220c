import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Function as LambdaFunction, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { FUNCTION_NAMES, WORKFLOW_FUNCTIONS, type WorkflowFunctionName } from '../../lib/constructs/functions';
import {
  ASL_FILE,
  aslPlaceholders,
  definitionSubstitutionsFor,
  functionArnPlaceholder,
  stateMachineNameFor,
  WardenWorkflow,
  WORKFLOW_LOG_GROUP_PREFIX,
} from '../../lib/constructs/workflow';
import { evaluateIntrinsics, logicalIdOf, synthWarden, type Synthesized } from './synth';

let synth: Synthesized;
let stateMachine: { Properties: Record<string, unknown>; DeletionPolicy?: string };

beforeAll(() => {
  synth = synthWarden();
  stateMachine = synth.template.toJSON().Resources[logicalIdOf(synth.stack, synth.stack.workflow.stateMachine)];
});

describe('state machine', () => {
  it('is the only one, a Standard workflow whose definition is the ASL file', () => {
    synth.template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(stateMachine.Properties.StateMachineType).toBe('STANDARD');
    const deployed = JSON.parse(stateMachine.Properties.DefinitionString as string) as { States: Record<string, unknown> };
    const file = JSON.parse(fs.readFileSync(ASL_FILE, 'utf8')) as { States: Record<string, unknown> };
    expect(Object.keys(deployed.States)).toEqual(Object.keys(file.States));
    // Everything but the approval wait's timeout is the file, placeholders included.
    expect({ ...deployed.States, AwaitApproval: undefined }).toEqual({ ...file.States, AwaitApproval: undefined });
  });

  it('waits for approval for exactly the configured number of seconds', () => {
    const custom = synthWarden({ approvalTimeoutSeconds: 3600 });
    const resource = custom.template.toJSON().Resources[logicalIdOf(custom.stack, custom.stack.workflow.stateMachine)];
    const deployed = JSON.parse(resource.Properties.DefinitionString as string) as { States: Record<string, { TimeoutSeconds?: number }> };
    expect(deployed.States.AwaitApproval.TimeoutSeconds).toBe(3600);
    expect((JSON.parse(stateMachine.Properties.DefinitionString as string) as typeof deployed).States.AwaitApproval.TimeoutSeconds).toBe(604800);
  });

  it('traces with X-Ray', () => {
    expect(stateMachine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('logs every event, without execution data (task tokens, PII), to a retained log group', () => {
    const logGroupId = logicalIdOf(synth.stack, synth.stack.workflow.logGroup);
    expect(stateMachine.Properties.LoggingConfiguration).toEqual({
      Level: 'ALL',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
    });
    expect(synth.template.toJSON().Resources[logGroupId]).toMatchObject({
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  describe('its log group name', () => {
    const stackId = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Warden/51af3dc0-da77-11e4-872e-1234567db123';
    const nameIn = (from: Synthesized, id = stackId): unknown => {
      const logGroup = from.template.toJSON().Resources[logicalIdOf(from.stack, from.stack.workflow.logGroup)];
      return evaluateIntrinsics(logGroup.Properties.LogGroupName, { 'AWS::StackId': id });
    };

    it('is under /aws/vendedlogs/states/, after the state machine and this stack instance', () => {
      expect(WORKFLOW_LOG_GROUP_PREFIX).toBe('/aws/vendedlogs/states/');
      expect(nameIn(synth)).toBe('/aws/vendedlogs/states/Warden-GovernedRequest-51af3dc0');
    });

    it('is new for a stack created again, so a retained log group of a deleted stack does not block it', () => {
      const recreated = 'arn:aws:cloudformation:us-east-1:123456789012:stack/Warden/9c0ffee1-0000-11f0-8000-abcdefabcdef';
      expect(nameIn(synth, recreated)).toBe('/aws/vendedlogs/states/Warden-GovernedRequest-9c0ffee1');
    });

    it('keeps its retention and removal policy from the config', () => {
      const custom = synthWarden({ logRetentionDays: 90, removalPolicy: 'destroy' });
      const logGroup = custom.template.toJSON().Resources[logicalIdOf(custom.stack, custom.stack.workflow.logGroup)];
      expect(logGroup).toMatchObject({ Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Delete' });
      expect(Object.keys(logGroup.Properties).sort()).toEqual(['LogGroupName', 'RetentionInDays']);
      expect(nameIn(custom)).toBe('/aws/vendedlogs/states/Warden-GovernedRequest-51af3dc0');
    });

    it('is a stack output', () => {
      const outputs = synth.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(outputs.WorkflowLogGroupName.Value).toEqual({ Ref: logicalIdOf(synth.stack, synth.stack.workflow.logGroup) });
    });
  });

  it('substitutes every placeholder of the ASL file with the ARN of its function', () => {
    const placeholders = aslPlaceholders(fs.readFileSync(ASL_FILE, 'utf8'));
    const substitutions = stateMachine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    for (const name of WORKFLOW_FUNCTIONS) {
      const placeholder = functionArnPlaceholder(name);
      if (!placeholders.includes(placeholder)) continue;
      const fnId = logicalIdOf(synth.stack, synth.stack.functions.byName[name]);
      expect(substitutions[placeholder]).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
    }
  });
});

describe('the execution ARN in every log line', () => {
  it('names the state machine after the stack, within the 80 characters Step Functions allows', () => {
    expect(stateMachine.Properties.StateMachineName).toBe('Warden-GovernedRequest');
    expect(stateMachineNameFor('Warden')).toBe('Warden-GovernedRequest');
    const long = stateMachineNameFor('W'.repeat(128));
    expect(long).toHaveLength(80);
    expect(long.endsWith('-GovernedRequest')).toBe(true);
  });

  it.each(FUNCTION_NAMES.filter((name) => name !== 'gateway' && name !== 'mcp'))(
    'gives %s the state machine ARN without a reference to it (the state machine refers to the functions)',
    (name) => {
      const fn = synth.template.toJSON().Resources[logicalIdOf(synth.stack, synth.stack.functions.byName[name])];
      // With an account and region in the stack's env (and partition literals), the ARN is a plain string.
      expect(fn.Properties.Environment.Variables.STATE_MACHINE_ARN).toBe(
        'arn:aws:states:us-east-1:123456789012:stateMachine:Warden-GovernedRequest',
      );
    },
  );

  it('leaves the gateway its reference (it starts executions, and is not invoked by the state machine)', () => {
    const fn = synth.template.toJSON().Resources[logicalIdOf(synth.stack, synth.stack.functions.byName.gateway)];
    expect(fn.Properties.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: logicalIdOf(synth.stack, synth.stack.workflow.stateMachine) });
  });
});

describe('placeholders', () => {
  it('finds each distinct ${Name} once, sorted', () => {
    expect(aslPlaceholders('{"a": "${B}", "b": "${A}", "c": "${B}", "d": "$.x", "e": "${not valid}"}')).toEqual(['A', 'B']);
  });

  it('maps the ASL file placeholders to the six workflow functions', () => {
    const placeholders = aslPlaceholders(fs.readFileSync(ASL_FILE, 'utf8'));
    expect(placeholders).toEqual(
      ['DehydrateFunctionArn', 'ExecutionFunctionArn', 'FinalizeFunctionArn', 'InferenceFunctionArn', 'TriageFunctionArn', 'ValidationFunctionArn'],
    );
    expect(WORKFLOW_FUNCTIONS.map(functionArnPlaceholder).sort()).toEqual(placeholders);
  });

  it('fails synth when a placeholder has no value, naming it', () => {
    expect(() => definitionSubstitutionsFor('{"x": "${TriageFunctionArn}", "y": "${AuditTopicArn}"}', { TriageFunctionArn: 'arn' })).toThrow(
      'placeholders with no value: AuditTopicArn',
    );
  });

  it('passes only the placeholders the file uses', () => {
    expect(definitionSubstitutionsFor('{"x": "${A}"}', { A: '1', B: '2' })).toEqual({ A: '1' });
  });
});

describe('WardenWorkflow with another definition file', () => {
  it('throws at synth when the file uses a placeholder no function provides', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-asl-'));
    const file = path.join(dir, 'bad.asl.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        StartAt: 'A',
        States: { A: { Type: 'Task', Resource: '${NotifyTopicArn}', End: true } },
      }),
    );
    const stack = new Stack(new App(), 'S');
    const functions = Object.fromEntries(
      WORKFLOW_FUNCTIONS.map((name) => [
        name,
        LambdaFunction.fromFunctionArn(stack, name, `arn:aws:lambda:us-east-1:123456789012:function:${name}`),
      ]),
    ) as Record<WorkflowFunctionName, IFunction>;
    try {
      expect(
        () =>
          new WardenWorkflow(stack, 'Workflow', {
            functions,
            logRetention: RetentionDays.ONE_DAY,
            removalPolicy: RemovalPolicy.DESTROY,
            approvalTimeoutSeconds: 60,
            definitionFile: file,
          }),
      ).toThrow('placeholders with no value: NotifyTopicArn');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
