import * as z from 'zod';
import { Id } from '../ids';
import { ActionName } from './actions';
import { RequestStatus } from './records';

/**
 * Request bodies and query strings of API.md, parsed at the HTTP boundary, and the answers that
 * have no home in the domain. The answers are what `GET /openapi.json` describes.
 */

export const MAX_BODY_BYTES = 16 * 1024;

export const SubmitRequestBody = z.strictObject({
  text: z.string().min(1).max(4000),
  action: ActionName.optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
});
export type SubmitRequestBody = z.infer<typeof SubmitRequestBody>;

export const IdempotencyKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1..64 of [A-Za-z0-9_-]');

export const DecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  approvalToken: z.string().min(1).max(512),
  comment: z.string().max(1000).optional(),
});
export type DecisionBody = z.infer<typeof DecisionBody>;

export const ListTasksQuery = z.strictObject({
  status: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']).default('PENDING'),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  nextToken: z.string().max(2048).optional(),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuery>;

export const ListRequestsQuery = z.strictObject({
  status: RequestStatus.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  nextToken: z.string().max(2048).optional(),
});
export type ListRequestsQuery = z.infer<typeof ListRequestsQuery>;

/** `POST /v1/requests`: 202 for a new request (`QUEUED`), 200 with its current status for an idempotent replay. */
export const SubmittedRequest = z.strictObject({
  requestId: Id,
  status: RequestStatus,
  traceId: z.string(),
  links: z.strictObject({ self: z.string() }),
});
export type SubmittedRequest = z.infer<typeof SubmittedRequest>;

/** `GET /health`. */
export const Health = z.strictObject({ status: z.literal('ok') });
export type Health = z.infer<typeof Health>;

/**
 * `GET /.well-known/oauth-protected-resource` (RFC 9728): the MCP endpoint and the issuer of its
 * tokens. Open to the RFC's other members.
 */
export const ProtectedResourceMetadata = z.looseObject({
  resource: z.string(),
  authorization_servers: z.array(z.string()).min(1),
  bearer_methods_supported: z.array(z.string()).optional(),
  resource_name: z.string().optional(),
});
export type ProtectedResourceMetadata = z.infer<typeof ProtectedResourceMetadata>;
