import { Unauthenticated } from '../errors';
import { ROLE_NAME } from '../ids';
import { logger } from '../observability';
import type { Principal } from '../schemas/workflow';

export interface RolesClaim {
  roles: string[];
  /** How many values were not plain role names (ROLE_NAME) and so grant nothing. */
  ignored: number;
}

/**
 * The roles in the configured claim. A claim value is one role: a JSON array claim gives one
 * role per element, a string claim one role. The one exception is API Gateway's HTTP API JWT
 * authorizer, which hands an array claim such as `cognito:groups` to the Lambda as the string
 * `[a b]` (elements joined by spaces, no quoting): that form is read as its elements. Cognito
 * group names cannot contain whitespace, so the split is exact for them. Anything that is not a
 * plain role name (a comma, a quote, a bracket, upper case) is ignored, never split further.
 */
export function parseRolesClaim(value: unknown): RolesClaim {
  const values = claimValues(value);
  const roles = values.filter((v): v is string => typeof v === 'string' && ROLE_NAME.test(v));
  return { roles: [...new Set(roles)], ignored: values.length - roles.length };
}

function claimValues(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'string' || value.length === 0) return [];
  if (value.startsWith('[') && value.endsWith(']')) {
    const inner = value.slice(1, -1);
    return inner.length === 0 ? [] : inner.split(' ');
  }
  return [value];
}

export function principalFromClaims(
  claims: Record<string, unknown> | undefined,
  roleClaim: string = process.env.ROLE_CLAIM ?? 'cognito:groups',
): Principal {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) throw new Unauthenticated();
  // One source of authority: the configured claim only, never a fallback another issuer could fill.
  const { roles, ignored } = parseRolesClaim(claims?.[roleClaim]);
  // The count only: a claim value is the caller's to choose and may hold anything.
  if (ignored > 0) logger.warn('role claim values ignored: not plain role names', { roleClaim, ignored });
  return { sub, roles: roles.slice(0, 100) };
}
