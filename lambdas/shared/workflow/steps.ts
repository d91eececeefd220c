import * as z from '../schemas/zod';
import type { Connectors } from '../connectors';
import { connectorFailureOf, InvalidWorkflowState, modelFailureCauseOf } from '../errors';
import { taskIdFor } from '../ids';
import type { AuditLog, Clock, ModelProvider, PiiOriginals, PiiVault, RecordReader, RequestStore, SystemOfRecord, TaskIndex } from '../ports';
import { RequestStatus, TERMINAL_STATUSES, type RequestRecord } from '../schemas/records';
import { WorkflowState } from '../schemas/workflow';
import { duplicateWindowStart, explainReasons, utcToday } from '../policy';
import { shieldApproval, shieldOutbound, shieldProposal } from '../shield/outbound';
import type { PiiFinding } from '../shield/pii';
import { restoreFreeText } from '../shield/vault';
import { chainHeadOf, signedHeadOf } from '../audit/chain';
import { allSettled } from '../settled';
import { triageRequest } from '../triage';
import { cumulativeSharesOf, missingFieldsOf, validateProposal } from '../validation';
import { runningPatch, validatedPatch } from './record';
import type { CumulativeLedger } from '../limits';

/**
 * The work of each Step Functions task, over the ports. The Lambda handlers parse their event,
 * call one of these and return the result as the next state. Every step appends its audit
 * entry before it returns: if the audit write fails, the step fails (fail-closed).
 */

