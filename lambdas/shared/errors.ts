import * as z from './schemas/zod';
import type { FieldIssue } from './schemas/issues';

/**
 * Named errors. Step Functions-invoked Lambdas throw them so the ASL can `Catch` by name;
 * the HTTP handlers map them to problem+json in one place (`http/problem.ts`).
 *
 * Each class states its name as a string: a Lambda bundle is minified without keeping class
 * names (esbuild's keepNames costs every cold start), so a name taken from the class itself would
 * not survive it, and the ASL's Retry/Catch and the failure codes match on names.
 */
export class WardenError extends Error {
  override readonly name: string = 'WardenError';

  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 500,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Bad input from a caller: 400 with the field path in the message, and every offending field in `errors` when a schema said which. */
export class InvalidInput extends WardenError {
  override readonly name = 'InvalidInput';

  constructor(
    code: string,
    message: string,
    readonly errors?: readonly FieldIssue[],
  ) {
    super(code, message, 400);
  }
}

/** 401: the same code the API's edge (JWT authorizer, local API) uses. */
export class Unauthenticated extends WardenError {
  override readonly name: string = 'Unauthenticated';

  constructor(message = 'A valid bearer token is required.') {
    super('unauthorized', message, 401);
  }
}

export class Forbidden extends WardenError {
  override readonly name = 'Forbidden';

  constructor(code: string, message: string) {
    super(code, message, 403);
  }
}

export class NotFound extends WardenError {
  override readonly name = 'NotFound';

  constructor(message = 'Not found.') {
    super('not_found', message, 404);
  }
}

export class Conflict extends WardenError {
  override readonly name = 'Conflict';

  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export class Gone extends WardenError {
  override readonly name = 'Gone';

  constructor(code: string, message: string) {
    super(code, message, 410);
  }
}

export class OrchestratorUnavailable extends WardenError {
  override readonly name = 'OrchestratorUnavailable';

  constructor(message = 'The orchestrator is unavailable; retry later.') {
    super('orchestrator_unavailable', message, 503);
  }
}

/** A state-machine payload that does not match its schema: a bug or tampering, never retried. */
export class InvalidWorkflowState extends WardenError {
  override readonly name = 'InvalidWorkflowState';

  constructor(message: string) {
    super('invalid_workflow_state', message, 500);
  }
}

/** The audit entry could not be written: the step fails (fail-closed) and Step Functions retries it. */
export class AuditWriteFailed extends WardenError {
  override readonly name = 'AuditWriteFailed';

  constructor(message: string) {
    super('audit_write_failed', message, 500);
  }
}

/**
 * Why a model call failed, finer than the `error.code` a client sees: the log line and the audit
 * entry carry it for the operator. Never the provider's own message (it can quote an account,
 * a role ARN or the prompt).
 */
export const ModelFailureCause = z.enum([
  // model_access_denied
  'no_credentials',
  'invalid_credentials',
  'access_denied',
  // model_not_found
  'not_found',
  'end_of_life',
  // model_misconfigured
  'no_region',
  'inference_profile_required',
  'invalid_request',
  'setting_refused',
  // model_unavailable: worth another attempt
  'throttled',
  'timeout',
  'server_error',
  'network',
]);
export type ModelFailureCause = z.infer<typeof ModelFailureCause>;

/**
 * A model call that failed, by class. Step Functions hands MarkFailed only the error's name and
 * a Cause string (the message, or Lambda's JSON around it), so the name gives the code and the
 * message starts with `[cause]` for `modelFailureCauseOf` to read back.
 */
export abstract class ModelCallFailed extends WardenError {
  override readonly name: string = 'ModelCallFailed';

  constructor(
    code: string,
    readonly modelCause: ModelFailureCause,
    /** The message without its `[cause]` prefix. */
    readonly detail: string,
    status: number,
    options?: ErrorOptions,
  ) {
    super(code, `[${modelCause}] ${detail}`, status, options);
  }
}

/** Throttled, timed out, a server fault or unreachable, after the provider's own retries: the state machine retries it. */
export class ModelUnavailable extends ModelCallFailed {
  override readonly name = 'ModelUnavailable';

  constructor(modelCause: ModelFailureCause, message: string, options?: ErrorOptions) {
    super('model_unavailable', modelCause, message, 503, options);
  }
}

/** No credentials, credentials the service rejects, or a role that may not invoke the model: never retried. */
export class ModelAccessDenied extends ModelCallFailed {
  override readonly name = 'ModelAccessDenied';

  constructor(modelCause: ModelFailureCause, message: string, options?: ErrorOptions) {
    super('model_access_denied', modelCause, message, 502, options);
  }
}

/** An unknown model id, or one past its end of life: never retried. */
export class ModelNotFound extends ModelCallFailed {
  override readonly name = 'ModelNotFound';

