import * as path from 'node:path';
import { Annotations, ArnFormat, CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  AUDIT_SIGNING_KEY_ENV,
  STATE_BUCKET_ENV,
  STATE_KEY_ENV,
  STATE_MACHINE_ARN_ENV,
  TABLES,
  type TableKey,
} from '../../lambdas/shared/tables';
import { OPTIONAL_SDK, optionalSdkFile } from '../../lambdas/shared/adapters/aws/optional-sdk';
import { S3_MODULE_FILE } from '../../lambdas/shared/adapters/aws/sdk';
import { CONNECTORS_ENV, unconfiguredActions } from '../../lambdas/shared/connectors/config';
import { JWT_ENV } from '../../lambdas/shared/http/bearer';
import { bundledPolicyFiles } from '../../lambdas/shared/policy/policies';
import { EFFECT_CLAIM_TYPE } from '../../lambdas/shared/catalog/records';
import { LEDGER_TYPE } from '../../lambdas/shared/limits/shares';
import { logRetentionOf } from '../cdk-config';
import { WORKFLOW_FUNCTIONS, type FunctionName } from '../function-names';
import { WardenConfigError, foundationModelId, isInferenceProfileId, isSecretArn, usableModelIds, type WardenConfig } from '../config';
import { CHECKPOINT_PREFIX, type WardenData } from './data';

/** The newest Node.js runtime this aws-cdk-lib knows; the esbuild target follows it. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
const ESBUILD_TARGET = LAMBDA_RUNTIME.name.replace(/^nodejs(\d+)\.x$/, 'node$1');

const PROJECT_ROOT = path.join(__dirname, '..', '..');

/**
 * For the Lambdas that evaluate Cedar: `@cedar-policy/cedar-wasm`'s nodejs build reads
 * `${__dirname}/cedar_wasm_bg.wasm`, and the policy loader looks for each action's compiled pack
 * under `__dirname` (actions/index.ts). In the CommonJS bundle `__dirname` is the bundle's folder:
 * the hook puts the wasm and the packs there, in the catalog's layout.
 */
/**
 * The Lambdas whose bundles leave the adapters' S3 module out and carry it beside themselves
 * (adapters/aws/sdk/index.ts): the gateway and the MCP handler use S3 only to vault the PII of a
 * submission that holds some, so a cold start does not parse the S3 client (about 140 KiB); the
 * first such submission reads it. Every other user of S3 reads or writes state on each request.
 */
export const S3_BESIDE_FUNCTIONS: readonly string[] = ['gateway', 'mcp'];

/** The adapters' S3 module, relative to the project root: what such a bundle's `sdk/s3.js` is built from. */
const S3_MODULE_SOURCE = 'lambdas/shared/adapters/aws/sdk/s3.ts';

/** The Lambdas that evaluate Cedar: requester permission (gateway, mcp), the decision (validation), approver authority (approval). */
export const POLICY_ENGINE_FUNCTIONS: readonly string[] = ['gateway', 'validation', 'approval', 'mcp'];

/**
 * The hook's commands: copy the wasm, and write each catalog policy as a strictly validated pack
 * in Cedar's JSON forms (a cold start then never runs Cedar's text parsers). Building the packs
 * here makes a policy that does not validate fail the synth.
 */
export function policyEngineFiles(inputDir: string, outputDir: string): string[] {
  const commands = [`cp ${path.join(inputDir, 'node_modules/@cedar-policy/cedar-wasm/nodejs/cedar_wasm_bg.wasm')} ${outputDir}/`];
  for (const [file, content] of Object.entries(bundledPolicyFiles())) {
    const target = path.join(outputDir, file);
    commands.push(`mkdir -p ${path.dirname(target)}`, `echo ${Buffer.from(content).toString('base64')} | base64 -d > ${target}`);
  }
  return commands;
}

/**
 * The credential providers the SDK's default chain imports, by name, only when the environment
 * holds no credentials. Lambda always sets them (AWS_ACCESS_KEY_ID, …), so in the bundle they
 * would be code every cold start parses and no invocation runs: about 100 KiB with the STS and
 * SSO clients they build. Each ships instead as a package of its own beside the bundle,
 * `node_modules/<name>/index.js`, where Node finds it should the chain ever import it.
 */
export const FALLBACK_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@smithy/credential-provider-imds',
] as const;

/**
 * The SSO OIDC client the Bedrock client's bearer-token provider imports, by name, only to refresh
 * an SSO profile's token: never in Lambda. About 18 kB of the inference bundle otherwise; it
 * ships beside the bundle as the credential providers do, written only where the bundle names it.
 */
