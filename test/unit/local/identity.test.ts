import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64url, decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWK } from 'jose';
import { createLocalIdentity, LOCAL_AUDIENCE, LOCAL_ISSUER, TokenRejected, type LocalIdentity } from '../../../local/identity';

/**
 * The dev issuer that stands in for Cognito locally: what it signs verifies, anything else is
 * refused, and its key survives a restart on the same data directory.
 */

let dataDir: string;
let identity: LocalIdentity;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'warden-identity-'));
  identity = await createLocalIdentity({ dataDir });
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const keyFile = () => join(dataDir, 'identity', 'signing-key.jwk.json');

/** Signs with this directory's real private key, so only the claim under test is wrong. */
async function signWithLocalKey(claims: Record<string, unknown>, options: { issuer: string; audience: string; expiresAt: number }) {
  const jwk = JSON.parse(await readFile(keyFile(), 'utf8')) as JWK;
  const key = await importJWK(jwk, 'ES256');
  const kid = identity.jwks().keys[0].kid!;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid })
    .setSubject('alice')
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresAt)
    .sign(key);
}

async function rejection(promise: Promise<unknown>): Promise<TokenRejected> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenRejected);
  return error as TokenRejected;
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('minting and verifying', () => {
  it('round-trips sub and roles, with the local issuer and audience and a one-hour expiry', async () => {
    const token = await identity.mintToken({ sub: 'alice', roles: ['support-agent', 'auditor'] });
    const claims = await identity.verify(token);
    expect(claims).toMatchObject({ sub: 'alice', roles: ['support-agent', 'auditor'], iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: identity.jwks().keys[0].kid });
  });

  it('publishes only the public key', () => {
    const { keys } = identity.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('refuses a tampered payload', async () => {
    const token = await identity.mintToken({ sub: 'alice', roles: ['support-agent'] });
    const [header, , signature] = token.split('.');
    const forged = base64url.encode(JSON.stringify({ ...decodeJwt(token), roles: ['finance-director'] }));
    expect((await rejection(identity.verify(`${header}.${forged}.${signature}`))).reason).toBe('invalid');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const payload = base64url.encode(JSON.stringify({ sub: 'alice', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, exp: inAnHour(), roles: ['auditor'] }));
    expect((await rejection(identity.verify(`${header}.${payload}.`))).reason).toBe('invalid');
  });

  it('refuses a token for another audience or from another issuer, even with the right key', async () => {
    const wrongAudience = await signWithLocalKey({ roles: [] }, { issuer: LOCAL_ISSUER, audience: 'someone-else', expiresAt: inAnHour() });
    const wrongIssuer = await signWithLocalKey({ roles: [] }, { issuer: 'https://evil.example', audience: LOCAL_AUDIENCE, expiresAt: inAnHour() });
    const control = await signWithLocalKey({ roles: [] }, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, expiresAt: inAnHour() });
    expect((await rejection(identity.verify(wrongAudience))).reason).toBe('invalid');
    expect((await rejection(identity.verify(wrongIssuer))).reason).toBe('invalid');
    await expect(identity.verify(control)).resolves.toMatchObject({ sub: 'alice' });
  });

  it('refuses a token signed by another data directory’s key', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'warden-identity-other-'));
    try {
      const other = await createLocalIdentity({ dataDir: otherDir });
      const token = await other.mintToken({ sub: 'alice', roles: ['auditor'] });
      expect((await rejection(identity.verify(token))).reason).toBe('invalid');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('refuses an expired token, and accepts it until it expires', async () => {
    let now = new Date('2030-01-01T00:00:00Z');
    const clocked = await createLocalIdentity({ dataDir, now: () => now });
    const token = await clocked.mintToken({ sub: 'alice', roles: [], expiresInSeconds: 60 });
    now = new Date('2030-01-01T00:00:59Z');
    await expect(clocked.verify(token)).resolves.toMatchObject({ sub: 'alice' });
    now = new Date('2030-01-01T00:01:00Z');
    expect((await rejection(clocked.verify(token))).reason).toBe('expired');
  });

  it('answers a token it has verified before with the same claims, which no caller can change', async () => {
    const token = await identity.mintToken({ sub: 'carol', roles: ['requester'], expiresInSeconds: 600 });
    const first = await identity.verify(token);
    expect(() => (first.roles as string[]).push('admin')).toThrow(TypeError);
    expect(() => Object.assign(first, { sub: 'mallory' })).toThrow(TypeError);
    await expect(identity.verify(token)).resolves.toMatchObject({ sub: 'carol', roles: ['requester'] });
    // One character changed is another token: verified afresh, and refused.
    const tampered = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    expect((await rejection(identity.verify(tampered))).reason).toBe('invalid');
  });

  it('refuses garbage and an empty token', async () => {
    expect((await rejection(identity.verify('not.a.jwt'))).reason).toBe('invalid');
    expect((await rejection(identity.verify(''))).reason).toBe('missing');
    expect((await rejection(identity.verify('a'.repeat(10_000)))).reason).toBe('invalid');
  });

  it('validates what it is asked to mint', async () => {
    await expect(identity.mintToken({ sub: '', roles: [] })).rejects.toMatchObject({ status: 400, code: 'validation_failed', message: expect.stringMatching(/^sub:/) });
    await expect(identity.mintToken({ sub: 'alice', roles: ['bad role'] })).rejects.toMatchObject({ message: expect.stringMatching(/^roles\.0:/) });
    await expect(identity.mintToken({ sub: 'alice', roles: [], expiresInSeconds: 0 })).rejects.toMatchObject({ status: 400 });
  });
});

describe('the key on disk', () => {
  it('is private to the owner', async () => {
    const { mode } = await stat(keyFile());
    expect(mode & 0o777).toBe(0o600);
  });

  it('is reused by a second instance on the same directory, so tokens survive a restart', async () => {
    const token = await identity.mintToken({ sub: 'alice', roles: ['auditor'] });
    const restarted = await createLocalIdentity({ dataDir });
    expect(restarted.jwks()).toEqual(identity.jwks());
    await expect(restarted.verify(token)).resolves.toMatchObject({ sub: 'alice', roles: ['auditor'] });
  });

  it('is created once when two instances start on a fresh directory at the same time', async () => {
    const freshDir = await mkdtemp(join(tmpdir(), 'warden-identity-race-'));
    try {
      const [first, second] = await Promise.all([createLocalIdentity({ dataDir: freshDir }), createLocalIdentity({ dataDir: freshDir })]);
      expect(first.jwks()).toEqual(second.jwks());
      await expect(second.verify(await first.mintToken({ sub: 'bob', roles: [] }))).resolves.toMatchObject({ sub: 'bob' });
    } finally {
      await rm(freshDir, { recursive: true, force: true });
    }
  });
});
