import type { AppendedEntry, HeadSignatureCheck, TrailVerdict } from './audit/chain';
import type { ActionName, CustomerTier, Proposal } from './schemas/actions';
import type { AuditEntry, AuditEvent, RequestRecord, RequestStatus, SignedHeadRef, TaskItem } from './schemas/records';
import type { ApprovalStatus, ChainHead, EffectReceipt, InferenceResult, ModelTier, WorkflowState } from './schemas/workflow';

/**
 * The ports the domain talks to. Domain code never imports an AWS SDK client: the adapters in
 * `adapters/aws/` implement these with SDK v3, in AWS and (pointed at local endpoints) locally.
 */

export interface RequestStore {
  /** Creates the record; throws `Conflict` if the id exists. */
  create(record: RequestRecord): Promise<void>;
  get(requestId: string): Promise<RequestRecord | undefined>;
  /** Sets the given attributes and `updatedAt`; the record must exist. */
  update(requestId: string, patch: Partial<Omit<RequestRecord, 'requestId' | 'createdAt'>>): Promise<void>;
  /**
   * As `update`, but only while the record's status is one of `whenStatus` (one conditional
   * write); false when it was not, or there is no such record.
   */
  updateIf(
    requestId: string,
    patch: Partial<Omit<RequestRecord, 'requestId' | 'createdAt'>>,
    whenStatus: readonly RequestStatus[],
  ): Promise<boolean>;
  /**
   * One page of requests, newest first: one requester's, or everyone's. A page holds at most
   * `limit` and may hold fewer (a status filter reads a bounded amount); `nextToken` is there
   * while more may follow and is accepted back only for the same scope.
   */
  list(scope: RequestListScope, page: { status?: RequestStatus; limit: number; cursor?: string }): Promise<RequestPage>;
}

/** Whose requests a listing reads: a requester's own, or (for an auditor) everyone's. */
export type RequestListScope = { requestedBy: string } | 'everyone';

export interface RequestPage {
  requests: RequestRecord[];
  nextToken?: string;
}

export interface TaskPage {
  tasks: TaskItem[];
  nextToken?: string;
}

export interface TaskIndex {
  /**
   * Writes the task of a request. A retried dehydrate step may overwrite a task that is still
   * PENDING (it carries the newer task token); a decided task is never overwritten.
   */
  putPending(task: TaskItem): Promise<void>;
  get(taskId: string): Promise<TaskItem | undefined>;
  /** One page of tasks in a status, oldest first (`cursor` is an opaque token from a previous page). */
  listByStatus(status: ApprovalStatus, limit: number, cursor?: string): Promise<TaskPage>;
  /**
   * Consumes the single-use approval token: succeeds for exactly one caller, and only while
   * the task is PENDING, the token matches and `now` is before the deadline. Returns the task as
   * it is now (decided), or undefined when the condition failed (the caller re-reads it to say why).
   */
  consumeApprovalToken(args: {
    taskId: string;
    approvalToken: string;
    status: 'APPROVED' | 'REJECTED';
    decidedBy: string;
    decidedAt: string;
    comment?: string;
  }): Promise<TaskItem | undefined>;
  /** Puts a consumed task back to PENDING when its decision could not be delivered. */
  releaseDecision(taskId: string, decidedBy: string): Promise<void>;
  /** PENDING → EXPIRED; the task as it is then, or undefined when it was not pending (decided, expired already, unknown). */
  markExpired(taskId: string): Promise<TaskItem | undefined>;
}

export interface StateStore {
  /** Writes the dehydrated state (SSE-KMS in AWS) and returns its key. */
  putCheckpoint(requestId: string, taskId: string, state: WorkflowState): Promise<string>;
  getCheckpoint(key: string): Promise<WorkflowState>;
}

/** Placeholder → original value (`{"[EMAIL_1]": "jane@example.com"}`) for one request. */
export type PiiOriginals = Record<string, string>;

/**
 * Where the inbound shield keeps the originals behind a request's PII placeholders: encrypted
 * (SSE-KMS with the stack key, under the request's checkpoint prefix), for the one step that
 * writes them into the system of record. Never logged, never returned.
 */
export interface PiiVault {
  putVault(requestId: string, originals: PiiOriginals): Promise<void>;
  /** Throws `NotFound` when the request has no vault. */
  getVault(requestId: string): Promise<PiiOriginals>;
}

export interface AuditLog {
  /**
   * Appends one entry to the request's hash chain (seq = last + 1, prevHash = last hash), signed
   * by the audit key, and returns it. `after` is where the caller knows the chain ends (the
   * workflow state carries it): then nothing is read first. Throws `AuditWriteFailed` when it
   * cannot: the step must fail with it.
   */
  append(requestId: string, event: AuditEvent, after?: ChainHead, options?: AppendOptions): Promise<AppendedEntry>;
  /**
   * As `append`, unless the chain is closed: its last entry ends the request
   * (`request.finalized`, or a failure recorded after it). Returns undefined then and writes
   * nothing, so a late writer can never put an entry after the one that says how it ended.
   */
  appendUnlessClosed(requestId: string, event: AuditEvent, after?: ChainHead, options?: AppendOptions): Promise<AppendedEntry | undefined>;
  /**
   * The chain's last entry, checked as an append checks the end it extends (signed by the audit
   * key), with a head signed at it for the request record: for a step that completes the record
   * of an entry another step wrote. Undefined for an empty chain, or one that still ends in an
   * earlier version's head.
   */
  signedEnd(requestId: string): Promise<AppendedEntry | undefined>;
  /**
   * The chain's last entry, checked as an append checks the end it extends (signed by the audit
   * key; throws AuditWriteFailed if it is not): for a step that acts on how the chain ends.
   */
  end(requestId: string): Promise<AuditEntry | undefined>;
  list(requestId: string): Promise<AuditEntry[]>;
  /** The entries, checked against the request's signed head (the record's `auditHead`). */
  trail(requestId: string, head?: SignedHeadRef): Promise<AuditTrail>;
}

