import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import { createTokenVerifier, TokenRejected, type TokenVerifier } from '../../../lambdas/shared/http/bearer';

/** The mcp function's own token check: the JWT authorizer's rules, against a JWKS served over HTTP. */

const ISSUER = 'https://idp.example.test/realm';
let server: Server;
let key: KeyLike;
let otherKey: KeyLike;
let verify: TokenVerifier;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  ({ privateKey: otherKey } = await generateKeyPair('ES256'));
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  verify = createTokenVerifier({ issuer: ISSUER, audience: ['api-client', 'cli'], jwksUrl });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function token(claims: Record<string, unknown>, options: { signWith?: KeyLike; issuer?: string; expiresIn?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setSubject('alice')
    .setIssuer(options.issuer ?? ISSUER)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(options.signWith ?? key);
}

async function reason(attempt: Promise<unknown>): Promise<string> {
  const error = await attempt.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TokenRejected);
  return (error as TokenRejected).reason;
}

it('accepts an audience in aud, or in client_id as Cognito access tokens carry it', async () => {
  await expect(verify(await token({ aud: 'cli', roles: ['auditor'] }))).resolves.toMatchObject({ sub: 'alice', roles: ['auditor'] });
  await expect(verify(await token({ client_id: 'api-client' }))).resolves.toMatchObject({ sub: 'alice' });
});

it('refuses another audience, another issuer, another key, an expired token and no token', async () => {
  expect(await reason(verify(await token({ aud: 'someone-else' })))).toBe('invalid');
  expect(await reason(verify(await token({ aud: 'cli' }, { issuer: 'https://evil.example.test' })))).toBe('invalid');
  expect(await reason(verify(await token({ aud: 'cli' }, { signWith: otherKey })))).toBe('invalid');
  expect(await reason(verify(await token({ aud: 'cli' }, { expiresIn: '-1m' })))).toBe('expired');
  expect(await reason(verify(''))).toBe('missing');
});

it('refuses an unsigned (alg none) token', async () => {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'alice', iss: ISSUER, aud: 'cli', exp: Math.floor(Date.now() / 1000) + 300 })}.`;
  expect(await reason(verify(unsigned))).toBe('invalid');
});
