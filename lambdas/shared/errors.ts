/**
 * Named errors. Step Functions-invoked Lambdas throw them so the ASL can `Catch` by name;
 * the HTTP handlers map them to problem+json in one place (`http/problem.ts`).
 */
export class WardenError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 500,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from a caller: 400 with the field path in the message. */
export class InvalidInput extends WardenError {
  constructor(code: string, message: string) {
    super(code, message, 400);
  }
}

/** 401: the same code the API's edge (JWT authorizer, local API) uses. */
export class Unauthenticated extends WardenError {
  constructor(message = 'A valid bearer token is required.') {
    super('unauthorized', message, 401);
  }
}

export class Forbidden extends WardenError {
  constructor(code: string, message: string) {
    super(code, message, 403);
  }
}

export class NotFound extends WardenError {
  constructor(message = 'Not found.') {
    super('not_found', message, 404);
  }
}

export class Conflict extends WardenError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}

export class Gone extends WardenError {
  constructor(code: string, message: string) {
    super(code, message, 410);
  }
}

export class OrchestratorUnavailable extends WardenError {
  constructor(message = 'The orchestrator is unavailable; retry later.') {
    super('orchestrator_unavailable', message, 503);
  }
}

/** A state-machine payload that does not match its schema: a bug or tampering, never retried. */
export class InvalidWorkflowState extends WardenError {
  constructor(message: string) {
    super('invalid_workflow_state', message, 500);
  }
}

/** The audit entry could not be written: the step fails (fail-closed) and Step Functions retries it. */
export class AuditWriteFailed extends WardenError {
  constructor(message: string) {
    super('audit_write_failed', message, 500);
  }
}

/** The model provider failed after its own retries (throttled, 5xx, malformed output). */
export class ModelUnavailable extends WardenError {
  constructor(message: string) {
    super('model_unavailable', message, 503);
  }
}

/** An identical effect was already executed for another request. */
export class DuplicateEffect extends WardenError {
  constructor(message: string) {
    super('duplicate_proposal', message, 409);
  }
}

/** The system of record changed between validation and execution (e.g. a tier no longer matches). */
export class EffectPreconditionFailed extends WardenError {
  constructor(code: string, message: string) {
    super(code, message, 409);
  }
}
