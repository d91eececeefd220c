import * as z from '../schemas/zod';
import { NotFound } from '../errors';
import { Id, isValidId } from '../ids';
import { explainReasons } from '../policy/explanations';
import { AUDITOR_ROLE } from '../policy/roles';
import type { AuditLog, RequestStore } from '../ports';
import type { ListRequestsQuery } from '../schemas/api';
import { AuditEntry, AuditUnverifiedReason, Explanations, RequestRecord, SignedHeadRef, WaitingFor } from '../schemas/records';
import type { Principal } from '../schemas/workflow';
import { shieldApproval, shieldOutbound, shieldProposal } from '../shield/outbound';

/** Requests are visible to their requester and to auditors; to anyone else they do not exist. */
async function visibleRecord(principal: Principal, requestId: string, requests: RequestStore): Promise<RequestRecord> {
  if (!isValidId(requestId)) throw new NotFound('No such request.');
  const record = await requests.get(requestId);
  if (!record || (record.requestedBy !== principal.sub && !principal.roles.includes(AUDITOR_ROLE))) {
    throw new NotFound('No such request.');
  }
  return record;
}

export const NEXT_STATES = ['done', 'running', 'waiting_for_approval', 'needs_changes', 'failed'] as const;

/** API.md `next`: what happens now, and what the caller can do. */
export const RequestNext = z.strictObject({
  state: z.enum(NEXT_STATES),
  waitingFor: z.optional(WaitingFor),
  missingFields: z.optional(z.array(z.string())),
  /** Would the same request, sent again, succeed? */
  retryable: z.boolean(),
  explanations: z.optional(Explanations),
});
export type RequestNext = z.infer<typeof RequestNext>;

/**
 * `error.code`s of a FAILED request that say nothing against the request itself: something
 * around it was down or slow (the codes are `FAILURE_CODES` in workflow/finalize-step.ts, and submit's
 * `orchestrator_unavailable`). A configuration failure (`model_access_denied`…), a duplicate or
 * a failed precondition would fail the same way again.
 */
const RETRYABLE_FAILURES: ReadonlySet<string> = new Set([
  'orchestrator_unavailable',
  'model_unavailable',
  'connector_failed',
  'audit_write_failed',
  'step_unavailable',
  'step_timed_out',
  'execution_timed_out',
]);

/** What happens now: derived from the record alone, so the view costs no second read. */
export function nextOf(record: RequestRecord): RequestNext {
  const reasons = record.decision?.reasons ?? [];
  // A decision stored before its sentences were recorded still gets the core's.
  const explanations = record.explanations ?? explainReasons(reasons);
  const explained = Object.keys(explanations).length > 0 ? { explanations } : {};
  switch (record.status) {
    case 'QUEUED':
    case 'RUNNING':
      return { state: 'running', retryable: false, ...explained };
    case 'PENDING_APPROVAL':
      return { state: 'waiting_for_approval', ...(record.waitingFor ? { waitingFor: record.waitingFor } : {}), retryable: false, ...explained };
    case 'COMPLETED':
      return { state: 'done', retryable: false, ...explained };
    case 'REJECTED': {
      // The text lacked a value the action needs: sent again as it is, it would lack it again.
      const missingFields = record.missingFields ?? [];
      return missingFields.length > 0 ? { state: 'needs_changes', missingFields, retryable: false, ...explained } : { state: 'done', retryable: false, ...explained };
    }
    case 'EXPIRED':
      // Nobody decided in time; nothing was wrong with the request itself.
      return { state: 'done', retryable: true, ...explained };
    case 'FAILED':
      return { state: 'failed', retryable: RETRYABLE_FAILURES.has(record.error?.code ?? ''), ...explained };
  }
}

/** The request view of API.md: internal attributes (requester roles, execution ARN) stay inside. */
export const PublicRequest = z.extend(z.pick(RequestRecord, {
  requestId: true,
  status: true,
  requestedBy: true,
  createdAt: true,
  updatedAt: true,
  action: true,
  route: true,
  model: true,
  proposal: true,
  decision: true,
  approval: true,
  result: true,
  error: true,
}), { next: RequestNext });
export type PublicRequest = z.infer<typeof PublicRequest>;

export function toPublicRequest(record: RequestRecord): PublicRequest {
  const { requestId, status, requestedBy, createdAt, updatedAt, action, route, model, decision } = record;
  // Outbound shield, last line: the steps store these shielded already, and a record written
  // before a detector existed (or mid-flight) is scanned again on its way out.
  const proposal = record.proposal ? shieldProposal(record.proposal).value : undefined;
  const { result, error } = shieldOutbound({ result: record.result, error: record.error }).value;
  const approval = record.approval ? shieldApproval(record.approval).value : undefined;
  const next = nextOf(record);
  return JSON.parse(
    JSON.stringify({ requestId, status, requestedBy, createdAt, updatedAt, action, route, model, proposal, decision, approval, result, error, next }),
  ) as PublicRequest;
}

export async function getRequestFor(principal: Principal, requestId: string, deps: { requests: RequestStore }): Promise<PublicRequest> {
  return toPublicRequest(await visibleRecord(principal, requestId, deps.requests));
}

/** A listed request: the request view without its two large parts, `proposal` and `result` (API.md). */
export const PublicRequestSummary = z.omit(PublicRequest, { proposal: true, result: true });
export type PublicRequestSummary = z.infer<typeof PublicRequestSummary>;

/** `GET /v1/requests`: one page, and where the next begins. */
export const RequestList = z.strictObject({ requests: z.array(PublicRequestSummary), nextToken: z.optional(z.string()) });
export type RequestList = z.infer<typeof RequestList>;

export function toPublicRequestSummary(record: RequestRecord): PublicRequestSummary {
  const { proposal: _proposal, result: _result, ...summary } = toPublicRequest(record);
  return summary;
}

/** `GET /v1/requests`: the caller's own requests, or everyone's for an auditor; newest first. */
export async function listRequestsFor(
  principal: Principal,
  query: ListRequestsQuery,
  deps: { requests: RequestStore },
): Promise<RequestList> {
  const scope = principal.roles.includes(AUDITOR_ROLE) ? 'everyone' : { requestedBy: principal.sub };
  const page = await deps.requests.list(scope, { status: query.status, limit: query.limit, cursor: query.nextToken });
  const requests = page.requests.map(toPublicRequestSummary);
  return page.nextToken ? { requests, nextToken: page.nextToken } : { requests };
}

const auditTrailView = {
  requestId: Id,
  entries: z.array(z.omit(AuditEntry, { requestId: true })),
  head: z.optional(SignedHeadRef),
};

/** The audit view: `verified` is false, with a `reason`, unless the chain is exactly what its signed head vouches for. */
export const PublicAuditTrail = z.discriminatedUnion('verified', [
  z.strictObject({ ...auditTrailView, verified: z.literal(true) }),
  z.strictObject({ ...auditTrailView, verified: z.literal(false), reason: AuditUnverifiedReason }),
]);
export type PublicAuditTrail = z.infer<typeof PublicAuditTrail>;

export async function getAuditFor(
  principal: Principal,
  requestId: string,
  deps: { requests: RequestStore; audit: AuditLog },
): Promise<PublicAuditTrail> {
  const record = await visibleRecord(principal, requestId, deps.requests);
  const { entries, ...verdict } = await deps.audit.trail(requestId, record.auditHead);
  return {
    requestId,
    ...verdict,
    entries: entries.map(({ requestId: _omit, ...entry }) => entry),
  };
}