export const SSO_TOKEN_CLIENT = '@aws-sdk/nested-clients/sso-oidc';

/** What every deployed bundle leaves out and ships beside itself as a package: the code paths Lambda never takes. */
export const LEFT_OUT_PACKAGES = [...FALLBACK_CREDENTIAL_PROVIDERS, SSO_TOKEN_CLIENT] as const;

/**
 * Powertools Tracer, with the X-Ray SDK it wraps (about 130 KiB with semver and cls-hooked). The
 * handlers require it on first use, and only where tracing is on (observability.ts): it ships beside
 * the bundle as a package, as the left-out packages do, so a cold start does not parse it, and where
 * tracing is off nothing ever does. Where it is on, the first request reads it (the bench's floors
 * count it as used).
 */
export const TRACER_PACKAGE = '@aws-lambda-powertools/tracer';

/** The packages a bundle leaves out and ships beside itself, each where Node's resolution finds it. */
export const BESIDE_PACKAGES = [...LEFT_OUT_PACKAGES, TRACER_PACKAGE] as const;

/** Where a bundle keeps a package it leaves out, relative to `index.js`: where Node's resolution finds it. */
export function leftOutPackageFile(name: (typeof BESIDE_PACKAGES)[number]): string {
  return `node_modules/${name}/index.js`;
}

/**
 * The hook's command for what the bundle leaves out and still names: the SDK clients only some
 * code paths load (optional-sdk.ts), each built as `sdk/<client>.js` beside it, the S3 module where
 * the bundle leaves it out, and the packages Lambda never runs (LEFT_OUT_PACKAGES) and the tracer
 * (TRACER_PACKAGE), each as `node_modules/<name>/index.js`. A cold start parses none of them; a path
 * that needs one reads it then (measured by npm run bench).
 */
export function optionalSdkFiles(inputDir: string, outputDir: string, s3Beside = false): string[] {
  const script = path.join(inputDir, 'lib', 'bundling', 'optional-sdk.cjs');
  const files = [
    ...OPTIONAL_SDK.map((name) => `${name}=${optionalSdkFile(name)}`),
    ...(s3Beside ? [`./${S3_MODULE_SOURCE}=${S3_MODULE_FILE}`] : []),
    ...BESIDE_PACKAGES.map((name) => `${name}=${leftOutPackageFile(name)}`),
  ];
  return [['node', script, inputDir, outputDir, ESBUILD_TARGET, ...files].map((arg) => JSON.stringify(arg)).join(' ')];
}

export interface WardenFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'entry' | 'handler' | 'runtime' | 'architecture' | 'tracing' | 'logGroup' | 'logRetention' | 'role' | 'projectRoot'
  > {
  /** The folder under `lambdas/` whose `handler.ts` exports `handler`. */
  readonly name: string;
  /** Retention of the function's own log group. */
  readonly logRetention: RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Ships the Cedar wasm and the catalog's policies in the bundle.
   * @default true for the Lambdas that evaluate policy (POLICY_ENGINE_FUNCTIONS)
   */
  readonly policyEngine?: boolean;
  /**
   * Leaves the adapters' S3 module out of the bundle and ships it beside it as `sdk/s3.js`.
   * @default true for the Lambdas that use S3 only to vault PII (S3_BESIDE_FUNCTIONS)
   */
  readonly s3Beside?: boolean;
}

/**
 * The one way to make a Lambda here: Node 24 on arm64, active tracing, an explicit log group,
 * a CommonJS bundle with its source map beside it, and the Powertools environment. The role starts empty (no
 * AWS managed policy); the bind helpers below add exactly what a function needs.
 */
export class WardenFunction extends NodejsFunction {
  readonly wardenName: string;
  private readonly keyStatements = new Map<string, PolicyStatement>();

