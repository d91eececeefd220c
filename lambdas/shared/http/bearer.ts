import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import * as z from '../schemas/zod';
import { Unauthenticated } from '../errors';
import { lazy } from '../lazy';

/**
 * Bearer tokens checked inside a function, for the routes API Gateway's JWT authorizer cannot
 * guard (`/mcp`: the MCP specification wants a 401 that names the resource metadata). The checks
 * are the authorizer's: the issuer, one of the audiences (`aud`, or `client_id` as in Cognito
 * access tokens), an unexpired signature by a key of the issuer's JWKS.
 */

/** The environment the CDK construct (or the local stack) sets for such a function. */
export const JWT_ENV = {
  issuer: 'JWT_ISSUER',
  /** Comma-separated. */
  audience: 'JWT_AUDIENCE',
  /** Optional: without it the JWKS is found as API Gateway finds it, through the issuer's OIDC discovery document. */
  jwksUrl: 'JWT_JWKS_URL',
} as const;

/** Why a token was refused; answered 401 without ever echoing the token. */
export class TokenRejected extends Unauthenticated {
  override readonly name = 'TokenRejected';

  constructor(readonly reason: 'missing' | 'expired' | 'invalid') {
    super(reason === 'expired' ? 'The bearer token has expired.' : reason === 'missing' ? 'A bearer token is required.' : 'The bearer token is invalid.');
  }
}

export interface JwtSettings {
  issuer: string;
  audience: readonly string[];
  jwksUrl?: string;
}

/** Far above any real JWT; stops a huge header from reaching the parser. */
const MAX_TOKEN_LENGTH = 8192;

/** Asymmetric algorithms only: a JWKS of public keys can never make an HMAC or `none` token valid. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

const Settings = z.object({
  [JWT_ENV.issuer]: z.string().check(z.minLength(1)),
  [JWT_ENV.audience]: z.string().check(z.minLength(1)),
  [JWT_ENV.jwksUrl]: z.optional(z.url()),
});

export function jwtSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): JwtSettings {
  const parsed = Settings.safeParse(env);
  if (!parsed.success) throw new Error(`Token verification is not configured: set ${JWT_ENV.issuer} and ${JWT_ENV.audience}`);
  const audience = parsed.data[JWT_ENV.audience]
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value.length > 0);
  const jwksUrl = parsed.data[JWT_ENV.jwksUrl];
  return { issuer: parsed.data[JWT_ENV.issuer], audience, ...(jwksUrl ? { jwksUrl } : {}) };
}

/** `Authorization: Bearer <token>`, with or without the prefix, as the HTTP API's authorizer reads it. */
export function bearerTokenOf(authorization: string | undefined): string {
  return (authorization ?? '').replace(/^\s*Bearer\s+/i, '').trim();
}

const Discovery = z.looseObject({ jwks_uri: z.url() });

async function discoverJwksUrl(issuer: string): Promise<string> {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`OIDC discovery for the issuer answered ${response.status}`);
  return Discovery.parse(await response.json()).jwks_uri;
}

export type TokenVerifier = (token: string) => Promise<JWTPayload & { sub: string }>;

/**
 * jose, loaded with the first verifier: at import it loads Node's https and TLS for its JWKS
 * fetch (about 8 ms of the MCP handler's cold start), which only a request with a token needs.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jose = /* @__PURE__ */ lazy(() => require('./jose') as typeof import('./jose'));

/** A verifier that fetches the JWKS once and again when a token names an unknown key (jose's cache). */
export function createTokenVerifier(settings: JwtSettings): TokenVerifier {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = () =>
    (keys ??= (settings.jwksUrl ? Promise.resolve(settings.jwksUrl) : discoverJwksUrl(settings.issuer)).then((url) => jose().createRemoteJWKSet(new URL(url))).catch((error: unknown) => {
      // A failed discovery is tried again by the next request, not remembered.
      keys = undefined;
      throw error;
    }));
  return async (token) => {
    if (token.length === 0) throw new TokenRejected('missing');
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejected('invalid');
    let payload: JWTPayload;
    try {
      ({ payload } = await jose().jwtVerify(token, await keySet(), { issuer: settings.issuer, algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] }));
    } catch (error) {
      // Fail closed: whatever jose (or a malformed token) threw, the caller is not authenticated.
      throw new TokenRejected(error instanceof jose().errors.JWTExpired ? 'expired' : 'invalid');
    }
    const audiences = [...(Array.isArray(payload.aud) ? payload.aud : payload.aud !== undefined ? [payload.aud] : []), payload.client_id];
    if (!audiences.some((value) => typeof value === 'string' && settings.audience.includes(value))) throw new TokenRejected('invalid');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new TokenRejected('invalid');
    return payload as JWTPayload & { sub: string };
  };
}
