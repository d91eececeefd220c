import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Aws, CfnElement, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { governedRequestDefinition } from '../asl';
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionName } from './functions';

/** The single source of truth for orchestration, shared with the local runtime. */
export const ASL_FILE = path.join(__dirname, '..', '..', 'statemachines', 'governed-request.asl.json');

/** Every distinct `${Name}` placeholder in an ASL file's text, sorted. */
export function aslPlaceholders(fileText: string): string[] {
  const names = new Set<string>();
  for (const match of fileText.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)) names.add(match[1]);
  return [...names].sort();
}

/** The placeholder the ASL uses for a workflow function's ARN: `triage` → `TriageFunctionArn`. */
export function functionArnPlaceholder(name: WorkflowFunctionName): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}FunctionArn`;
}

/**
 * The `definitionSubstitutions` for an ASL file: a value for every placeholder it uses, and
 * nothing else. Throws (failing synth) when a placeholder has no value, so an ASL edit cannot
 * deploy with a literal `${...}` in it.
 */
export function definitionSubstitutionsFor(fileText: string, available: Readonly<Record<string, string>>): Record<string, string> {
  const substitutions: Record<string, string> = {};
  const missing: string[] = [];
  for (const placeholder of aslPlaceholders(fileText)) {
    const value = available[placeholder];
    if (value === undefined) missing.push(placeholder);
    else substitutions[placeholder] = value;
  }
  if (missing.length > 0) {
    throw new Error(`The state machine definition uses placeholders with no value: ${missing.join(', ')}`);
  }
  return substitutions;
}

const NAME_SUFFIX = '-GovernedRequest';

/**
 * The state machine's name: fixed per stack, so its ARN is known without a reference to it. The
 * functions it invokes need that ARN (to name their execution in every log line), and a
 * reference would be a dependency cycle: the state machine already refers to them.
 */
export function stateMachineNameFor(stackName: string): string {
  if (Token.isUnresolved(stackName)) throw new Error('The Warden stack needs a literal stack name (its state machine is named after it).');
  return `${stackName.slice(0, 80 - NAME_SUFFIX.length)}${NAME_SUFFIX}`;
}

/** Where Step Functions' guidance puts a state machine's log group (see `workflowLogGroupNameFor`). */
export const WORKFLOW_LOG_GROUP_PREFIX = '/aws/vendedlogs/states/';

/**
 * The state machine's log group name: `/aws/vendedlogs/states/<state machine name>-<id>`, where
 * `<id>` is the first eight hex digits of the CloudFormation stack's id.
 * - Under `/aws/vendedlogs/`, log delivery is authorized by one wildcard entry; elsewhere each
 *   state machine adds an entry to the account's CloudWatch Logs resource policy, which has a
 *   size limit, and creating state machines starts failing in busy accounts.
 * - The stack id part keeps the name fixed for a stack's lifetime but new for a stack created
 *   again: the log group is retained by default, and a retained group of the same name would
 *   make that creation fail.
 */
export function workflowLogGroupNameFor(stackName: string): string {
  const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
  return `${WORKFLOW_LOG_GROUP_PREFIX}${stateMachineNameFor(stackName)}-${Fn.select(0, Fn.split('-', stackUuid))}`;
}

export interface WardenWorkflowProps {
  readonly functions: { readonly [K in WorkflowFunctionName]: IFunction };
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The approval wait's TimeoutSeconds (the one non-string value the ASL takes from config). */
  readonly approvalTimeoutSeconds: number;
  /** @default ASL_FILE */
  readonly definitionFile?: string;
}

/**
 * The governed-request state machine (Standard), from the ASL file with its placeholders
 * substituted and the approval timeout applied (lib/asl.ts, shared with local mode). CDK infers
 * no permissions from a definition it did not build: the invoke grants are explicit, for
 * exactly the functions the file references.
 */
export class WardenWorkflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  /**
   * The state machine's ARN built from its fixed name, without a reference to the resource: what
   * the functions it invokes may carry in their environment without a dependency cycle.
   */
  readonly stateMachineArnWithoutRef: string;

  constructor(scope: Construct, id: string, props: WardenWorkflowProps) {
    super(scope, id);
    const definitionFile = props.definitionFile ?? ASL_FILE;
    const fileText = fs.readFileSync(definitionFile, 'utf8');

    const arns: Record<string, string> = {};
    const byPlaceholder = new Map<string, IFunction>();
    for (const name of WORKFLOW_FUNCTIONS) {
      const placeholder = functionArnPlaceholder(name);
      arns[placeholder] = props.functions[name].functionArn;
      byPlaceholder.set(placeholder, props.functions[name]);
    }
    const definitionSubstitutions = definitionSubstitutionsFor(fileText, arns);

    const stack = Stack.of(this);
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: workflowLogGroupNameFor(stack.stackName),
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });

    const stateMachineName = stateMachineNameFor(stack.stackName);
    this.stateMachineArnWithoutRef = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.stateMachine = new StateMachine(this, 'GovernedRequest', {
      stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(governedRequestDefinition(props.approvalTimeoutSeconds, fileText)),
      definitionSubstitutions,
      tracingEnabled: true,
      logs: {
        destination: this.logGroup,
        level: LogLevel.ALL,
        // Execution data holds the task token and request text (PII): keep it out of the logs.
        includeExecutionData: false,
      },
    });

    const invoked = Object.keys(definitionSubstitutions).flatMap((placeholder) => {
      const fn = byPlaceholder.get(placeholder);
      return fn ? [fn] : [];
    });
    if (invoked.length > 0) {
      this.stateMachine.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['lambda:InvokeFunction'],
          // The unqualified ARN, and its versions / aliases (`:*`) so a qualified invoke also works.
          resources: invoked.flatMap((fn) => [fn.functionArn, `${fn.functionArn}:*`]),
        }),
      );
    }

    const role = this.stateMachine.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Vended log delivery (logs:*LogDelivery, DescribeResourcePolicies) and X-Ray writes support no resource-level permissions.',
    });
    for (const fn of invoked) {
      const child = fn.node.defaultChild;
      if (!(child instanceof CfnElement)) continue;
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).resolve(child.logicalId)}.Arn>:*]`,
        reason: 'Versions and aliases of a function the state machine invokes, and no other function.',
      });
    }
  }
}