  constructor(scope: Construct, id: string, props: WardenFunctionProps) {
    const { name, logRetention, logRemovalPolicy, environment, bundling, policyEngine: engineProp, s3Beside: s3BesideProp, ...rest } = props;
    const policyEngine = engineProp ?? POLICY_ENGINE_FUNCTIONS.includes(name);
    const s3Beside = s3BesideProp ?? S3_BESIDE_FUNCTIONS.includes(name);
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention,
      removalPolicy: logRemovalPolicy,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Warden ${name} Lambda`,
    });
    const defaultBundling: BundlingOptions = {
      // CommonJS, not ESM: an ES module's `import … from 'node:http'` makes Node run every getter of
      // node:http (undici included), which require skips. Measured on the bench machine (11 fresh
      // imports each): triage 138 ms as CommonJS vs 169 ms as ESM, gateway 187 vs 204.
      format: OutputFormat.CJS,
      target: ESBUILD_TARGET,
      minify: true,
      // Class names are not kept: keepNames wraps every class and function in a call that names it,
      // at every cold start. The errors the ASL's Retry/Catch and the failure codes match on state
      // their names as strings (errors.ts); a bundling test checks them in a minified bundle.
      keepNames: false,
      // The map ships beside the bundle for reading a stack trace offline (README); Node reads it
      // only under --enable-source-maps, which is left off: it costs every cold start (npm run bench).
      sourceMap: true,
      sourcesContent: false,
      mainFields: ['module', 'main'],
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir: string, outputDir: string) => [
          ...optionalSdkFiles(inputDir, outputDir, s3Beside),
          ...(policyEngine ? policyEngineFiles(inputDir, outputDir) : []),
        ],
      },
      // Ship the SDK version the code was tested with, not whatever the runtime carries: the
      // clients only some paths load, the packages Lambda never runs (LEFT_OUT_PACKAGES) and the
      // tracer (TRACER_PACKAGE) go beside the bundle as files of their own (optionalSdkFiles).
      bundleAwsSDK: true,
      externalModules: [...OPTIONAL_SDK, ...BESIDE_PACKAGES],
      // The adapters read it to pick the S3 module beside the bundle; esbuild then leaves the other out.
      ...(s3Beside ? { define: { 'process.env.WARDEN_S3_MODULE': JSON.stringify('beside') } } : {}),
    };
    super(scope, id, {
      memorySize: 512,
      timeout: Duration.seconds(10),
      ...rest,
      entry: path.join(PROJECT_ROOT, 'lambdas', name, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      bundling: { ...defaultBundling, ...bundling, define: { ...defaultBundling.define, ...bundling?.define } },
      // The caller's values win: defaults only fill what is missing.
      environment: {
        POWERTOOLS_SERVICE_NAME: `warden-${name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'Warden',
        // Whole events carry tokens and PII: never log them.
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        ...environment,
      },
    });
    this.wardenName = name;
    logGroup.grantWrite(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
  }

  /**
   * Allows `actions` on `key` only when `service` calls KMS on this function's behalf
   * (kms:ViaService), one statement per service so the grants stay readable.
   */
  grantKeyUse(key: IKey, service: 'dynamodb' | 's3', actions: readonly string[]): void {
    const id = `${key.node.addr}/${service}`;
    const existing = this.keyStatements.get(id);
    if (existing) {
      existing.addActions(...actions);
      return;
    }
    const statement = new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...actions],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(this).region}.amazonaws.com` } },
    });
    this.keyStatements.set(id, statement);
    this.addToRolePolicy(statement);
  }
}

/** The items of the cumulative ledger (`LIMIT#…`): the only ones validation and finalize may write in the record table. */
const LEDGER_KEYS = `${LEDGER_TYPE}#*`;

/** DynamoDB item actions a Warden function may be granted, named without the `dynamodb:` prefix. */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'ConditionCheckItem'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem';

const READ_ONLY_ACTIONS: readonly TableAction[] = ['GetItem', 'BatchGetItem', 'Query', 'ConditionCheckItem'];

/** Tables no role may change once written (DESIGN.md §6: the audit chain is append-only). */
const APPEND_ONLY_TABLES: readonly TableKey[] = ['audit'];
const APPEND_ONLY_FORBIDDEN: readonly TableAction[] = ['UpdateItem', 'DeleteItem', 'BatchWriteItem'];

/**
 * What DynamoDB needs to use a table's CMK on the caller's behalf (CDK's own table grants,
 * with the action families spelled out instead of `GenerateDataKey*` / `ReEncrypt*`).
 */
const KMS_TABLE_READ = ['kms:Decrypt', 'kms:DescribeKey'];
const KMS_TABLE_WRITE = [
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
];

/**
 * Gives `fn` the table's name (in the env var the adapters read) and exactly `actions` on it,
 * plus the KMS use the table's CMK needs. Query also covers the table's GSIs, each by name.
 */
