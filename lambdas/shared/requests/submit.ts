import { createHash } from 'node:crypto';
import { canonicalJson } from '../audit/chain';
import { Conflict, Forbidden, InvalidInput } from '../errors';
import { newRequestId } from '../ids';
import { canRequest } from '../policy';
import { CHAIN_START, chainHeadOf, signedHeadOf } from '../audit/chain';
import type { AuditLog, Clock, IdempotencyStore, Orchestrator, PiiVault, RequestStore } from '../ports';
import { parseFields } from '../schemas/actions';
import { fieldsGuide, invalidFields } from '../schemas/issues';
import { actionDefinition } from '../catalog/registry';
import type { SubmitRequestBody, SubmittedRequest } from '../schemas/api';
import type { RequestRecord } from '../schemas/records';
import type { InboundShield, Principal, WorkflowState } from '../schemas/workflow';
import { normalizeFields, normalizeRequestText, scrubInbound, stripInvisibleDeep } from '../shield/inbound';
import { countInvisible, stripInvisible } from '../shield/unicode';
import { fieldStrings, injectionSignals } from '../triage/injection';

export interface SubmitDeps {
  requests: RequestStore;
  audit: AuditLog;
  idempotency: IdempotencyStore;
  orchestrator: Orchestrator;
  /** Where the originals behind the PII placeholders are kept (only written when there are any). */
  vault: PiiVault;
  clock: Clock;
  approvalTimeoutSeconds: number;
}

export interface Submitted {
  /** 202 for a new request, 200 for an idempotent replay. */
  statusCode: 200 | 202;
  body: SubmittedRequest;
}

/** Longer than the gateway Lambda's timeout: a submission this old that has not started has died. */
const ABANDONED_AFTER_MS = 60_000;

/** Idempotency-Key replays are recognised for a day. */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/**
 * POST /v1/requests: the inbound shield (Unicode normalisation, size limits, injection signals
 * read before scrubbing, PII and secrets replaced by placeholders), then what can be checked at
 * once (permission when the action is named, the fields' schema); record the request, keep the
 * PII originals in the vault and start its execution.
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
  const normalizedText = normalizeRequestText(body.text);
  const normalizedFields = body.fields !== undefined ? normalizeFields(body.fields) : undefined;
  // Read before scrubbing and stripping: a base64 payload is `[TOKEN_1]` afterwards, and
  // invisible characters are gone. Triage turns these into a route.
  const signals = injectionSignals([normalizedText, ...fieldStrings(normalizedFields)].join('\n'));
  const hiddenCharacters = countInvisible(normalizedText) + fieldStrings(normalizedFields).reduce((n, s) => n + countInvisible(s), 0);

  let fields: Record<string, unknown> | undefined;
  if (body.action !== undefined) {
    if (!canRequest(body.action, principal.roles)) {
      throw new Forbidden('action_not_permitted', `Your roles do not allow requesting ${body.action}.`);
    }
    if (normalizedFields !== undefined) {
      const input = stripInvisibleDeep(normalizedFields);
      const parsed = parseFields(body.action, input);
      // Every offending field at once, each with what it expects: a client fixes its body in one go.
      if (!parsed.success) throw invalidFields(parsed.error, { guide: fieldsGuide(actionDefinition(body.action)), input, prefix: 'fields' });
      fields = parsed.data;
    }
  }
  // Free-text fields pass the same shield as the text, with one numbering: `[EMAIL_1]` is one value everywhere.
  const scrubbed = scrubInbound({ text: stripInvisible(normalizedText), ...(fields ? { fields } : {}) });
  fields = scrubbed.fields;
  const vaulted = Object.keys(scrubbed.originals).length > 0;
  const shield: InboundShield = { pii: scrubbed.findings, signals, vaulted };

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

  // Before the request exists: a request never points at originals that were not kept. A retry
  // (same key, same body) writes the same originals again.
  if (vaulted) await deps.vault.putVault(requestId, scrubbed.originals);

  // The first entry before the record: a record never exists without it, and its head goes into
  // the record and the workflow state (a retry with the same key finds this entry and keeps it).
  const submitted = await deps.audit.append(
    requestId,
    {
      step: 'Submit',
      actor: { type: 'human', id: principal.sub },
      event: 'request.submitted',
      data: {
        action: body.action ?? null,
        structured: fields !== undefined,
        textLength: normalizedText.length,
        piiFound: scrubbed.findings,
        ...(signals.length > 0 ? { injectionSignals: signals } : {}),
        ...(hiddenCharacters > 0 ? { hiddenCharactersRemoved: hiddenCharacters } : {}),
        piiVaulted: vaulted,
      },
    },
    CHAIN_START,
    { head: true },
  );
  const now = deps.clock.now().toISOString();
  const state: WorkflowState = {
    requestId,
    traceId: options.traceId,
    requestedBy: principal,
    submittedAt: now,
    text: scrubbed.text,
    ...(body.action ? { submitted: { action: body.action, ...(fields ? { fields } : {}) } } : {}),
    approvalTimeoutSeconds: deps.approvalTimeoutSeconds,
    shield,
    audit: chainHeadOf(submitted),
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
    auditHead: signedHeadOf(submitted),
  };
  try {
    await deps.requests.create(record);
  } catch (error) {
    // A concurrent retry with the same key got there first: answer as its replay.
    const winner = error instanceof Conflict ? await deps.requests.get(requestId) : undefined;
    if (winner) return finishOrReplay(winner, principal, deps);
    throw error;
  }
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
  if (abandoned && record.status === 'QUEUED' && record.startInput) {
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

/**
 * Starts the request's execution. Its ARN is not written back: executions are named after their
 * request (`executionArnFor`), and starting one that exists is answered with it (one call saved).
 */
async function startExecution(record: RequestRecord, state: WorkflowState, deps: SubmitDeps, idempotencyId?: string): Promise<void> {
  try {
    await deps.orchestrator.start(record.requestId, state);
  } catch (error) {
    await deps.requests.update(record.requestId, {
      status: 'FAILED',
      error: { code: 'orchestrator_unavailable', message: 'The request could not be started.' },
    });
    // Let the client retry with the same key: nothing ran.
    if (idempotencyId) await deps.idempotency.release(idempotencyId);
    throw error;
  }
}

function links(requestId: string) {
  return { self: `/v1/requests/${requestId}` };
}
