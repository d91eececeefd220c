import * as z from './zod';
import { Id } from '../ids';
import { ActionName, Proposal } from './actions';
import {
  ApprovalStatus,
  ChainHead,
  Decision,
  DryRun,
  EffectReceipt,
  Explanations,
  ModelUsage,
  Principal,
  ReasonCode,
  Route,
} from './workflow';

/** Items as stored. The HTTP handlers project them to the shapes in API.md. */

export const REQUEST_STATUSES = [
  'QUEUED',
  'RUNNING',
  'PENDING_APPROVAL',
  'COMPLETED',
  'REJECTED',
  'FAILED',
  'EXPIRED',
] as const;
export const RequestStatus = z.enum(REQUEST_STATUSES);
export type RequestStatus = z.infer<typeof RequestStatus>;
export const TERMINAL_STATUSES: readonly RequestStatus[] = ['COMPLETED', 'REJECTED', 'FAILED', 'EXPIRED'];

/** Who may decide a pending request and by when: the approval task's roles, tier and `expiresAt`. */
export const WaitingFor = z.strictObject({
  approverRoles: z.array(z.string()).check(z.minLength(1)),
  tier: z.string(),
  deadline: z.string(),
});
export type WaitingFor = z.infer<typeof WaitingFor>;

export { Explanations };

/** The signed head as an audit view shows it, for an auditor to check with the key's public half. */
export const SignedHeadRef = z.strictObject({ seq: z.number().check(z.int(), z.gte(1)), hash: z.string(), keyId: z.string(), signature: z.string() });
export type SignedHeadRef = z.infer<typeof SignedHeadRef>;

export const RequestRecord = z.object({
  requestId: Id,
  status: RequestStatus,
  requestedBy: z.string(),
  requesterRoles: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  traceId: z.optional(z.string()),
  executionArn: z.optional(z.string()),
  /** Internal: the execution input, kept until the execution has started so a retry can start it. */
  startInput: z.optional(z.string()),
  action: z.optional(ActionName),
  route: z.optional(Route),
  model: z.optional(ModelUsage),
  proposal: z.optional(Proposal),
  decision: z.optional(z.object({ outcome: Decision.shape.outcome, reasons: z.array(ReasonCode), policy: Decision.shape.policy })),
  approval: z.optional(z.object({
      taskId: Id,
      status: ApprovalStatus,
      decidedBy: z.optional(z.string()),
      decidedAt: z.optional(z.string()),
      comment: z.optional(z.string()),
    })),
  result: z.optional(EffectReceipt),
  error: z.optional(z.object({ code: z.string(), message: z.string() })),
  /** Internal: the validated proposal's fingerprint, so that an effect's claim can be checked from the record alone (an aborted execution). */
  effectFingerprint: z.optional(z.string()),
  /** Written when the approval task opens, so the request's view names who decides without reading the task. */
  waitingFor: z.optional(WaitingFor),
  /** Fields the action needs that the free text did not give (the proposal failed its schema for want of them). */
  missingFields: z.optional(z.array(z.string())),
  /** Each of `decision.reasons` in a sentence, written with the decision by the policy that made it. */
  explanations: z.optional(Explanations),
  /**
   * The audit chain's signed head (DESIGN.md §6): moved by each step that writes the record, never
   * backwards. Entries after it carry their own signature until the next record write covers them.
   */
  auditHead: z.optional(SignedHeadRef),
});
export type RequestRecord = z.infer<typeof RequestRecord>;

export const TaskItem = z.object({
  taskId: Id,
  requestId: Id,
  action: ActionName,
  status: ApprovalStatus,
  reasons: z.array(ReasonCode),
  /** A few fields an approver needs at a glance (action-specific, from the proposal). */
  summary: z.record(z.string(), z.unknown()),
  requestedBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  approverRoles: z.array(z.string()).check(z.minLength(1)),
  tier: z.string(),
  approvalToken: z.string(),
  /** The Step Functions task token: stored, never returned by any API, never logged. */
  taskToken: z.string(),
  /** S3 key of the dehydrated state. */
  checkpointKey: z.string(),
  /**
   * Where the audit chain ended when the task opened (its `approval.requested` entry): what
   * Finalize appends after when the wait times out, with no read. (An entry appended since makes
   * that append read the chain's end, as any writer that lost a race.) Absent on older tasks.
   */
  chain: z.optional(ChainHead),
  evidence: z.object({
    proposal: z.optional(Proposal),
    decision: Decision,
    confidence: z.optional(z.number()),
    model: z.optional(ModelUsage),
    triageReason: z.optional(z.string()),
    dryRun: z.optional(DryRun),
  }),
  decidedBy: z.optional(z.string()),
  decidedAt: z.optional(z.string()),
  comment: z.optional(z.string()),
});
export type TaskItem = z.infer<typeof TaskItem>;

export const ActorType = z.enum(['system', 'model', 'human']);
export const Actor = z.strictObject({ type: ActorType, id: z.string() });
export type Actor = z.infer<typeof Actor>;

export const AuditEntry = z.strictObject({
  requestId: Id,
  seq: z.number().check(z.int(), z.gte(1)),
  at: z.string(),
  step: z.string(),
  actor: Actor,
  event: z.string(),
  data: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** An entry as stored: the audit key's entry signature over its seq and hash (`entryMessage`, never valid as a head's) rides with it. */
export const SignedAuditEntry = z.strictObject({ ...AuditEntry.shape, keyId: z.string(), signature: z.string() });
export type SignedAuditEntry = z.infer<typeof SignedAuditEntry>;

/**
 * A request's signed chain head as earlier versions kept it, beside its entries under seq 0: the
 * latest entry (written as an entry of its own by the next append) and a signature by Warden's
 * audit key over its seq and hash (`headMessage`). Read for requests written before the head
 * moved to the request record; never written any more.
 */
export const AuditHead = z.strictObject({
  requestId: Id,
  seq: z.literal(0),
  entry: AuditEntry,
  /** The signing key's ARN, as KMS returned it. */
  keyId: z.string(),
  /** The signature (base64; ECDSA P-256 over SHA-256, DER). */
  signature: z.string(),
});
export type AuditHead = z.infer<typeof AuditHead>;


/** Why `verified` is false, as the audit view says it. */
export const AuditUnverifiedReason = z.enum([
  /** Entries that do not chain: a gap, a reordering, or an entry whose hash does not recompute. */
  'chain_broken',
  /** Entries with no signed head: the head was removed, or the chain was never signed. */
  'head_missing',
  /** A head that Warden's key did not sign (forged, copied from another request, or edited). */
  'head_signature_invalid',
  /** A chain that does not end where the signed head says: cut off, or extended past it. */
  'head_mismatch',
]);
export type AuditUnverifiedReason = z.infer<typeof AuditUnverifiedReason>;

/** What a step hands to `AuditLog.append`; seq, hashes and time are the log's to assign. */
export type AuditEvent = Pick<AuditEntry, 'step' | 'actor' | 'event' | 'data'>;

export { Principal };