export function bindTable(
  fn: WardenFunction,
  data: WardenData,
  tableKey: TableKey,
  actions: readonly TableAction[],
  options: { readonly leadingKeys?: readonly string[] } = {},
): void {
  if (actions.length === 0) throw new Error(`bindTable(${fn.wardenName}, ${tableKey}): no actions given`);
  if (APPEND_ONLY_TABLES.includes(tableKey)) {
    const forbidden = actions.filter((action) => APPEND_ONLY_FORBIDDEN.includes(action));
    if (forbidden.length > 0) {
      throw new Error(`The ${tableKey} table is append-only: ${fn.wardenName} may not get ${forbidden.join(', ')}`);
    }
  }
  const definition = TABLES[tableKey];
  const table: Table = data.tables[tableKey];
  const resources = [table.tableArn];
  if (actions.includes('Query') && 'globalSecondaryIndexes' in definition) {
    for (const index of definition.globalSecondaryIndexes) resources.push(`${table.tableArn}/index/${index.indexName}`);
  }
  fn.addEnvironment(definition.envVar, table.tableName);
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [...new Set(actions)].map((action) => `dynamodb:${action}`),
      resources,
      // Only items whose partition key matches one of these patterns (`LIMIT#*`).
      ...(options.leadingKeys ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...options.leadingKeys] } } } : {}),
    }),
  );
  const writes = actions.some((action) => !READ_ONLY_ACTIONS.includes(action));
  fn.grantKeyUse(data.key, 'dynamodb', writes ? [...KMS_TABLE_READ, ...KMS_TABLE_WRITE] : KMS_TABLE_READ);
}

/**
 * What a way in for requests needs (the gateway over HTTP, mcp for agents): submit one (the
 * request, its first audit entry, its idempotency claim, the vault of its PII originals) and read
 * them, by id or listed (a Query on the requests table's indexes; writes stay off them).
 */
function bindRequestEntry(fn: WardenFunction, data: WardenData): void {
  bindTable(fn, data, 'requests', ['GetItem', 'PutItem', 'UpdateItem']);
  bindTable(fn, data, 'requests', ['Query']);
  bindAuditLog(fn, data);
  bindTable(fn, data, 'idempotency', ['GetItem', 'PutItem', 'DeleteItem']);
  bindBucket(fn, data, 'vault', 'write');
}

/**
 * The only way a function gets the audit table: read its head, append, query, and use the audit
 * signing key — kms:Sign for the head it moves, kms:GetPublicKey to check the head it extends and
 * the ones it reads. Appending and signing are granted together, so they cannot drift apart.
 */
export function bindAuditLog(fn: WardenFunction, data: WardenData): void {
  bindTable(fn, data, 'audit', ['GetItem', 'Query', 'PutItem']);
  fn.addEnvironment(AUDIT_SIGNING_KEY_ENV, data.auditSigningKey.keyArn);
  fn.addToRolePolicy(
    new PolicyStatement({ effect: Effect.ALLOW, actions: ['kms:Sign', 'kms:GetPublicKey'], resources: [data.auditSigningKey.keyArn] }),
  );
}

/**
 * The key policy's half of "only Warden's Lambdas sign": kms:Sign is denied to every principal
 * but `appenders`' roles, whatever IAM policy an administrator holds. Changing that takes a
 * PutKeyPolicy, which CloudTrail records.
 */
export function restrictAuditSigning(data: WardenData, appenders: readonly WardenFunction[]): void {
  data.auditSigningKey.addToResourcePolicy(
    new PolicyStatement({
      sid: 'OnlyWardenAppendersSign',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['kms:Sign'],
      resources: ['*'],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': appenders.map((fn) => fn.role!.roleArn) } },
    }),
  );
}

/**
 * The objects of the state bucket, by kind, as IAM resource patterns under `checkpoints/`:
 * dehydrated states are `checkpoints/{requestId}/{taskId}.json` with task ids `t_…`
 * (`checkpointKey`, `taskIdFor`), and a request's PII vault is `checkpoints/{requestId}/vault.json`
 * (`vaultKey`). Separate patterns keep the approval Lambda away from the PII originals and the
 * gateway away from the checkpoints; a test keeps them in step with the key builders.
 */
export const STATE_OBJECT_PATTERNS = {
  checkpoint: `${CHECKPOINT_PREFIX}*/t_*.json`,
  vault: `${CHECKPOINT_PREFIX}*/vault.json`,
} as const;
export type StateObjectKind = keyof typeof STATE_OBJECT_PATTERNS;

