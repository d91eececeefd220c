import * as z from '../schemas/zod';
import { canRequest, duplicateWindowStart, evaluatePolicy, isWithinDuplicateWindow, lowestApprovalTier, shippedPolicies, policyRef } from '../policy';
import type { PolicyFacts, PolicySet } from '../policy';
import { Connectors } from '../connectors';
import { fieldsOf } from '../catalog/registry';
import type { RecordReader } from '../ports';
import { figureOf, type CumulativeLedger } from '../limits';
import { ActionName, Proposal } from '../schemas/actions';
import type { Decision, PolicyRef, ReasonCode, WorkflowState } from '../schemas/workflow';
import { allSettled } from '../settled';
import { fingerprintProposal } from './fingerprint';
import { findUngroundedFields } from './grounding';
import { isRecord } from '../is-record';
import { clientProposal, cumulativeSharesOf } from './shares';

/** The parts of the workflow state the validator reads. */
export type ValidationState = Pick<WorkflowState, 'requestId' | 'requestedBy' | 'text' | 'submitted' | 'triage' | 'inference'> & Partial<Pick<WorkflowState, 'approvalTimeoutSeconds'>>;

export interface ValidateProposalInput {
  state: ValidationState;
  records: RecordReader;
  /** Today in UTC (`YYYY-MM-DD`), from the caller's clock. */
  today: string;
  /** Model confidence below this goes to a human. @default shippedPolicies().routing.confidenceThreshold */
  confidenceThreshold?: number;
  /** @default shippedPolicies() */
  policies?: PolicySet;
  /** Where each action's facts come from. @default builtin for every action, over `records` */
  connectors?: Connectors;
  /**
   * Where cumulative limits are reserved. Without one, nothing else counts as committed: each
   * figure is this request's own share (a decision evaluated alone, as the evals do).
   */
  ledger?: CumulativeLedger;
  /** The decision's time, from the caller's clock: the cumulative windows end here. @default midnight of `today` */
  now?: Date;
}

export interface ValidationResult {
  /** The schema-valid proposal; absent when there was none. */
  proposal?: Proposal;
  decision: Decision;
  /** Fields of a model proposal that the request text does not contain (evidence for the approver). */
  ungroundedFields?: string[];
}

// Triage signals that mean "a human must look", whatever the policy says.
const HUMAN_SIGNALS: readonly ReasonCode[] = ['suspected_prompt_injection', 'needs_human_triage'];


function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/**
 * True when the candidate would be a valid proposal but for an amount that is not money (≤ 0,
 * -0, NaN, ±Infinity, beyond `MAX_AMOUNT`, finer than its currency): that is a rejection a human
 * cannot fix, not a triage case. Called on a candidate the schema refused.
 */
function onlyAmountOutOfRange(action: ActionName, raw: unknown): boolean {
  if (!isRecord(raw) || !isRecord(raw.fields)) return false;
  const fields = raw.fields;
  // Each of the action's money fields (a purchase order's `amount`, a credit limit's `newLimit`).
  const money = fieldsOf(action).filter((field) => field.meta.kind === 'money' && typeof fields[field.name] === 'number');
  if (money.length === 0) return false;
  return Proposal.safeParse({ ...raw, fields: { ...fields, ...Object.fromEntries(money.map((field) => [field.name, 1])) } }).success;
}

function schemaRejection(raw: unknown, roles: readonly string[], policies: PolicySet): Decision {
  const action = ActionName.safeParse(isRecord(raw) ? raw.action : undefined);
  if (!action.success) {
    const { id, version } = policies.routing;
    return { outcome: 'rejected', reasons: ['needs_human_triage'], policy: { id, version } };
  }
  const reasons: ReasonCode[] = [];
  if (!canRequest(action.data, roles, policies)) reasons.push('action_not_permitted');
  reasons.push(onlyAmountOutOfRange(action.data, raw) ? 'amount_out_of_range' : 'needs_human_triage');
  return { outcome: 'rejected', reasons, policy: policyRef(action.data, policies) };
}

/**
 * What a candidate that failed the schema lacked: the action's required fields it left out (a
 * model or the rules could not read them from the text). Empty when the candidate names no action.
 */
export function missingFieldsOf(candidate: unknown): { action?: ActionName; missing: string[] } {
  const action = ActionName.safeParse(isRecord(candidate) ? candidate.action : undefined);
  if (!action.success) return { missing: [] };
  const fields = isRecord(candidate) && isRecord(candidate.fields) ? candidate.fields : {};
  const missing = fieldsOf(action.data)
    .filter((field) => fields[field.name] === undefined && !z.safeParse(field.schema, undefined).success)
    .map((field) => field.name);
  return { action: action.data, missing };
}

const BUILTIN_ONLY = new Connectors({});

/** The records the rules need for this proposal, from the action's facts connector. */
async function readFacts(requestId: string, proposal: Proposal, records: RecordReader, connectors: Connectors, today: string): Promise<PolicyFacts> {
  const facts = await connectors.readFacts({ requestId, proposal, records, today });
  return { ...facts, today } as PolicyFacts;
}

/** Reasons, independent of policy, for which a human must decide. */
function humanReasons(state: ValidationState, proposal: Proposal, fromClientFields: boolean, ungrounded: readonly string[], threshold: number): ReasonCode[] {
  const reasons: ReasonCode[] = [];
  if (!fromClientFields) {
    const confidence: unknown = state.inference?.confidence;
    // Written so that NaN or a missing confidence counts as low.
    if (!(typeof confidence === 'number' && confidence >= threshold)) reasons.push('low_confidence');
  }
  const signals: readonly unknown[] = state.triage?.signals ?? [];
  for (const signal of HUMAN_SIGNALS) if (signals.includes(signal)) reasons.push(signal);
  // Triage sent it to a human for a reason of its own: keep it with a human.
  if (state.triage?.route === 'human' && !HUMAN_SIGNALS.some((s) => signals.includes(s))) reasons.push('needs_human_triage');
  // The model answered a different action than the one the client named.
  if (!fromClientFields && state.submitted?.action !== undefined && state.submitted.action !== proposal.action) {
    reasons.push('needs_human_triage');
  }
  if (ungrounded.length > 0) reasons.push('ungrounded_value');
  return unique(reasons);
}

