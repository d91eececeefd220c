import * as z from './zod';
import { Id } from '../ids';
import { ActionName } from './actions';
import { RequestStatus } from './records';

/**
 * Request bodies and query strings of API.md, parsed at the HTTP boundary, and the answers that
 * have no home in the domain. The answers are what `GET /openapi.json` describes.
 */

export const MAX_BODY_BYTES = 16 * 1024;

export const SubmitRequestBody = z.strictObject({
  text: z.string().check(z.minLength(1), z.maxLength(4000)),
  action: z.optional(ActionName),
  fields: z.optional(z.record(z.string(), z.unknown())),
});
export type SubmitRequestBody = z.infer<typeof SubmitRequestBody>;

export const IdempotencyKey = z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1..64 of [A-Za-z0-9_-]'));

export const DecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  approvalToken: z.string().check(z.minLength(1), z.maxLength(512)),
  comment: z.optional(z.string().check(z.maxLength(1000))),
});
export type DecisionBody = z.infer<typeof DecisionBody>;

export const ListTasksQuery = z.strictObject({
  status: z._default(z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']), 'PENDING'),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 50),
  nextToken: z.optional(z.string().check(z.maxLength(2048))),
});
export type ListTasksQuery = z.infer<typeof ListTasksQuery>;

export const ListRequestsQuery = z.strictObject({
  status: z.optional(RequestStatus),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 50),
  nextToken: z.optional(z.string().check(z.maxLength(2048))),
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
  authorization_servers: z.array(z.string()).check(z.minLength(1)),
  bearer_methods_supported: z.optional(z.array(z.string())),
  resource_name: z.optional(z.string()),
});
export type ProtectedResourceMetadata = z.infer<typeof ProtectedResourceMetadata>;
