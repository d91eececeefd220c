import { WardenError } from '../errors';
import type { RequestStore } from '../ports';
import type { RequestStatus } from '../schemas/records';
import type { Principal } from '../schemas/workflow';
import type { PublicRequest } from './view';

/** The MCP `list_my_requests` tool's one way in; `GET /v1/requests` (API.md) serves the same listing. */
export interface RequestListing {
  requests: Omit<PublicRequest, 'proposal' | 'result'>[];
  nextToken?: string;
}

/** A listing this deployment cannot serve yet: the request store has no list query. */
export class ListingUnavailable extends WardenError {
  constructor() {
    super('not_available', 'Listing requests is not available in this version of Warden; read each request with get_request.', 503);
  }
}

/** A requester's own requests (an auditor's: everyone's), newest first; the store cannot list yet. */
export async function listRequestsFor(
  _principal: Principal,
  _query: { status?: RequestStatus; limit: number; nextToken?: string },
  _deps: { requests: RequestStore },
): Promise<RequestListing> {
  throw new ListingUnavailable();
}
