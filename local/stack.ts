import './node-version';
import { join } from 'node:path';
import { startEmulators } from './emulators';
import { LocalStepFunctions, type LocalLambda } from './sfn/engine';
import { FunctionsWorker, type FunctionsWorkerOptions } from './functions';
import { FUNCTION_NAMES, handlerModule, type FunctionName } from './functions-protocol';
import { answerSfnCall, startSfnServer } from './sfn/server';
import { STATE_MACHINE_ARN_ENV } from '../lambdas/shared/tables';
import { governedRequestDefinition } from '../lib/asl';
import { CONNECTORS_ENV, ConnectorsConfig, type ConnectorsSetting } from '../lambdas/shared/connectors/config';

/**
 * The whole Warden backend on one machine: DynamoDB and S3 emulators, the local Step Functions
 * running statemachines/governed-request.asl.json, and the real Lambda handlers (on a thread of
 * their own, or in-process for tests that reach their modules), wired through the same
 * environment variables the CDK stack sets in AWS.
 */

export interface LocalStackOptions {
  /** Where the emulators persist; a temp/in-memory store when absent. */
  dataDir?: string;
  approvalTimeoutSeconds?: number;
  modelProvider?: string;
  /** Each action's facts and effect connectors (`warden.connectors` in cdk.json). @default builtin everywhere */
  connectors?: ConnectorsSetting;
  /**
   * Where the Lambda handlers run: `worker`, a thread of their own (as `npm start` and the bench
   * run them: the second core serves them while the main thread keeps the API, the engine and the
   * emulators), or `in-process`, on the caller's thread, where a test can reach their modules.
   * @default 'in-process'
   */
  functions?: 'in-process' | 'worker';
  /** With `functions: 'worker'`: a module loaded beside the handlers to watch them (the bench's I/O recorder). */
  instrument?: FunctionsWorkerOptions['instrument'];
}

type HttpHandler = typeof import('../lambdas/gateway/handler').handler;

export interface LocalStack {
  engine: LocalStepFunctions;
  /** Executions that were running when the stack last stopped, resumed at start-up. */
  resumed: number;
  env: Record<string, string>;
  /** Each action's connectors as the handlers read them (builtin where none is set). */
  connectors: ConnectorsConfig;
  gateway: HttpHandler;
  approval: HttpHandler;
  mcp: HttpHandler;
  /** Environment set after start reaches the handlers (on their thread too) before any later call. */
  setEnv(vars: Record<string, string>): void;
  /** The handlers' thread, with `functions: 'worker'`. */
  worker?: FunctionsWorker;
  stop(): Promise<void>;
}

const CALLER_CREDENTIAL_VARIABLES = ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/**
 * With Bedrock, the model is called in AWS with the caller's own credentials and region, while
 * the emulators accept any signature: so the caller's AWS settings win over the emulators'
 * stand-in ones (which would otherwise sign the Bedrock call and be refused). Without a
 * credential source of the caller's, say so at start rather than fail every request.
 */