/**
 * Human reasons escalate: approved → pending at the action's lowest tier; pending keeps its
 * (higher or equal) tier and gains the reasons. A rejection stays a rejection.
 */
function escalate(decision: Decision, reasons: readonly ReasonCode[], proposal: Proposal, policies: PolicySet): Decision {
  if (reasons.length === 0 || decision.outcome === 'rejected') return decision;
  if (decision.outcome === 'pending_approval') return { ...decision, reasons: unique([...decision.reasons, ...reasons]) };
  const tier = lowestApprovalTier(proposal.action, policies);
  return { ...decision, outcome: 'pending_approval', reasons: [...reasons], tier: tier.name, approverRoles: [...tier.approverRoles] };
}

function duplicateRejection(decision: Decision, ref: PolicyRef): Decision {
  const policyRejections = decision.outcome === 'rejected' ? decision.reasons : [];
  return { outcome: 'rejected', reasons: unique([...policyRejections, 'duplicate_proposal']), policy: ref };
}

/**
 * The validator: never trusts the model. Schema, permission, grounding, existence,
 * idempotency and policy are all code; model confidence and triage signals can only send a
 * proposal to a human, never approve one that policy would not.
 */
export async function validateProposal(input: ValidateProposalInput): Promise<ValidationResult> {
  const { state, records, today } = input;
  const policies = input.policies ?? shippedPolicies();
  const threshold = input.confidenceThreshold ?? policies.routing.confidenceThreshold;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`confidenceThreshold must be within [0, 1], got ${threshold}`);
  const roles = state.requestedBy.roles;

  // a) The client's valid fields are the proposal on every route, and only they skip grounding
  //    and confidence; without them the candidate came from a model (or the rules).
  const fromClient = clientProposal(state);
  const fromClientFields = fromClient !== undefined;
  let proposal: Proposal;
  if (fromClient) {
    proposal = fromClient;
  } else {
    // b) Schema.
    const raw: unknown = state.inference?.candidate;
    const parsed = Proposal.safeParse(raw);
    if (!parsed.success) return { decision: schemaRejection(raw, roles, policies) };
    proposal = parsed.data;
  }
  const ref = policyRef(proposal.action, policies);
  const fingerprint = fingerprintProposal(proposal);

  // c) Permission, before any record is read: no facts leak to someone who may not ask.
  if (!canRequest(proposal.action, roles, policies)) {
    return { proposal, decision: { outcome: 'rejected', reasons: ['action_not_permitted'], policy: ref, fingerprint } };
  }

  // d) Grounding.
  const ungrounded = fromClientFields ? [] : findUngroundedFields(proposal, state.text);

  // e) Facts, f) idempotency, f') cumulative limits, read and written at once (none depends on
  //    another's answer). This request's share is reserved before the decision, so a concurrent
  //    request to the same counterparty sees it, and the policy reads the totals it is part of. A
  //    step that fails after reserving leaves its share to Finalize's failure path, which releases
  //    it (the shares follow from the state alone); a retry keeps the first reservation.
  const shares = cumulativeSharesOf(state, policies);
  const now = input.now ?? new Date(`${today}T00:00:00.000Z`);
  // A share may wait for a human as long as the approval timeout: it is not pruned before then.
  const reserving = input.ledger && shares.length > 0 ? input.ledger.reserve(state.requestId, shares, now, { waitsUpToMs: (state.approvalTimeoutSeconds ?? 0) * 1000 }) : undefined;
  // Settled, all three, before a failure is thrown: no reservation is still in flight when the
  // step ends (and Finalize's release could otherwise come before it).
  const [facts, effect, reserved] = await allSettled([
    readFacts(state.requestId, proposal, records, input.connectors ?? BUILTIN_ONLY, today),
    records.findEffect(fingerprint),
    reserving,
  ] as const);
  const totals = reserved ?? shares.map((share) => share.units);
  // Set after the connector's facts: no connector can state them.
  if (reserved) facts.cumulative = Object.fromEntries(shares.map((share, i) => [share.name, totals[i]]));
  const figures = shares.map((share, i) => figureOf(share, totals[i]));
  // Another request's identical effect is a duplicate only within the policy's window before today.
  const duplicate =
    effect !== undefined &&
    effect.requestId !== state.requestId &&
    isWithinDuplicateWindow(effect.at, duplicateWindowStart(proposal.action, today, policies));

  // g) Policy, then h) human signals.
  let decision = evaluatePolicy(proposal, facts, roles, policies);
  if (duplicate) decision = duplicateRejection(decision, ref);
  decision = escalate(decision, humanReasons(state, proposal, fromClientFields, ungrounded, threshold), proposal, policies);
  // A rejected proposal commits nothing: its share no longer counts against anyone.
  if (decision.outcome === 'rejected' && input.ledger && shares.length > 0) await input.ledger.release(state.requestId, shares);

  return {
    proposal,
    decision: { ...decision, fingerprint, ...(figures.length > 0 ? { cumulative: figures } : {}) },
    ...(ungrounded.length > 0 ? { ungroundedFields: ungrounded } : {}),
  };
}
