import { randomBytes, randomUUID } from 'node:crypto';
import * as z from './schemas/zod';

/** Every id that becomes part of an S3 key or a DynamoDB key must match this (DESIGN.md §6). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Action names and reason codes: lower-case words joined by underscores. */
export const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/**
 * A role as a token may carry it and a policy may name it: one plain name, so that no claim
 * value can be read as two roles (DESIGN.md §1, "resolve roles").
 */
export const ROLE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const RoleName = z.string().check(z.regex(ROLE_NAME, 'must be a plain role name: 1..63 of [a-z0-9-], starting with a letter or digit'));

export const Id = z.string().check(z.regex(ID_PATTERN, 'must be 1..64 characters of [A-Za-z0-9_-]'));
export type Id = z.infer<typeof Id>;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** A request id: sortable by time (ms, base36) plus randomness; safe as a key and an execution name. */
export function newRequestId(now: Date = new Date()): string {
  return `r_${now.getTime().toString(36)}${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

/** The approval task of a request: one per request, so a retried dehydrate step reuses it. */
export function taskIdFor(requestId: string): string {
  return `t_${requestId.replace(/^r_/, '')}`;
}

/** Opaque, single-use, unguessable: 256 bits. */
export function newApprovalToken(): string {
  return randomBytes(32).toString('base64url');
}