/** Why each pattern needs its wildcard (for the AwsSolutions-IAM5 acknowledgement). */
const STATE_OBJECT_REASONS: Record<StateObjectKind, string> = {
  checkpoint: 'Checkpoint keys are per request and task: access is limited to checkpoints/{requestId}/t_*.json in this bucket.',
  vault: 'The PII vault is one object per request: access is limited to checkpoints/{requestId}/vault.json in this bucket.',
};

/**
 * Gives `fn` the state bucket and key (env vars) and either GetObject or PutObject on one kind
 * of object only, with the KMS use SSE-KMS needs for that direction.
 */
export function bindBucket(fn: WardenFunction, data: WardenData, kind: StateObjectKind, access: 'read' | 'write'): void {
  fn.addEnvironment(STATE_BUCKET_ENV, data.bucket.bucketName);
  fn.addEnvironment(STATE_KEY_ENV, data.key.keyArn);
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: [access === 'read' ? 's3:GetObject' : 's3:PutObject'],
      resources: [data.bucket.arnForObjects(STATE_OBJECT_PATTERNS[kind])],
    }),
  );
  fn.grantKeyUse(data.key, 's3', access === 'read' ? ['kms:Decrypt'] : ['kms:GenerateDataKey', 'kms:Encrypt']);
  Validations.of(fn.role ?? fn).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId(data.bucket)}.Arn>/${STATE_OBJECT_PATTERNS[kind]}]`,
    reason: STATE_OBJECT_REASONS[kind],
  });
}

/** Gives `fn` the state machine's ARN and the right to start executions of it (nothing else). */
export function bindStateMachine(fn: WardenFunction, stateMachine: IStateMachine): void {
  fn.addEnvironment(STATE_MACHINE_ARN_ENV, stateMachine.stateMachineArn);
  fn.addToRolePolicy(
    new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['states:StartExecution'],
      resources: [stateMachine.stateMachineArn],
    }),
  );
}

/**
 * Gives `fn` what it verifies bearer tokens with (lambdas/shared/http/bearer.ts): the issuer, the
 * audiences and, when known, the JWKS URL — the same the HTTP API's JWT authorizer trusts.
 */
export function bindTokenIssuer(fn: WardenFunction, issuer: { readonly issuer: string; readonly audience: readonly string[]; readonly jwksUrl?: string }): void {
  fn.addEnvironment(JWT_ENV.issuer, issuer.issuer);
  fn.addEnvironment(JWT_ENV.audience, issuer.audience.join(','));
  if (issuer.jwksUrl !== undefined) fn.addEnvironment(JWT_ENV.jwksUrl, issuer.jwksUrl);
}

/** Lets `fn` resume (or fail, or keep alive) a `.waitForTaskToken` task. */
export function grantTaskCallbacks(fn: WardenFunction): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      sid: 'ResumeApprovalWait',
      effect: Effect.ALLOW,
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      // The only wildcard: Step Functions supports no resource-level permissions for the task
      // token callbacks, so "*" is the only Resource it accepts. The token itself is the scope.
      resources: ['*'],
    }),
  );
  Validations.of(fn.role ?? fn).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'states:SendTask{Success,Failure,Heartbeat} accept only Resource "*"; X-Ray trace writes likewise.',
  });
}

/** The ARNs `bedrock:InvokeModel` (used by Converse) needs for one configured model id. */
export function modelResourceArns(stack: Stack, modelId: string): string[] {
  const foundationModel = foundationModelId(modelId);
  if (!isInferenceProfileId(modelId)) {
    return [`arn:${stack.partition}:bedrock:${stack.region}::foundation-model/${modelId}`];
  }
  // A cross-region profile routes to the model in any of its regions: both ARNs are checked.
  const arns = [
    `arn:${stack.partition}:bedrock:${stack.region}:${stack.account}:inference-profile/${modelId}`,
    `arn:${stack.partition}:bedrock:*::foundation-model/${foundationModel}`,
  ];
  // A global profile is also checked against the region-less model ARN (AWS's IAM example for
  // global cross-Region inference names it); said outright rather than left to the wildcard.
  if (modelId.startsWith('global.')) arns.push(`arn:${stack.partition}:bedrock:::foundation-model/${foundationModel}`);
  return arns;
}

/** The ARN of an SSM parameter in this stack's account and region (`/a/b` → `parameter/a/b`). */
export function parameterArn(stack: Stack, name: string): string {
  return `arn:${stack.partition}:ssm:${stack.region}:${stack.account}:parameter/${name.replace(/^\//, '')}`;
}

/**
 * Gives `fn` the model config (env vars: MODEL_PROVIDER, MODEL_ID_LOW/HIGH, and OPENAI_BASE_URL
 * for `openai-compatible`) and, for Bedrock, InvokeModel on exactly the models it may call.
 */
export function bindModels(fn: WardenFunction, config: WardenConfig): void {
  fn.addEnvironment('MODEL_PROVIDER', config.modelProvider);
  fn.addEnvironment('MODEL_ID_LOW', config.modelIds.low);
  fn.addEnvironment('MODEL_ID_HIGH', config.modelIds.high);
  if (config.modelProvider === 'rules') return;
  bindModelIdParameters(fn, config);
  if (config.modelProvider === 'openai-compatible') {
    if (config.openAiBaseUrl) fn.addEnvironment('OPENAI_BASE_URL', config.openAiBaseUrl);
    if (config.openAiApiKeySecret) bindApiKeySecret(fn, config.openAiApiKeySecret);
    return;
  }
  const stack = Stack.of(fn);
  const modelIds = usableModelIds(config);
  const resources = [...new Set(modelIds.flatMap((id) => modelResourceArns(stack, id)))];
  fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['bedrock:InvokeModel'], resources }));
  // cdk-nag names the partition `<AWS::Partition>` when the stack is environment-agnostic.
  const partition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
  const profiled = new Set(modelIds.filter(isInferenceProfileId).map(foundationModelId));
  for (const model of profiled) {
    Validations.of(fn.role ?? fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${partition}:bedrock:*::foundation-model/${model}]`,
      reason: `A cross-region inference profile routes each call to ${model} in any of the profile's regions: the region is the only wildcard, the model is named.`,
    });
  }
}