  constructor(modelCause: ModelFailureCause, message: string, options?: ErrorOptions) {
    super('model_not_found', modelCause, message, 502, options);
  }
}

/**
 * A setting that cannot be used (a missing SSM parameter, a model id that is not allowed, an
 * unusable API key secret, no region) or a request the model service refused as malformed. An
 * operator's mistake, not an outage: never retried, the request is FAILED `model_misconfigured`
 * and the inference function's Errors alarm fires. Named for what the state machine catches.
 */
export class ModelSettingError extends ModelCallFailed {
  override readonly name = 'ModelSettingError';

  constructor(modelCause: ModelFailureCause, message: string, options?: ErrorOptions) {
    super('model_misconfigured', modelCause, message, 500, options);
  }
}

const MODEL_FAILURE_NAMES: ReadonlySet<string> = new Set<(ModelUnavailable | ModelAccessDenied | ModelNotFound | ModelSettingError)['name']>([
  'ModelUnavailable',
  'ModelAccessDenied',
  'ModelNotFound',
  'ModelSettingError',
]);

/** The error message in a Catch's Cause: the Cause itself locally, Lambda's `{"errorMessage": ...}` JSON in AWS. */
function causeMessage(cause: string): string {
  try {
    const lambdaError: unknown = JSON.parse(cause);
    const errorMessage = typeof lambdaError === 'object' && lambdaError !== null ? (lambdaError as { errorMessage?: unknown }).errorMessage : undefined;
    return typeof errorMessage === 'string' ? errorMessage : cause;
  } catch {
    return cause; // Not JSON: the Cause is the message.
  }
}

/**
 * The cause class of a model failure a Catch handed over (`{Error, Cause}`), or undefined. The
 * Cause is the message itself locally and Lambda's `{"errorMessage": ...}` JSON in AWS; only a
 * known class is returned, never text from the Cause.
 */
export function modelFailureCauseOf(caught: { Error: string; Cause?: string } | undefined): ModelFailureCause | undefined {
  if (!caught?.Cause || !MODEL_FAILURE_NAMES.has(caught.Error)) return undefined;
  const message = causeMessage(caught.Cause);
  const parsed = ModelFailureCause.safeParse(/^\[([a-z_]+)\]/.exec(message)?.[1]);
  return parsed.success ? parsed.data : undefined;
}

/** An identical effect was already executed for another request. */
export class DuplicateEffect extends WardenError {
  override readonly name = 'DuplicateEffect';

  constructor(message: string) {
    super('duplicate_proposal', message, 409);
  }
}

/** The system of record changed between validation and execution (e.g. a tier no longer matches). */
export class EffectPreconditionFailed extends WardenError {
  override readonly name = 'EffectPreconditionFailed';

  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

/** Why a connector failed, for the operator: a class, never the receiver's body or the secret. */
export const ConnectorFailureReason = z.enum([
  'timeout',
  'network',
  'http_status',
  'throttled',
  'invalid_response',
  'remote_error',
  'function_error',
  'secret_unavailable',
  'misconfigured',
]);
export type ConnectorFailureReason = z.infer<typeof ConnectorFailureReason>;

/**
 * A facts or effect connector failed after its own retries. The message starts with
 * `[<action> <facts|effect> <type>: <reason>]`, so the request's `error.message` can name the
 * connector (`connectorFailureOf`) from what Step Functions hands on.
 */
export class ConnectorFailed extends WardenError {
  override readonly name = 'ConnectorFailed';

  constructor(
    readonly connector: string,
    readonly reason: ConnectorFailureReason,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('connector_failed', `[${connector}: ${reason}] ${detail}`, 502, options);
  }
}

const CONNECTOR_FAILED: ConnectorFailed['name'] = 'ConnectorFailed';
const CONNECTOR_PREFIX = /^\[([a-z][a-z0-9_]* (?:facts|effect) (?:builtin|lambda|http)): ([a-z_]+)\]/;

/** The connector and the reason of a ConnectorFailed a Catch handed over; only what the pattern allows, never free text. */
export function connectorFailureOf(caught: { Error: string; Cause?: string } | undefined): { connector: string; reason: ConnectorFailureReason } | undefined {
  if (!caught?.Cause || caught.Error !== CONNECTOR_FAILED) return undefined;
  const message = causeMessage(caught.Cause);
  const match = CONNECTOR_PREFIX.exec(message);
  const reason = ConnectorFailureReason.safeParse(match?.[2]);
  return match && reason.success ? { connector: match[1], reason: reason.data } : undefined;
}
