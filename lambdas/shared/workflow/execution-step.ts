import type { Connectors } from '../connectors';
import { InvalidWorkflowState } from '../errors';
import type { AuditLog, Clock, PiiVault, SystemOfRecord } from '../ports';
import type { WorkflowState } from '../schemas/workflow';
import { duplicateWindowStart, utcToday } from '../policy/evaluate';
import { shieldOutbound } from '../shield/outbound';
import { restoreFreeText } from '../shield/vault';
import { chainHeadOf } from '../audit/chain';
import { allSettled } from '../settled';
import { cumulativeSharesOf } from '../validation/shares';
import type { CumulativeLedger } from '../limits/ledger';
import { system, vaultedOriginals } from './state';

/** Execute: the approved effect, exactly once, through the action's connector. */
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