/**
 * The SSM parameters that swap a tier's model (MODEL_ID_{LOW,HIGH}_PARAMETER), the ids they may
 * name (MODEL_IDS_ALLOWED) and GetParameter on exactly those parameters. The stack does not
 * create them: a parameter CloudFormation owned would be reset to the cdk.json value by every
 * deploy, which is the opposite of a swap without one. They are String parameters, so no KMS.
 */
function bindModelIdParameters(fn: WardenFunction, config: WardenConfig): void {
  const parameters = config.modelIdParameters;
  if (!parameters) return;
  if (parameters.low) fn.addEnvironment('MODEL_ID_LOW_PARAMETER', parameters.low);
  if (parameters.high) fn.addEnvironment('MODEL_ID_HIGH_PARAMETER', parameters.high);
  fn.addEnvironment('MODEL_IDS_ALLOWED', JSON.stringify(usableModelIds(config)));
  const stack = Stack.of(fn);
  const names = [...new Set([parameters.low, parameters.high].filter((name): name is string => name !== undefined))];
  fn.addToRolePolicy(
    new PolicyStatement({ effect: Effect.ALLOW, actions: ['ssm:GetParameter'], resources: names.map((name) => parameterArn(stack, name)) }),
  );
}

/**
 * The openai-compatible API key's secret (OPENAI_API_KEY_SECRET) and GetSecretValue on that
 * secret only (not `Secret.grantRead`, which adds DescribeSecret). A secret encrypted with a customer
 * managed key also needs kms:Decrypt for this role in that key's policy: the operator's key, the
 * operator's grant (the default aws/secretsmanager key needs none).
 */
function bindApiKeySecret(fn: WardenFunction, secretId: string): void {
  const resource = isSecretArn(secretId)
    ? secretId
    : // A secret's ARN ends in `-` and 6 random characters: `-??????` matches this name's only.
      // (`Secret.fromSecretNameV2(...).secretArn` is the partial ARN, which matches nothing.)
      Stack.of(fn).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${secretId}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.addEnvironment('OPENAI_API_KEY_SECRET', secretId);
  fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['secretsmanager:GetSecretValue'], resources: [resource] }));
}

/**
 * Gives `fn` the connectors config (WARDEN_CONNECTORS) and, for the connectors of `kind` (the
 * validation function reads facts, the execution function applies effects), InvokeFunction on
 * exactly the configured functions and GetSecretValue on exactly the configured signing secrets.
 * The whole config goes to both: the handler checks it with the same schema, which needs each
 * action's pair. Nothing is set or granted when no action is configured. An action with no
 * builtin and no connectors is a warning, not an error: the rest of the stack works, and that
 * action's requests fail `connector_failed` until it is configured.
 */
