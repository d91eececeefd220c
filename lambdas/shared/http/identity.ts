import { Unauthenticated } from '../errors';
import type { Principal } from '../schemas/workflow';

/**
 * The caller as API Gateway's JWT authorizer verified it. Roles come from the configured claim
 * (ROLE_CLAIM: `cognito:groups` by default, `roles` locally). HTTP API flattens array claims into strings
 * such as `[a b]` or `["a","b"]`, so every form is accepted.
 */
export function parseRolesClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (typeof value !== 'string') return [];
  const text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parseRolesClaim(parsed);
    } catch {
      // Not JSON: API Gateway's `[a b]` form, handled below.
    }
    return splitRoles(text.slice(1, -1));
  }
  return splitRoles(text);
}

function splitRoles(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((r) => r.replace(/^"|"$/g, ''))
    .filter((r) => r.length > 0);
}

export function principalFromClaims(
  claims: Record<string, unknown> | undefined,
  roleClaim: string = process.env.ROLE_CLAIM ?? 'cognito:groups',
): Principal {
  const sub = claims?.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) throw new Unauthenticated();
  // One source of authority: the configured claim only, never a fallback another issuer could fill.
  const roles = parseRolesClaim(claims?.[roleClaim]);
  return { sub, roles: [...new Set(roles)].slice(0, 100) };
}
