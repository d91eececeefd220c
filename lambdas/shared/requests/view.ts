import { NotFound } from '../errors';
import { isValidId } from '../ids';
import { AUDITOR_ROLE } from '../policy/roles';
import type { AuditLog, AuditTrail, RequestStore } from '../ports';
import type { ListRequestsQuery } from '../schemas/api';
import type { AuditEntry, RequestRecord } from '../schemas/records';
import type { Principal } from '../schemas/workflow';
import { shieldOutbound, shieldProposal } from '../shield/outbound';

/** Requests are visible to their requester and to auditors; to anyone else they do not exist. */
async function visibleRecord(principal: Principal, requestId: string, requests: RequestStore): Promise<RequestRecord> {
  if (!isValidId(requestId)) throw new NotFound('No such request.');
  const record = await requests.get(requestId);
  if (!record || (record.requestedBy !== principal.sub && !principal.roles.includes(AUDITOR_ROLE))) {
    throw new NotFound('No such request.');
  }
  return record;
}

/** The API.md shape: internal attributes (requester roles, execution ARN) stay inside. */
export type PublicRequest = Pick<RequestRecord, 'requestId' | 'status' | 'requestedBy' | 'createdAt' | 'updatedAt'> &
  Partial<Pick<RequestRecord, 'action' | 'route' | 'model' | 'proposal' | 'decision' | 'approval' | 'result' | 'error'>>;

export function toPublicRequest(record: RequestRecord): PublicRequest {
  const { requestId, status, requestedBy, createdAt, updatedAt, action, route, model, decision } = record;
  // Outbound shield, last line: the steps store these shielded already, and a record written
  // before a detector existed (or mid-flight) is scanned again on its way out.
  const proposal = record.proposal ? shieldProposal(record.proposal).value : undefined;
  const { approval, result, error } = shieldOutbound({ approval: record.approval, result: record.result, error: record.error }).value;
  return JSON.parse(
    JSON.stringify({ requestId, status, requestedBy, createdAt, updatedAt, action, route, model, proposal, decision, approval, result, error }),
  ) as PublicRequest;
}

export async function getRequestFor(principal: Principal, requestId: string, deps: { requests: RequestStore }): Promise<PublicRequest> {
  return toPublicRequest(await visibleRecord(principal, requestId, deps.requests));
}

/** A listed request: the request view without its two large parts, `proposal` and `result` (API.md). */
export type PublicRequestSummary = Omit<PublicRequest, 'proposal' | 'result'>;

export function toPublicRequestSummary(record: RequestRecord): PublicRequestSummary {
  const { proposal: _proposal, result: _result, ...summary } = toPublicRequest(record);
  return summary;
}

/** `GET /v1/requests`: the caller's own requests, or everyone's for an auditor; newest first. */
export async function listRequestsFor(
  principal: Principal,
  query: ListRequestsQuery,
  deps: { requests: RequestStore },
): Promise<{ requests: PublicRequestSummary[]; nextToken?: string }> {
  const scope = principal.roles.includes(AUDITOR_ROLE) ? 'everyone' : { requestedBy: principal.sub };
  const page = await deps.requests.list(scope, { status: query.status, limit: query.limit, cursor: query.nextToken });
  const requests = page.requests.map(toPublicRequestSummary);
  return page.nextToken ? { requests, nextToken: page.nextToken } : { requests };
}

/** The audit view: `verified` is false, with a `reason`, unless the chain is exactly what its signed head vouches for. */
export type PublicAuditTrail = { requestId: string; entries: Omit<AuditEntry, 'requestId'>[] } & Omit<AuditTrail, 'entries'>;

export async function getAuditFor(
  principal: Principal,
  requestId: string,
  deps: { requests: RequestStore; audit: AuditLog },
): Promise<PublicAuditTrail> {
  await visibleRecord(principal, requestId, deps.requests);
  const { entries, ...verdict } = await deps.audit.trail(requestId);
  return {
    requestId,
    ...verdict,
    entries: entries.map(({ requestId: _omit, ...entry }) => entry),
  };
}