export function bindConnectors(fn: WardenFunction, config: WardenConfig, kind: 'facts' | 'effect'): void {
  for (const action of unconfiguredActions(config.connectors)) {
    Annotations.of(fn).addWarningV2(
      `warden:connectors:${action}:${kind}`,
      `${action} has no builtin and warden.connectors.${action}.${kind} is not configured: its requests fail connector_failed`,
    );
  }
  const actions = Object.entries(config.connectors);
  if (actions.length === 0) return;
  const problems = connectorProblemsInAws(config);
  if (problems.length > 0) throw new WardenConfigError(problems);
  fn.addEnvironment(CONNECTORS_ENV, JSON.stringify(config.connectors));
  const connectors = actions.map(([, pair]) => pair[kind]);
  const functionArns = [...new Set(connectors.flatMap((c) => (c.type === 'lambda' ? [c.functionArn] : [])))];
  const secretArns = [...new Set(connectors.flatMap((c) => (c.type === 'http' && c.secret.secretArn !== undefined ? [c.secret.secretArn] : [])))];
  if (functionArns.length > 0) {
    fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['lambda:InvokeFunction'], resources: functionArns }));
  }
  if (secretArns.length > 0) {
    fn.addToRolePolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['secretsmanager:GetSecretValue'], resources: secretArns }));
  }
}

/**
 * What the shared schema allows for `npm start` but cannot work in AWS, named by key: plain http
 * (allowed only to this machine, which in Lambda is the function itself) and a signing secret
 * without its complete ARN (the env variable is local mode's; IAM grants exactly one secret only
 * by its complete ARN).
 */
function connectorProblemsInAws(config: WardenConfig): string[] {
  return Object.entries(config.connectors).flatMap(([action, pair]) =>
    (['facts', 'effect'] as const).flatMap((kind) => {
      const connector = pair[kind];
      if (connector.type !== 'http') return [];
      const key = `warden.connectors.${action}.${kind}`;
      const problems: string[] = [];
      if (new URL(connector.url).protocol !== 'https:') problems.push(`${key}.url: must be https in AWS (plain http reaches only this machine: npm start only)`);
      const secretArn = connector.secret.secretArn;
      if (secretArn === undefined) problems.push(`${key}.secret.secretArn: is required in AWS (env is read by npm start only)`);
      else if (!isSecretArn(secretArn)) problems.push(`${key}.secret.secretArn: must be the complete ARN, with the 6-character suffix Secrets Manager appends`);
      return problems;
    }),
  );
}

export { FUNCTION_NAMES, WORKFLOW_FUNCTIONS, type FunctionName, type WorkflowFunctionName } from '../function-names';

/**
 * Why no function has a dead-letter queue: a Lambda DLQ only receives failed asynchronous
 * invocations, and every Warden function is invoked synchronously by a caller that sees the
 * failure. Said per function, so each acknowledgement names that function's caller.
 */
function synchronousInvoker(name: FunctionName): string {
  if (name === 'finalize') {
    return 'Invoked synchronously by the state machine (Finalize, MarkFailed), and asynchronously only by the ExecutionAbandoned rule, whose executions are all queued on the failed-executions queue already: no work is lost with an event.';
  }
  if ((WORKFLOW_FUNCTIONS as readonly string[]).includes(name)) {
    return `Invoked synchronously by the state machine (lambda:invoke task): its Retry/Catch turn a failed ${name} step into MarkFailed or a failed, alarmed execution; no async event exists to lose.`;
  }
  return `Invoked synchronously by the HTTP API (Lambda proxy integration): a failed ${name} call is the caller's error answer, never an async event to keep.`;
}

export interface WardenFunctionsProps {
  readonly config: WardenConfig;
  readonly data: WardenData;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The nine Lambdas, each with exactly the grants its code needs. The gateway's and mcp's
 * state-machine grants are added by the stack once the state machine exists (`bindStateMachine`),
 * because the state machine needs the other functions first; mcp's token issuer once the
 * identity exists (`bindTokenIssuer`).
 */
export class WardenFunctions extends Construct {
  readonly byName: { readonly [K in FunctionName]: WardenFunction };

