import type { Connectors } from '../connectors';
import type { AuditLog, Clock, RecordReader, RequestStore } from '../ports';
import type { WorkflowState } from '../schemas/workflow';
import { utcToday } from '../policy/evaluate';
import { explainReasons } from '../policy/explanations';
import { shieldProposal } from '../shield/outbound';
import { chainHeadOf, signedHeadOf } from '../audit/chain';
import { missingFieldsOf, validateProposal } from '../validation/validate';
import { validatedPatch } from './record';
import type { CumulativeLedger } from '../limits/ledger';
import { system, writeRunning } from './state';

/** Validate: the proposal against its schema and policy, with its cumulative limits reserved. */
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
