import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type KeyLike,
} from 'jose';
import * as z from 'zod';
import { InvalidInput } from '../lambdas/shared/errors';
import { TokenRejected } from '../lambdas/shared/http/bearer';
import { RoleName } from '../lambdas/shared/ids';
import { describeIssues } from '../lambdas/shared/schemas/actions';
import { createExclusively, readIfExists } from './files';

/**
 * The local stand-in for the identity provider behind API Gateway's JWT authorizer: one ES256
 * key pair per data directory, persisted so tokens survive a restart of `npm start`. The
 * issuer is a fixed string rather than the server's URL, so a restart on another port (tests
 * bind port 0) keeps old tokens valid.
 */

export const LOCAL_ISSUER = 'warden-local';
export const LOCAL_AUDIENCE = 'warden-local';
/** The claim the local stack reads roles from (it sets ROLE_CLAIM=roles). */
export const LOCAL_ROLE_CLAIM = 'roles';

const ALGORITHM = 'ES256';
const KEY_FILE = 'signing-key.jwk.json';
/** Far above any real JWT; stops a huge header from reaching the parser. */
const MAX_TOKEN_LENGTH = 8192;

export const TokenRequest = z.strictObject({
  sub: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, 'must be 1..128 of [A-Za-z0-9._@-], starting with a letter or digit'),
  roles: z
    .array(RoleName)
    .max(20, 'at most 20 roles')
    .transform((roles) => [...new Set(roles)]),
  // A day at most: dev tokens are meant to be minted again, not kept.
  expiresInSeconds: z.number().int().positive().max(86400).default(3600),
});
export type TokenRequest = z.input<typeof TokenRequest>;

/** The private key file as written by this module: a P-256 private JWK. */
const StoredPrivateKey = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string().min(1),
  y: z.string().min(1),
  d: z.string().min(1),
});

export type VerifiedClaims = JWTPayload & { sub: string };

/** Why a token was refused (the same class the functions that verify their own tokens throw). */
export { TokenRejected };

export interface LocalIdentity {
  readonly issuer: string;
  readonly audience: string;
  /** Throws InvalidInput (400 `validation_failed`, field path in the message) on bad input. */
  mintToken(request: TokenRequest): Promise<string>;
  /** Signature (ES256 only, so never `alg: none`), issuer, audience, exp and sub; else TokenRejected. */
  verify(token: string): Promise<VerifiedClaims>;
  /** The public key set, as an IdP serves it for the authorizer. */
  jwks(): JSONWebKeySet;
}

export interface LocalIdentityOptions {
  /** The key lives under `${dataDir}/identity/`. */
  dataDir: string;
  /** Injectable for tests that mint or verify at another time. */
  now?: () => Date;
}

export async function createLocalIdentity(options: LocalIdentityOptions): Promise<LocalIdentity> {
  const now = options.now ?? (() => new Date());
  const { privateKey, publicJwk } = await loadOrCreateKey(join(options.dataDir, 'identity'));
  const kid = await calculateJwkThumbprint(publicJwk);
  const keySet: JSONWebKeySet = { keys: [{ ...publicJwk, kid, alg: ALGORITHM, use: 'sig' }] };
  const resolveKey = createLocalJWKSet(keySet);
  /**
   * Tokens this identity has verified, by their exact text: a client sends one token with call
   * after call, and each ES256 verification cost the API's thread about 0.3 ms (npm run bench's
   * throughput profile). The key, issuer and audience are this identity's for good, so a token
   * verified once stays verified but for the clock: a hit is checked again against exp and nbf,
   * as jose checks them, and one that has lapsed goes through jose again for its exact answer.
   */
  const verified = new Map<string, VerifiedClaims>();

  return {
    issuer: LOCAL_ISSUER,
    audience: LOCAL_AUDIENCE,

    async mintToken(request) {
      const parsed = TokenRequest.safeParse(request);
      if (!parsed.success) throw new InvalidInput('validation_failed', describeIssues(parsed.error));
      const { sub, roles, expiresInSeconds } = parsed.data;
      const issuedAt = Math.floor(now().getTime() / 1000);
      return new SignJWT({ [LOCAL_ROLE_CLAIM]: roles })
        .setProtectedHeader({ alg: ALGORITHM, kid, typ: 'JWT' })
        .setSubject(sub)
        .setIssuer(LOCAL_ISSUER)
        .setAudience(LOCAL_AUDIENCE)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + expiresInSeconds)
        .setJti(randomUUID())
        .sign(privateKey);
    },

    async verify(token) {
      if (typeof token !== 'string' || token.length === 0) throw new TokenRejected('missing');
      if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejected('invalid');
      const known = verified.get(token);
      if (known) {
        const seconds = Math.floor(now().getTime() / 1000);
        if (typeof known.exp === 'number' && known.exp > seconds && (known.nbf === undefined || known.nbf <= seconds)) return known;
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, resolveKey, {
          issuer: LOCAL_ISSUER,
          audience: LOCAL_AUDIENCE,
          algorithms: [ALGORITHM],
          requiredClaims: ['exp', 'sub'],
          currentDate: now(),
        });
        if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw new TokenRejected('invalid');
        const claims = deepFreeze(payload as VerifiedClaims);
        verified.set(token, claims);
        if (verified.size > MAX_VERIFIED) verified.delete(verified.keys().next().value as string);
        return claims;
      } catch (error) {
        if (error instanceof TokenRejected) throw error;
        // Fail closed: whatever jose (or a malformed token) threw, the caller is not authenticated.
        throw new TokenRejected(error instanceof joseErrors.JWTExpired ? 'expired' : 'invalid');
      }
    },

    jwks() {
      return structuredClone(keySet);
    },
  };
}

/** Verified tokens kept (`verify`), oldest out first. */
const MAX_VERIFIED = 1_000;

/** Claims handed to every caller of the same token: none of them can change what the next one reads. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

async function loadOrCreateKey(directory: string): Promise<{ privateKey: KeyLike | Uint8Array; publicJwk: JWK }> {
  const path = join(directory, KEY_FILE);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  let text = await readIfExists(path);
  if (text === undefined) {
    await createKeyFile(path);
    text = await readFile(path, 'utf8');
  }
  await tightenPermissions(path);

  let stored: z.infer<typeof StoredPrivateKey>;
  try {
    stored = StoredPrivateKey.parse(JSON.parse(text));
  } catch {
    throw new Error(
      `${path} is not a P-256 private JWK. Delete it to start a new dev issuer (tokens signed with the old key stop working).`,
    );
  }
  const privateKey = await importJWK({ kty: stored.kty, crv: stored.crv, x: stored.x, y: stored.y, d: stored.d }, ALGORITHM);
  return { privateKey, publicJwk: { kty: stored.kty, crv: stored.crv, x: stored.x, y: stored.y } };
}

/** When two processes race on a fresh directory, the first key file wins and both use it. */
async function createKeyFile(path: string): Promise<void> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  await createExclusively(path, `${JSON.stringify(jwk, null, 2)}\n`, 0o600);
}

/** Anyone who can read the private key can mint tokens for any role: keep it owner-only. */
async function tightenPermissions(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) await chmod(path, 0o600);
}
