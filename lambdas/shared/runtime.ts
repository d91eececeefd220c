import { DynamoAuditLog } from './adapters/aws/auditLog';
import { KmsAuditSigner } from './adapters/aws/auditSigner';
import { documentClient, kmsClient, s3Client, sfnClient } from './adapters/aws/clients';
import { DynamoIdempotencyStore } from './adapters/aws/idempotencyStore';
import { SfnOrchestrator } from './adapters/aws/orchestrator';
import { DynamoRequestStore } from './adapters/aws/requestStore';
import { S3StateStore } from './adapters/aws/stateStore';
import { DynamoSystemOfRecord } from './adapters/aws/systemOfRecord';
import { CumulativeLedger } from './limits/ledger';
import { DynamoTaskIndex } from './adapters/aws/taskIndex';
import type { Connectors } from './connectors';
import type { CaptureClient } from './models/settings';
import { captureClient } from './observability';
import type {
  AuditLog,
  Clock,
  IdempotencyStore,
  ModelProvider,
  Orchestrator,
  PiiVault,
  RequestStore,
  StateStore,
  SystemOfRecord,
  TaskIndex,
} from './ports';
import { systemClock } from './ports';
import type { Route } from './schemas/workflow';
import type { SubmitDeps } from './requests/submit';
import { lazy } from './lazy';

/* eslint-disable @typescript-eslint/no-require-imports -- connectors and model providers load on first use (below) */

/**
 * The handlers' wiring: each adapter is built on first use from the environment the CDK
 * construct (or the local runtime) sets, then reused for the life of the container. A handler
 * builds only what it asks for, and SDK clients are captured by X-Ray once. The factories are
 * marked pure so that esbuild drops, per handler, the ones it never calls — and the SDK clients
 * and adapters only they import (a smaller bundle is a faster cold start).
 */

const tracedDocumentClient = /* @__PURE__ */ lazy(() => captureClient(documentClient()));
const tracedS3Client = /* @__PURE__ */ lazy(() => captureClient(s3Client()));
const tracedSfnClient = /* @__PURE__ */ lazy(() => captureClient(sfnClient()));
const tracedKmsClient = /* @__PURE__ */ lazy(() => captureClient(kmsClient()));

export const requestStore: () => RequestStore = /* @__PURE__ */ lazy(() => DynamoRequestStore.fromEnv(tracedDocumentClient()));
export const taskIndex: () => TaskIndex = /* @__PURE__ */ lazy(() => DynamoTaskIndex.fromEnv(tracedDocumentClient()));
export const auditLog: () => AuditLog = /* @__PURE__ */ lazy(() =>
  DynamoAuditLog.fromEnv(tracedDocumentClient(), KmsAuditSigner.fromEnv(tracedKmsClient())),
);
export const idempotencyStore: () => IdempotencyStore = /* @__PURE__ */ lazy(() => DynamoIdempotencyStore.fromEnv(tracedDocumentClient()));
export const systemOfRecord: () => SystemOfRecord = /* @__PURE__ */ lazy(() => DynamoSystemOfRecord.fromEnv(tracedDocumentClient()));
/** The cumulative limits' aggregates, kept in the record table under `LIMIT#`. */
export const cumulativeLedger: () => CumulativeLedger = /* @__PURE__ */ lazy(() => new CumulativeLedger(systemOfRecord()));
const s3StateStore = /* @__PURE__ */ lazy(() => S3StateStore.fromEnv(tracedS3Client()));
export const stateStore: () => StateStore = s3StateStore;
/**
 * The PII vault (the same S3 adapter). Its bucket is resolved on first use, not when a handler
 * wires its dependencies: a request without PII never touches it.
 */
export const piiVault = (): PiiVault => ({
  putVault: (requestId, originals) => s3StateStore().putVault(requestId, originals),
  getVault: (requestId) => s3StateStore().getVault(requestId),
});
export const orchestrator: () => Orchestrator = /* @__PURE__ */ lazy(() => SfnOrchestrator.fromEnv(tracedSfnClient()));
export const clock: () => Clock = () => systemClock;

/** Each action's facts and effect connectors, from WARDEN_CONNECTORS; a bad setting fails the first step that reads it. */
export const connectors: () => Connectors = /* @__PURE__ */ lazy(() => {
  const { Connectors, connectorsFromEnv } = require('./connectors') as typeof import('./connectors');
  const { cachedSecretReader, sdkInvokeFunction } = require('./adapters/aws/connectors') as typeof import('./adapters/aws/connectors');
  const { sdkGetSecret } = require('./models/settings') as typeof import('./models/settings');
  const capture: CaptureClient = captureClient;
  return new Connectors(connectorsFromEnv(), {
    readSecret: cachedSecretReader(process.env, sdkGetSecret(capture)),
    invoke: sdkInvokeFunction(capture),
  });
});

/**
 * The SSM and Secrets Manager clients the provider builds on its first call (a tier's model id
 * parameter, the API key secret) are captured by X-Ray like every other client here.
 */
const configuredProvider = /* @__PURE__ */ lazy(() =>
  (require('./models') as typeof import('./models')).createModelProvider(process.env, { captureClient }),
);
const rulesProvider = /* @__PURE__ */ lazy(() => new (require('./models/rules') as typeof import('./models/rules')).RulesProvider());

/**
 * Suspicious requests never reach a model: the human route extracts with the rules provider,
 * and a human decides whatever it finds.
 */
export async function modelProviderFor(route: Route): Promise<ModelProvider> {
  return route === 'human' ? rulesProvider() : configuredProvider();
}

export function approvalTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.APPROVAL_TIMEOUT_SECONDS ?? 604800);
  if (!Number.isInteger(value) || value <= 0) throw new Error('APPROVAL_TIMEOUT_SECONDS must be a positive integer');
  return value;
}

/** What submitting a request takes, wired: the gateway's `POST /v1/requests` and the MCP request tools alike. */
export function submitDeps(): SubmitDeps {
  return {
    requests: requestStore(),
    audit: auditLog(),
    idempotency: idempotencyStore(),
    orchestrator: orchestrator(),
    vault: piiVault(),
    clock: clock(),
    approvalTimeoutSeconds: approvalTimeoutSeconds(),
  };
}

export function confidenceThreshold(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (env.CONFIDENCE_THRESHOLD === undefined) return undefined;
  const value = Number(env.CONFIDENCE_THRESHOLD);
  if (!(value >= 0 && value <= 1)) throw new Error('CONFIDENCE_THRESHOLD must be between 0 and 1');
  return value;
}