export interface AppendOptions {
  /** Also sign the chain's head at this entry, for the request record (`RequestRecord.auditHead`). */
  head?: boolean;
  /**
   * A write the entry records, which must land before it: the entry is signed meanwhile (its
   * signature needs nothing from it) and written only once this fulfils. If it rejects, nothing
   * is written and its error is what the append throws. Either way the append settles only after it.
   */
  once?: Promise<unknown>;
}

export type AuditTrail = {
  entries: AuditEntry[];
  /** The signed head as stored, for an auditor to check with the key's public half. */
  head?: SignedHeadRef;
} & TrailVerdict;

/**
 * The key that signs audit heads (an asymmetric KMS key in AWS, a stand-in locally). Only the
 * Lambdas that append may sign; anyone holding the public key can verify.
 */
export interface AuditSigner {
  sign(message: Uint8Array): Promise<{ signature: Uint8Array; keyId: string }>;
  verify: HeadSignatureCheck;
}

export interface IdempotencyRecord {
  requestId: string;
  bodyHash: string;
}

export interface IdempotencyStore {
  /**
   * Claims `key` for `record`. Returns undefined when the claim is new, or the record that
   * already holds the key.
   */
  claim(key: string, record: IdempotencyRecord, ttlSeconds: number): Promise<IdempotencyRecord | undefined>;
  release(key: string): Promise<void>;
}

export interface Vendor {
  name: string;
  validated: boolean;
}
export interface Customer {
  customerId: string;
  tier: CustomerTier;
}
export interface Order {
  orderId: string;
  customerId: string;
  total: number;
  currency: string;
  refundedTotal: number;
}

/** Read side of the example system of record, as the validator sees it. */
export interface RecordReader {
  /** Any record by key: how an action's builtin facts read records that only it knows (`recordKey`). */
  get(key: RecordKey): Promise<RecordItem | undefined>;
  findVendor(name: string): Promise<Vendor | undefined>;
  getCustomer(customerId: string): Promise<Customer | undefined>;
  getOrder(orderId: string): Promise<Order | undefined>;
  /**
   * The request that already executed an effect with this fingerprint, if any, and when
   * (`at`, ISO timestamp; absent on a record that never stored it: treat as recent).
   */
  findEffect(fingerprint: string): Promise<{ requestId: string; at?: string } | undefined>;
}

/** The key of one item of the example system of record (`recordKey` builds it). */
export interface RecordKey {
  pk: string;
  sk: string;
}
export type RecordItem = Record<string, unknown>;

/**
 * The example system of record as the catalog's builtin connectors write to it: items by key,
 * and conditional single-item writes (the expressions are DynamoDB's, the store's own language).
 * No transactions: each effect is made exactly-once by writes keyed by the request.
 */
export interface RecordTable extends RecordReader {
  /** Writes the item unless its key exists; false when it did. */
  putIfAbsent(item: RecordItem & RecordKey): Promise<boolean>;
  /**
   * One update (conditional when given a `condition`); the item as it is after it, or undefined when the condition failed.
   * `names` are the expressions' `#placeholders` (for a path element that is data, such as an id).
   */
  updateIf(args: { key: RecordKey; update: string; condition?: string; values?: Record<string, unknown>; names?: Record<string, string> }): Promise<RecordItem | undefined>;
}

/** Applies an approved proposal's effect (a connector) and returns its receipt. */
export type ApplyEffect = (proposal: Proposal) => Promise<EffectReceipt>;

/** What running an approved proposal's effect takes (SystemOfRecord.execute). */
export interface ExecuteEffectArgs {
  requestId: string;
  fingerprint: string;
  proposal: Proposal;
  at: string;
  duplicateWindowStart?: string;
  apply?: ApplyEffect;
}

/** Write side: each effect is keyed so that a retry of the same request cannot apply it twice. */
export interface SystemOfRecord extends RecordTable {
  /**
   * Claims the proposal's fingerprint for the request, then applies the effect: `apply` (the
   * action's effect connector), or the action's builtin effect on this table.
   * `duplicateWindowStart` (ISO timestamp, from `duplicateWindowStart()` in policy): another
   * request's claim on the fingerprint older than this may be taken over. Without it a claim
   * never expires.
   */
  execute(args: ExecuteEffectArgs): Promise<EffectReceipt>;
}

export interface ModelProvider {
  readonly name: string;
  /** Turns request text into a candidate proposal. Output is untrusted: the validator decides. */
  propose(input: { text: string; action?: ActionName; tier: ModelTier }): Promise<InferenceResult>;
}

export interface Orchestrator {
  /** Starts the governed-request execution named after the request; returns its ARN. */
  start(requestId: string, input: WorkflowState): Promise<string>;
  /** Resumes a waiting execution; throws `Gone` if the task token has timed out or closed. */
  resume(taskToken: string, output: WorkflowState): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
