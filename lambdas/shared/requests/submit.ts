import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/chain';
import { Conflict, Forbidden, InvalidInput } from '../errors';
import { newRequestId } from '../ids';
import { canRequest } from '../policy';
import type { AuditLog, Clock, IdempotencyStore, Orchestrator, RequestStore } from '../ports';
import { describeIssues, parseFields } from '../schemas/actions';
import type { SubmitRequestBody } from '../schemas/api';
import type { RequestRecord } from '../schemas/records';
import type { Principal, WorkflowState } from '../schemas/workflow';
import { redactPii, scrubPii } from '../shield/pii';

export interface SubmitDeps {
  requests: RequestStore;
  audit: AuditLog;
  idempotency: IdempotencyStore;
  orchestrator: Orchestrator;
  clock: Clock;
  approvalTimeoutSeconds: number;
}

export interface Submitted {
  /** 202 for a new request, 200 for an idempotent replay. */
  statusCode: 200 | 202;
  body: { requestId: string; status: string; traceId: string; links: { self: string } };
}

/** Longer than the gateway Lambda's timeout: a submission this old that has not started has died. */
const ABANDONED_AFTER_MS = 60_000;

/** Idempotency-Key replays are recognised for a day. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/**
 * POST /v1/requests: check what can be checked at once (permission when the action is named,
 * the fields' schema), scrub the text, record the request and start its execution.
 */
export async function submitRequest(
  principal: Principal,
  body: SubmitRequestBody,
  options: { idempotencyKey?: string; traceId: string },
  deps: SubmitDeps,
): Promise<Submitted> {
  if (body.fields !== undefined && body.action === undefined) {
    throw new InvalidInput('validation_failed', 'fields: requires action');
  }
  let fields: Record<string, unknown> | undefined;
  if (body.action !== undefined) {
    if (!canRequest(body.action, principal.roles)) {
      throw new Forbidden('action_not_permitted', `Your roles do not allow requesting ${body.action}.`);
    }
    if (body.fields !== undefined) {
      const parsed = parseFields(body.action, body.fields);
      if (!parsed.success) throw new InvalidInput('validation_failed', describeIssues(parsed.error, 'fields'));
      // Free-text fields pass the same inbound shield as the text.
      fields = redactPii(parsed.data) as Record<string, unknown>;
    }
  }

  let requestId = newRequestId(deps.clock.now());
  const idempotencyId = options.idempotencyKey ? `${principal.sub}#${options.idempotencyKey}` : undefined;
  if (idempotencyId) {
    const bodyHash = createHash('sha256').update(canonicalJson(body)).digest('hex');
    const existing = await deps.idempotency.claim(idempotencyId, { requestId, bodyHash }, IDEMPOTENCY_TTL_SECONDS);
    if (existing && existing.bodyHash !== bodyHash) {
      throw new Conflict('idempotency_key_reused', 'This Idempotency-Key was used with a different body.');
    }
    if (existing) {
      const record = await deps.requests.get(existing.requestId);
      if (record) return finishOrReplay(record, principal, deps);
      // The first attempt claimed the key but never recorded the request: finish it now.
      requestId = existing.requestId;
    }
  }

  const now = deps.clock.now().toISOString();
  const scrubbed = scrubPii(body.text);
  const state: WorkflowState = {
    requestId,
    traceId: options.traceId,
    requestedBy: principal,
    submittedAt: now,
    text: scrubbed.text,
    ...(body.action ? { submitted: { action: body.action, ...(fields ? { fields } : {}) } } : {}),
    approvalTimeoutSeconds: deps.approvalTimeoutSeconds,
  };
  const record: RequestRecord = {
    requestId,
    status: 'QUEUED',
    requestedBy: principal.sub,
    requesterRoles: principal.roles,
    createdAt: now,
    updatedAt: now,
    traceId: options.traceId,
    startInput: JSON.stringify(state),
    ...(body.action ? { action: body.action } : {}),
  };
  try {
    await deps.requests.create(record);
  } catch (error) {
    // A concurrent retry with the same key got there first: answer as its replay.
    const winner = error instanceof Conflict ? await deps.requests.get(requestId) : undefined;
    if (winner) return finishOrReplay(winner, principal, deps);
    throw error;
  }
  await deps.audit.append(requestId, {
    step: 'Submit',
    actor: { type: 'human', id: principal.sub },
    event: 'request.submitted',
    data: {
      action: body.action ?? null,
      structured: fields !== undefined,
      textLength: body.text.length,
      piiFound: scrubbed.findings,
    },
  });
  await startExecution(record, state, deps, idempotencyId);
  return { statusCode: 202, body: { requestId, status: 'QUEUED', traceId: options.traceId, links: links(requestId) } };
}

/**
 * A replay of a recorded request. If the first attempt stopped before its execution started
 * (it recorded the request, then failed), the replay starts it now from the stored input:
 * StartExecution is idempotent by name, so two replays still start one execution.
 */
async function finishOrReplay(record: RequestRecord, principal: Principal, deps: SubmitDeps): Promise<Submitted> {
  // Only an attempt older than any gateway invocation can live is abandoned; a younger one is
  // still running (a concurrent retry) and will start the execution itself.
  const abandoned = deps.clock.now().getTime() - Date.parse(record.createdAt) > ABANDONED_AFTER_MS;
  if (abandoned && record.status === 'QUEUED' && !record.executionArn && record.startInput) {
    const entries = await deps.audit.list(record.requestId);
    if (entries.length === 0) {
      await deps.audit.append(record.requestId, {
        step: 'Submit',
        actor: { type: 'human', id: principal.sub },
        event: 'request.submitted',
        data: { resumed: true },
      });
    }
    await startExecution(record, JSON.parse(record.startInput) as WorkflowState, deps);
  }
  const traceId = record.traceId ?? '';
  return { statusCode: 200, body: { requestId: record.requestId, status: record.status, traceId, links: links(record.requestId) } };
}

async function startExecution(record: RequestRecord, state: WorkflowState, deps: SubmitDeps, idempotencyId?: string): Promise<void> {
  let executionArn: string;
  try {
    executionArn = await deps.orchestrator.start(record.requestId, state);
  } catch (error) {
    await deps.requests.update(record.requestId, {
      status: 'FAILED',
      error: { code: 'orchestrator_unavailable', message: 'The request could not be started.' },
    });
    // Let the client retry with the same key: nothing ran.
    if (idempotencyId) await deps.idempotency.release(idempotencyId);
    throw error;
  }
  await deps.requests.update(record.requestId, { executionArn });
}

function links(requestId: string) {
  return { self: `/v1/requests/${requestId}` };
}