  constructor(scope: Construct, id: string, props: WardenFunctionsProps) {
    super(scope, id);
    const { config, data } = props;
    const make = (name: FunctionName, extra: Partial<WardenFunctionProps> = {}): WardenFunction => {
      const reserved = config.reservedConcurrency[name];
      const fn = new WardenFunction(this, pascal(name), {
        name,
        description: `Warden ${name}`,
        logRetention: logRetentionOf(config),
        logRemovalPolicy: props.removalPolicy,
        ...(reserved === null ? {} : { reservedConcurrentExecutions: reserved }),
        ...extra,
      });
      Validations.of(fn).acknowledge({ id: 'Serverless-LambdaDLQ', reason: synchronousInvoker(name) });
      return fn;
    };

    const gateway = make('gateway', {
      environment: {
        APPROVAL_TIMEOUT_SECONDS: String(config.approvalTimeoutSeconds),
        ROLE_CLAIM: config.auth.roleClaim,
      },
    });
    bindRequestEntry(gateway, data);

    // Triage only appends its audit entry: the next step writes the record.
    const triage = make('triage');
    bindAuditLog(triage, data);

    // A model call can take far longer than the other steps.
    const inference = make('inference', { timeout: Duration.seconds(30) });
    bindTable(inference, data, 'requests', ['UpdateItem']);
    bindAuditLog(inference, data);
    bindModels(inference, config);

    const validation = make('validation', {
      environment: { CONFIDENCE_THRESHOLD: String(config.confidenceThreshold) },
    });
    bindTable(validation, data, 'records', ['GetItem', 'BatchGetItem', 'Query']);
    // Reserving a share of a cumulative limit writes its aggregate, and nothing else in the table.
    bindTable(validation, data, 'records', ['UpdateItem'], { leadingKeys: [LEDGER_KEYS] });
    bindTable(validation, data, 'requests', ['UpdateItem']);
    bindAuditLog(validation, data);
    bindConnectors(validation, config, 'facts');

    const dehydrate = make('dehydrate');
    bindBucket(dehydrate, data, 'checkpoint', 'write');
    bindTable(dehydrate, data, 'tasks', ['PutItem', 'GetItem']);
    bindTable(dehydrate, data, 'requests', ['UpdateItem']);
    bindAuditLog(dehydrate, data);

    const approval = make('approval', { environment: { ROLE_CLAIM: config.auth.roleClaim } });
    bindTable(approval, data, 'tasks', ['GetItem', 'Query', 'UpdateItem']);
    bindBucket(approval, data, 'checkpoint', 'read');
    grantTaskCallbacks(approval);
    bindTable(approval, data, 'requests', ['UpdateItem', 'GetItem']);
    bindAuditLog(approval, data);

    const execution = make('execution');
    // DeleteItem frees a proposal's fingerprint claim when its effect's precondition failed;
    // UpdateItem also moves a human-approved request's cumulative shares to its execution.
    bindTable(execution, data, 'records', ['GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
    // The receipt goes to the record with Finalize's write: Execute writes no request.
    bindAuditLog(execution, data);
    // The effect writes the requester's own words back where the shield vaulted them.
    bindBucket(execution, data, 'vault', 'read');
    bindConnectors(execution, config, 'effect');

    const finalize = make('finalize');
    // Releasing the shares of cumulative limits of a request that ended with no effect (whether
    // its effect may have run is its claim on the proposal's fingerprint).
    bindTable(finalize, data, 'records', ['UpdateItem'], { leadingKeys: [LEDGER_KEYS] });
    bindTable(finalize, data, 'records', ['GetItem', 'BatchGetItem'], { leadingKeys: [`${EFFECT_CLAIM_TYPE}#*`] });
    bindTable(finalize, data, 'requests', ['GetItem', 'UpdateItem']);
    bindTable(finalize, data, 'tasks', ['UpdateItem']);
    bindAuditLog(finalize, data);
    // The outbound shield scans the result for the vaulted originals too.
    bindBucket(finalize, data, 'vault', 'read');

    // MCP for agents: submits and reads requests with the gateway's own code, so the same stores.
    const mcp = make('mcp', {
      environment: {
        APPROVAL_TIMEOUT_SECONDS: String(config.approvalTimeoutSeconds),
        ROLE_CLAIM: config.auth.roleClaim,
      },
    });
    bindRequestEntry(mcp, data);

    this.byName = { gateway, triage, inference, validation, dehydrate, approval, execution, finalize, mcp };
    // Every function appends to the audit trail, so every one signs; nothing else may.
    restrictAuditSigning(data, Object.values(this.byName));
  }
}

/** The logical id a nag finding uses to name a resource in a `Resource::<Id.Arn>` finding. */
function logicalId(construct: Construct): string {
  const child = construct.node.defaultChild;
  if (!(child instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return Stack.of(construct).resolve(child.logicalId) as string;
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