export function callerAwsSettings(modelProvider: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (modelProvider !== 'bedrock') return {};
  const settings: Record<string, string> = {};
  for (const name of [...CALLER_CREDENTIAL_VARIABLES, 'AWS_REGION'] as const) {
    const value = env[name];
    if (value) settings[name] = value;
  }
  if (!settings.AWS_PROFILE && !(settings.AWS_ACCESS_KEY_ID && settings.AWS_SECRET_ACCESS_KEY)) {
    throw new Error(
      'WARDEN_MODEL_PROVIDER=bedrock calls Bedrock in AWS with your credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_REGION.',
    );
  }
  // A profile must not be shadowed by the emulators' stand-in keys, which the SDK reads first.
  if (settings.AWS_PROFILE && !settings.AWS_ACCESS_KEY_ID) Object.assign(settings, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
  return settings;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const approvalTimeoutSeconds = options.approvalTimeoutSeconds ?? 604800;
  const modelProvider = options.modelProvider ?? 'rules';
  const callerAws = callerAwsSettings(modelProvider);
  const connectors = ConnectorsConfig.parse(options.connectors ?? {});
  const emulators = await startEmulators({ dataDir: options.dataDir });
  // The handlers read their configuration from the environment, exactly as in Lambda.
  const env: Record<string, string> = {
    ...emulators.env,
    ...callerAws,
    APPROVAL_TIMEOUT_SECONDS: String(approvalTimeoutSeconds),
    MODEL_PROVIDER: modelProvider,
    // openai-compatible: the server and its (optional) key come from the caller's environment.
    ...(process.env.OPENAI_BASE_URL ? { OPENAI_BASE_URL: process.env.OPENAI_BASE_URL } : {}),
    ...(process.env.OPENAI_API_KEY ? { OPENAI_API_KEY: process.env.OPENAI_API_KEY } : {}),
    ROLE_CLAIM: 'roles',
    // As the CDK stack hands it to the validation and execution functions.
    ...(options.connectors ? { [CONNECTORS_ENV]: JSON.stringify(connectors) } : {}),
    // No EMF documents on the console unless the caller asks for them (POWERTOOLS_METRICS_DISABLED=false).
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    POWERTOOLS_SERVICE_NAME: 'warden-local',
  };
  Object.assign(process.env, env);
  // Fail at start-up, not at the first request, when the provider cannot be built here.
  const { createModelProvider } = await import('../lambdas/shared/models');
  try {
    createModelProvider(process.env);
  } catch (error) {
    await emulators.stop();
    throw new Error(`WARDEN_MODEL_PROVIDER=${env.MODEL_PROVIDER} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
  }

  let worker: FunctionsWorker | undefined;
  let handlers: Record<FunctionName, LocalLambda>;
  if (options.functions === 'worker') {
    worker = new FunctionsWorker({ env, instrument: options.instrument });
    try {
      await worker.started();
    } catch (error) {
      await worker.stop();
      await emulators.stop();
      throw error;
    }
    const on = worker;
    handlers = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, on.handler(name)])) as typeof handlers;
  } else {
    // Imported only now: their runtime wiring reads the environment set above.
    const modules = await Promise.all(FUNCTION_NAMES.map((name) => import(handlerModule(name)) as Promise<{ handler: LocalLambda }>));
    handlers = Object.fromEntries(FUNCTION_NAMES.map((name, i) => [name, modules[i].handler])) as typeof handlers;
  }
  const functions: Record<string, LocalLambda> = {
    TriageFunctionArn: handlers.triage,
    InferenceFunctionArn: handlers.inference,
    ValidationFunctionArn: handlers.validation,
    DehydrateFunctionArn: handlers.dehydrate,
    ExecutionFunctionArn: handlers.execution,
    FinalizeFunctionArn: handlers.finalize,
  };
  const engine = new LocalStepFunctions({
    definition: governedRequestDefinition(approvalTimeoutSeconds),
    functions,
    ...(options.dataDir ? { journalDir: join(options.dataDir, 'sfn') } : {}),
  });
  const sfn = await startSfnServer(engine);
  // The handlers' own Step Functions client reaches the engine through their thread's port; the HTTP endpoint serves everyone else.
  worker?.serveStepFunctions((target, body) => answerSfnCall(engine, target, body));
  const setEnv = (vars: Record<string, string>) => {
    Object.assign(env, vars);
    Object.assign(process.env, vars);
    worker?.setEnv(vars);
  };
  setEnv({ AWS_ENDPOINT_URL_SFN: sfn.endpoint, [STATE_MACHINE_ARN_ENV]: engine.stateMachineArn });
  const resumed = engine.resumeFromJournal();

  return {
    resumed,
    engine,
    env,
    connectors,
    gateway: handlers.gateway as HttpHandler,
    approval: handlers.approval as HttpHandler,
    mcp: handlers.mcp as HttpHandler,
    setEnv,
    worker,
    async stop() {
      await engine.shutdown();
      await worker?.stop();
      await sfn.close();
      await emulators.stop();
    },
  };
}
