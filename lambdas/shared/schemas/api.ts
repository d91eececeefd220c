import * as z from 'zod';
import { ActionName } from './actions';
import { RequestStatus } from './records';

/** Request bodies and query strings of API.md, parsed at the HTTP boundary. */

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