export function parseState(input: unknown): WorkflowState {
  const parsed = WorkflowState.safeParse(input);
  if (!parsed.success) {
    throw new InvalidWorkflowState(`workflow state does not match its schema: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  }
  return parsed.data;
}

const system = (id: string) => ({ type: 'system' as const, id });

/**
 * The step's record write with the route and RUNNING: only while the request is queued or running.
 * A step that outlives its execution (stopped during a model call, say) finds the request ended by
 * Finalize and leaves it as it ended.
 */
async function writeRunning(requests: RequestStore, state: WorkflowState, patch: Partial<RequestRecord>): Promise<void> {
  const running = runningPatch(state);
  if (running.status === undefined) {
    await requests.update(state.requestId, patch);
    return;
  }
  await requests.updateIf(state.requestId, { ...running, ...patch }, ['QUEUED', 'RUNNING']);
}

export async function triageStep(
  state: WorkflowState,
  deps: { audit: AuditLog },
): Promise<WorkflowState> {
  const triage = triageRequest({
    text: state.text,
    submitted: state.submitted,
    requestedBy: state.requestedBy,
    ...(state.shield ? { observedSignals: state.shield.signals } : {}),
  });
  // Only the entry: the next step's write (Inference or Validate, moments later) records the
  // route and RUNNING, and moves the record's audit head past this entry (signed meanwhile).
  const entry = await deps.audit.append(
    state.requestId,
    { step: 'Triage', actor: system('triage'), event: 'request.triaged', data: { ...triage } },
    state.audit,
  );
  return { ...state, triage, audit: chainHeadOf(entry) };
}

export async function inferenceStep(
  state: WorkflowState,
  deps: { requests: RequestStore; audit: AuditLog; provider: ModelProvider },
): Promise<WorkflowState> {
  if (!state.triage) throw new InvalidWorkflowState('inference needs a triage result');
  const inference = await deps.provider.propose({
    text: state.text,
    action: state.triage.action,
    tier: state.triage.modelTier,
  });
  const entry = await deps.audit.append(
    state.requestId,
    {
      step: 'Inference',
      actor: { type: 'model', id: `${inference.model.provider}:${inference.model.id}` },
      event: 'proposal.generated',
      // Outbound shield: the candidate is model-authored text on its way into the audit trail.
      data: shieldOutbound({ candidate: inference.candidate ?? null, confidence: inference.confidence, model: inference.model }).value,
    },
    state.audit,
    { head: true },
  );
  await writeRunning(deps.requests, state, { model: inference.model, auditHead: signedHeadOf(entry) });
  return { ...state, inference, audit: chainHeadOf(entry) };
}

export async function validationStep(
  state: WorkflowState,
  deps: {
    requests: RequestStore;
    audit: AuditLog;
    records: RecordReader;
    clock: Clock;
    confidenceThreshold?: number;
    connectors?: Connectors;
    /** Where cumulative limits are reserved; without one each figure is the request's own share. */
    ledger?: CumulativeLedger;
  },
): Promise<WorkflowState> {
  const now = deps.clock.now();
  const { proposal, decision, ungroundedFields } = await validateProposal({
    state,
    records: deps.records,
    today: utcToday(now),
    now,
    ...(deps.ledger ? { ledger: deps.ledger } : {}),
    confidenceThreshold: deps.confidenceThreshold,
    ...(deps.connectors ? { connectors: deps.connectors } : {}),
  });
  // Outbound shield on the proposal from here on: the record, the audit, the approver's task and
  // the effect all get the shielded one. Only model-authored text can change here (client fields
  // passed the same detectors at the gateway), and such text is ungrounded, so a human decides
  // it — and the effect is then exactly what the approver saw.
  const shown = proposal ? shieldProposal(proposal) : undefined;
  // Without a proposal the candidate failed the schema: what it lacked is what the requester can add.
  const lacking = proposal ? { missing: [] } : missingFieldsOf(state.inference?.candidate);
  const explanations = explainReasons(decision.reasons, proposal?.action ?? lacking.action);
  // A request for an approver: AwaitApproval's record write, a moment later, carries this step's
  // part too (one write, not two), so this entry needs no signed head of its own.
  const deferred = decision.outcome === 'pending_approval';
  const entry = await deps.audit.append(
    state.requestId,
    {
      step: 'Validate',
      actor: system('validator'),
      event: 'proposal.validated',
      data: {
        outcome: decision.outcome,
        reasons: decision.reasons,
        policy: decision.policy,
        ...(decision.tier ? { tier: decision.tier, approverRoles: decision.approverRoles } : {}),
        ...(decision.fingerprint ? { fingerprint: decision.fingerprint } : {}),
        ...(decision.dryRun ? { dryRun: decision.dryRun } : {}),
        ...(decision.cumulative ? { cumulative: decision.cumulative } : {}),
        ...(ungroundedFields && ungroundedFields.length > 0 ? { ungroundedFields } : {}),
        ...(lacking.missing.length > 0 ? { missingFields: lacking.missing } : {}),
        ...(shown && shown.redactions.length > 0 ? { outboundRedactions: shown.redactions } : {}),
      },
    },
    state.audit,
    { head: !deferred },
  );
  const validated = {
    ...(proposal ? { action: proposal.action } : {}),
    ...(Object.keys(explanations).length > 0 ? { explanations } : {}),
    ...(lacking.missing.length > 0 ? { missingFields: lacking.missing } : {}),
  };
  const next: WorkflowState = { ...state, ...(shown?.value ? { proposal: shown.value } : {}), decision, validated, audit: chainHeadOf(entry) };
  if (deferred) return next;
  await writeRunning(deps.requests, state, { ...validatedPatch(next), auditHead: signedHeadOf(entry) });
  const { validated: _written, ...handedOn } = next;
  return handedOn;
}

/** The originals the inbound shield vaulted for this request (none when it vaulted nothing). */
async function vaultedOriginals(state: WorkflowState, vault: PiiVault | undefined): Promise<PiiOriginals> {
  if (!state.shield?.vaulted) return {};
  if (!vault) throw new InvalidWorkflowState('the request has vaulted PII but the step has no vault');
  return vault.getVault(state.requestId);
}

export async function executionStep(
  state: WorkflowState,
  deps: {
    audit: AuditLog;
    records: SystemOfRecord;
    clock: Clock;
    vault?: PiiVault;
    connectors?: Connectors;
    /** Where the request's cumulative shares are held: after a human's approval they count from the effect. */
    ledger?: CumulativeLedger;
  },
): Promise<WorkflowState> {
  const { proposal, decision } = state;
  if (!proposal || !decision?.fingerprint) throw new InvalidWorkflowState('execution needs a validated proposal');
  // Defence in depth: the ASL only routes here on approval, and this checks it again.
  const approvedByPolicy = decision.outcome === 'approved';
  const approvedByHuman = decision.outcome === 'pending_approval' && state.approval?.status === 'APPROVED';
  if (!approvedByPolicy && !approvedByHuman) throw new InvalidWorkflowState('execution reached without an approval');

  // The system of record gets the requester's own words back in its free-text fields (the
  // placeholders were for the model and the logs); nothing else is restored.
  const originals = await vaultedOriginals(state, deps.vault);
  const effect = restoreFreeText(proposal, originals);

  const now = deps.clock.now();
  const at = now.toISOString();
  const approvedBy = approvedByHuman ? (state.approval?.decidedBy ?? 'unknown') : 'policy';
  // A share reserved before a human's wait counts from the effect, as one with no wait does: the
  // window then reaches back to what was committed, not to when it was asked for (else an order
  // approved a week after it was asked would leave the window a week early).
  const shares = approvedByHuman && deps.ledger ? cumulativeSharesOf(state) : [];
  // The receipt comes back (and is recorded below) before Finalize runs: no COMPLETED without one.
  const [receipt] = await allSettled([
    deps.records.execute({
      requestId: state.requestId,
      fingerprint: decision.fingerprint,
      proposal: effect.proposal,
      at,
      // An identical effect older than the policy's duplicate window no longer blocks this one.
      duplicateWindowStart: duplicateWindowStart(proposal.action, utcToday(now)),
      ...(deps.connectors ? { apply: deps.connectors.effect({ requestId: state.requestId, at, approvedBy, records: deps.records }) } : {}),
    }),
    shares.length > 0 ? deps.ledger?.commit(state.requestId, shares, now) : undefined,
  ] as const);
  // Outbound shield: the receipt is what clients and auditors will read. Restored originals go
  // back to their placeholders; any other PII or token-shaped string is redacted.
  const result = shieldOutbound(receipt, originals).value;
  // The receipt travels in the state: Finalize writes it to the record with the final status, one write for both.
  const entry = await deps.audit.append(
    state.requestId,
    {
      step: 'Execute',
      actor: system('executor'),
      event: 'effect.executed',
      data: {
        receipt: result,
        approvedBy: approvedByHuman ? state.approval?.decidedBy : 'policy',
        ...(effect.restored.length > 0 ? { piiRestoredIn: effect.restored } : {}),
      },
    },
    state.audit,
  );
  return { ...state, result, audit: chainHeadOf(entry) };
}

/**
 * The vaulted originals for Finalize's scan. On the failure path a vault that cannot be read
 * must not stop the request being marked FAILED: the scan then runs on PII and token shapes only.
 */
async function originalsForFinalize(state: WorkflowState, vault: PiiVault | undefined, failurePath: boolean): Promise<PiiOriginals> {
  try {
    return await vaultedOriginals(state, vault);
  } catch (error) {
    if (failurePath) return {};
    throw error;
  }
}

/**
 * Whether the request's effect ran, or may have: its receipt is in the state, or it still holds
 * its proposal's claim (execution claims before it applies, and frees the claim only when the
 * effect's precondition failed). Then its shares stay counted, whatever the request's status.
 */
async function effectMayHaveRun(state: WorkflowState, records: RecordReader): Promise<boolean> {
  if (state.result) return true;
  const approved = state.decision?.outcome === 'approved' || state.approval?.status === 'APPROVED';
  const fingerprint = state.decision?.fingerprint;
  if (!approved || !fingerprint) return false;
  return (await records.findEffect(fingerprint))?.requestId === state.requestId;
}

/**
 * An execution that stopped with nothing but its request id (aborted or timed out: the
 * ExecutionAbandoned rule) leaves the record to say what it asked for. Its shares are released
 * only when no effect can have run: it waited for a human who had not approved it, and the
 * proposal's claim (by the fingerprint Validate recorded) is not this request's. An effect may
 * have run after any approval: those shares stay (fail safe).
 */
async function sharesLeftWaiting(current: RequestRecord, records: RecordReader): Promise<ReturnType<typeof cumulativeSharesOf>> {
  if (!current.proposal || current.decision?.outcome !== 'pending_approval' || current.approval?.status === 'APPROVED') return [];
  // A decision whose delivery looked failed may still have reached the workflow (its undo put the
  // task back): the proposal's claim says whether the effect started. No fingerprint, no release.
  if (!current.effectFingerprint || (await records.findEffect(current.effectFingerprint))?.requestId === current.requestId) return [];
  return cumulativeSharesOf({ submitted: { action: current.proposal.action, fields: current.proposal.fields }, requestedBy: { sub: current.requestedBy, roles: current.requesterRoles } });
}

/**
 * The chain's closing `request.finalized` entry, when the chain ends with one: the status it
 * gives, the step that wrote it and the error it ended with. Read as an append reads the end (the
 * audit key must have signed it): the record takes its status from it.
 */
async function closingEntryOf(audit: AuditLog, requestId: string): Promise<{ status: RequestStatus; step: string; failedWith: unknown } | undefined> {
  const last = await audit.end(requestId);
  if (last?.event !== 'request.finalized') return undefined;
  const status = RequestStatus.safeParse(last.data.status);
  return status.success && TERMINAL_STATUSES.includes(status.data) ? { status: status.data, step: last.step, failedWith: last.data.failedWith ?? null } : undefined;
}

/** What Finalize returns as the execution's output: the outcome, nothing sensitive. */
export const FinalOutput = z.object({ requestId: z.string(), status: z.string() });
export type FinalOutput = z.infer<typeof FinalOutput>;

/** Error names a Catch can carry, as the stable codes a client sees in `error.code`. */
const FAILURE_CODES: Record<string, string> = {
  DuplicateEffect: 'duplicate_proposal',
  EffectPreconditionFailed: 'effect_precondition_failed',
  // A facts or effect connector, after its own retries; the message names it.
  ConnectorFailed: 'connector_failed',
  AuditWriteFailed: 'audit_write_failed',
  // Model failures by class (errors.ts); the finer cause is in the log line and the audit entry.
  ModelUnavailable: 'model_unavailable',
  ModelAccessDenied: 'model_access_denied',
  ModelNotFound: 'model_not_found',
  // An SSM model id outside the allowed list, a missing parameter, an unusable API key secret, no region.
  ModelSettingError: 'model_misconfigured',
  InvalidWorkflowState: 'invalid_workflow_state',
  'States.Timeout': 'step_timed_out',
  // Execution statuses, from the ExecutionAbandoned rule: the execution stopped before its own MarkFailed finished.
  ABORTED: 'execution_aborted',
  TIMED_OUT: 'execution_timed_out',
};

export function failureCode(errorName: string): string {
  return FAILURE_CODES[errorName] ?? (errorName.startsWith('Lambda.') ? 'step_unavailable' : 'step_failed');
}

/** The terminal status of a request, derived from the state the last step handed over. */
export function terminalStatus(state: WorkflowState, failurePath: boolean): RequestStatus {
  if (state.error) {
    // Only the approval wait's own timeout means "nobody decided in time".
    return !failurePath && state.error.Error === 'States.Timeout' ? 'EXPIRED' : 'FAILED';
  }
  if (failurePath) return 'FAILED';
  if (state.decision?.outcome === 'rejected' || state.approval?.status === 'REJECTED') return 'REJECTED';
  if (state.result) return 'COMPLETED';
  return 'FAILED';
}

/**
 * Finalize's outbound shield: the model-authored and effect-echoed parts of the stored request
 * (proposal, result, error, approver comment) scanned once more, now with the request's vaulted
 * originals, so none of them — nor a token-shaped string — is left for a client to read.
 * Returns the attributes to rewrite (only those that changed) and what was redacted.
 */
export function shieldRecord(
  record: Pick<RequestRecord, 'proposal' | 'result' | 'error' | 'approval'>,
  originals: PiiOriginals,
): { patch: Partial<RequestRecord>; redactions: PiiFinding[] } {
  const patch: Partial<RequestRecord> = {};
  const counts = new Map<string, number>();
  const note = (redactions: PiiFinding[]) => {
    for (const r of redactions) counts.set(r.type, (counts.get(r.type) ?? 0) + r.count);
  };
  if (record.proposal) {
    const shown = shieldProposal(record.proposal, originals);
    // (A proposal no stand-in can repair stays as Validate stored it: Validate's own shield
    // already kept such a proposal out of the record.)
    if (shown.redactions.length > 0 && shown.value) {
      note(shown.redactions);
      patch.proposal = shown.value;
    }
  }
  const scans = {
    result: record.result && shieldOutbound(record.result, originals),
    error: record.error && shieldOutbound(record.error, originals),
    approval: record.approval && shieldApproval(record.approval, originals),
  };
  for (const [key, scanned] of Object.entries(scans)) {
    if (scanned && scanned.redactions.length > 0) {
      note(scanned.redactions);
      (patch as Record<string, unknown>)[key] = scanned.value;
    }
  }
  const redactions = [...counts].map(([type, count]) => ({ type, count })) as PiiFinding[];
  return { patch, redactions };
}

export async function finalizeStep(
  state: WorkflowState,
  deps: {
    requests: RequestStore;
    tasks: TaskIndex;
    audit: AuditLog;
    vault?: PiiVault;
    /** With `records`: a request that ends with no effect releases its shares of cumulative limits. */
    ledger?: CumulativeLedger;
    records?: RecordReader;
  },
  options: { failurePath: boolean },
): Promise<FinalOutput> {
  let status = terminalStatus(state, options.failurePath);
  // Off the failure path (an expiry included) the state holds all of the record that matters
  // here; only a failure can have left the record somewhere the state does not know (ended, or waiting).
  const current = options.failurePath ? await deps.requests.get(state.requestId) : undefined;
  // A caught error's state is the failed step's input: that step (a wait that timed out after
  // its entry, say) may have appended, so the chain's end is read rather than assumed.
  let chainEnd = state.error ? undefined : state.audit;
  if (options.failurePath) {
    // A failure after the request already ended (e.g. Finalize failing once its record write landed, or an abort then) never rewrites its outcome.
    if (current && TERMINAL_STATUSES.includes(current.status)) {
      // Unless this is a retry of the very MarkFailed that ended it (its record write landed, its
      // answer did not): then nothing failed after the end, and the trail says so by saying nothing.
      const closing = await closingEntryOf(deps.audit, state.requestId);
      if (closing?.step === 'MarkFailed' && closing.failedWith === (state.error?.Error ?? null)) return { requestId: state.requestId, status: current.status };
      const entry = await deps.audit.append(
        state.requestId,
        {
          step: 'MarkFailed',
          actor: system('finalizer'),
          event: 'request.failure_after_end',
          data: { status: current.status, failedWith: state.error?.Error ?? null },
        },
        chainEnd,
        { head: true },
      );
      // Only the head moves, so that the entry cannot be cut off the trail unseen; the outcome stays as it was.
      await deps.requests.update(state.requestId, { auditHead: signedHeadOf(entry) });
      return { requestId: state.requestId, status: current.status };
    }
  }
  // Finalize appends its entry before it writes the record: if that write is what failed, the
  // chain already says how the request ended, and that is what the record gets (no second end).
  const closing = options.failurePath ? await closingEntryOf(deps.audit, state.requestId) : undefined;
  if (closing) status = closing.status;
  // Ended with no effect: its shares of cumulative limits count against no one any more. Before
  // the status is written, so that a failure here is retried rather than leaving a share behind.
  // (Validate released a decision it rejected itself at once.)
  const released = state.decision?.outcome === 'rejected';
  if (status !== 'COMPLETED' && !released && deps.ledger && deps.records) {
    const shares = cumulativeSharesOf(state);
    if (shares.length > 0) {
      if (!(await effectMayHaveRun(state, deps.records))) await deps.ledger.release(state.requestId, shares);
    } else if (current) {
      await deps.ledger.release(state.requestId, await sharesLeftWaiting(current, deps.records));
    }
  }
  // Execute leaves the receipt in the state for this write.
  // The route too: a request that failed before its next step wrote the record still says how it was routed.
  const { status: _running, ...routed } = runningPatch(state);
  // So does Validate's part, when it left it to an AwaitApproval that never wrote it (or wrote it already: the same values).
  const patch: Partial<RequestRecord> = { ...routed, ...(state.validated ? validatedPatch(state) : {}), status, ...(state.result ? { result: state.result } : {}) };
  // A request that failed while waiting (e.g. its execution was aborted) leaves no task to decide.
  if (status === 'EXPIRED' || (status === 'FAILED' && current?.status === 'PENDING_APPROVAL')) {
    const taskId = taskIdFor(state.requestId);
    const expired = await deps.tasks.markExpired(taskId);
    // The wait's input is the state before AwaitApproval's entry: the task knows where the chain ended after it.
    chainEnd ??= expired?.chain;
    patch.approval = { taskId, status: 'EXPIRED' };
  }
  const modelCause = modelFailureCauseOf(state.error);
  const connector = connectorFailureOf(state.error);
  if (status === 'FAILED') {
    const code = failureCode(state.error?.Error ?? 'InconsistentState');
    patch.error = {
      code,
      message: state.result
        ? 'The effect was applied (see result), but the request could not be completed normally.'
        : modelCause
          ? `The model could not be called (${modelCause}); nothing was executed for it.`
          : connector
            ? `The ${connector.connector} connector failed (${connector.reason}) after its retries; no receipt was recorded.`
            : 'The request could not be completed; nothing was executed for it.',
    };
  }
  const stored = current ?? { proposal: state.proposal, approval: state.approval };
  const shielded = shieldRecord({ ...stored, ...patch }, await originalsForFinalize(state, deps.vault, options.failurePath));
  const entry = closing
    ? undefined
    : await deps.audit.append(
    state.requestId,
    {
      step: options.failurePath ? 'MarkFailed' : 'Finalize',
      actor: system('finalizer'),
      event: 'request.finalized',
      data: {
        status,
        ...(patch.error ? { error: patch.error.code, failedWith: state.error?.Error ?? null } : {}),
        ...(patch.error && modelCause ? { cause: modelCause } : {}),
        ...(patch.error && connector ? { connector: connector.connector, cause: connector.reason } : {}),
        ...(shielded.redactions.length > 0 ? { outboundRedactions: shielded.redactions } : {}),
      },
    },
    chainEnd,
    { head: true },
  );
  // Without an entry of its own, the record's head moves to the closing entry Finalize wrote, as
  // Finalize's record write would have moved it: that entry cannot be cut off the trail unseen.
  const headed = entry ?? (closing ? await deps.audit.signedEnd(state.requestId) : undefined);
  await deps.requests.update(state.requestId, { ...patch, ...shielded.patch, ...(headed ? { auditHead: signedHeadOf(headed) } : {}) });
  return { requestId: state.requestId, status };
}
