import * as z from '../schemas/zod';
import { connectorFailureOf, modelFailureCauseOf } from '../errors';
import { taskIdFor } from '../ids';
import type { AuditLog, PiiOriginals, PiiVault, RecordReader, RequestStore, TaskIndex } from '../ports';
import { RequestStatus, TERMINAL_STATUSES, type RequestRecord } from '../schemas/records';
import type { WorkflowState } from '../schemas/workflow';
import { shieldApproval, shieldOutbound, shieldProposal } from '../shield/outbound';
import type { PiiFinding } from '../shield/pii';
import { signedHeadOf } from '../audit/chain';
import { cumulativeSharesOf } from '../validation/shares';
import { runningPatch, validatedPatch } from './record';
import type { CumulativeLedger } from '../limits/ledger';
import { system, vaultedOriginals } from './state';

/** Finalize (and MarkFailed): the request's terminal status, its record and the audit chain's closing entry. */

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
