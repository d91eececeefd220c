import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { API_ROUTES as CDK_ROUTES, MCP_ROUTES as CDK_MCP_ROUTES } from '../../../lib/constructs/api';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { API_ROUTES, MCP_ROUTES as LOCAL_MCP_ROUTES, createApiServer, SERVER_LIMITS, type AccessLogEntry, type HttpHandler, type ServerLimits } from '../../../local/http';
import { createLocalIdentity } from '../../../local/identity';
import { readSettings, startLocalServer, type LocalServer } from '../../../local/server';

/**
 * The local HTTP API over real sockets: what API Gateway and its JWT authorizer answer before a
 * Lambda runs, and the governed flow behind it, as a client of `npm start` sees them.
 */

let server: LocalServer;
let dataDir: string;
let requesterToken: string;
const accessLog: AccessLogEntry[] = [];
const mintedTokens: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'warden-http-'));
  server = await startLocalServer({ dataDir, accessLog: (entry) => accessLog.push(entry) });
  requesterToken = await mint('alice', ['support-agent']);
});

afterAll(async () => {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function mint(sub: string, roles: string[]): Promise<string> {
  const token = await server.mintToken(sub, roles);
  mintedTokens.push(token);
  return token;
}

type Body = Record<string, unknown>;

async function call(path: string, init: RequestInit & { token?: string } = {}) {
  const { token, headers, ...rest } = init;
  const response = await fetch(`${server.url}${path}`, {
    ...rest,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(headers as Record<string, string> | undefined) },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: (text ? JSON.parse(text) : undefined) as Body };
}

function expectProblem(response: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
}

/** Re-reads until `done` holds; the flow runs asynchronously behind the 202. */
async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('routes', () => {
  it('are exactly the routes the CDK HTTP API declares', () => {
    const local = API_ROUTES.map((r) => `${r.method} ${r.path} ${r.target} ${r.auth}`).sort();
    const cdk = CDK_ROUTES.map((r) => `${r.method} ${r.path} ${r.target} ${r.auth}`).sort();
    expect(local).toEqual(cdk);
    const routeKeys = (routes: readonly { method: string; path: string; target: string; auth: string }[]) => routes.map((r) => `${r.method} ${r.path} ${r.target} ${r.auth}`).sort();
    expect(routeKeys(LOCAL_MCP_ROUTES)).toEqual(routeKeys(CDK_MCP_ROUTES));
  });

  it('GET /health answers without a token, with a request id', async () => {
    const response = await call('/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unknown path is 404 not_found, before any token check', async () => {
    expectProblem(await call('/v1/nothing-here'), 404, 'not_found');
    expectProblem(await call('/v1/requests/a/b/c', { token: requesterToken }), 404, 'not_found');
  });

  it('a known path with the wrong method is 404 not_found, as an HTTP API answers', async () => {
    expectProblem(await call('/v1/requests', { method: 'DELETE', token: requesterToken }), 404, 'not_found');
    expectProblem(await call('/v1/tasks', { method: 'POST', token: requesterToken, body: '{}' }), 404, 'not_found');
  });
});

describe('the JWT authorizer', () => {
  const cases: [string, () => Promise<string | undefined>][] = [
    ['no token', async () => undefined],
    ['a garbage token', async () => 'qz7garbage.qz7not.qz7ajwt'],
    [
      'a token from another key',
      async () => {
        const otherDir = await mkdtemp(join(tmpdir(), 'warden-http-other-'));
        try {
          return await (await createLocalIdentity({ dataDir: otherDir })).mintToken({ sub: 'alice', roles: ['auditor'] });
        } finally {
          await rm(otherDir, { recursive: true, force: true });
        }
      },
    ],
    [
      'an expired token',
      async () => {
        // The server's own key, minted two hours ago: only the expiry is wrong.
        const past = await createLocalIdentity({ dataDir: server.dataDir, now: () => new Date(Date.now() - 2 * 3600 * 1000) });
        return past.mintToken({ sub: 'alice', roles: ['auditor'] });
      },
    ],
  ];

  it.each(cases)('answers 401 unauthorized for %s, without echoing it', async (_name, tokenFor) => {
    const token = await tokenFor();
    if (token) mintedTokens.push(token);
    const response = await call('/v1/tasks', { token });
    expectProblem(response, 401, 'unauthorized');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    if (token) {
      expect(response.text).not.toContain(token);
      expect(response.text).not.toContain(token.split('.')[1]);
    }
  });

  it('checks the token before reading a POST body', async () => {
    expectProblem(await call('/v1/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' }), 401, 'unauthorized');
  });
});

describe('bodies', () => {
  it('413 payload_too_large for a 17 KiB body', async () => {
    const body = JSON.stringify({ text: 'x'.repeat(17 * 1024) });
    const response = await call('/v1/requests', { method: 'POST', token: requesterToken, headers: { 'content-type': 'application/json' }, body });
    expectProblem(response, 413, 'payload_too_large');
  });

  it('413 for a chunked body that grows past the limit (no content-length to go by)', async () => {
    const { status, contentType } = await new Promise<{ status?: number; contentType?: string }>((resolve, reject) => {
      const url = new URL('/v1/requests', server.url);
      const outgoing = httpRequest(
        url,
        { method: 'POST', headers: { authorization: `Bearer ${requesterToken}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (response) => {
          response.resume();
          resolve({ status: response.statusCode, contentType: response.headers['content-type'] });
        },
      );
      outgoing.on('error', reject);
      for (let i = 0; i < 17; i++) outgoing.write('x'.repeat(1024));
      outgoing.end();
    });
    expect(status).toBe(413);
    expect(contentType).toBe('application/problem+json');
  });

  it('415 for text/plain (the handler’s answer, passed through)', async () => {
    const response = await call('/v1/requests', { method: 'POST', token: requesterToken, headers: { 'content-type': 'text/plain' }, body: 'chairs' });
    expectProblem(response, 415, 'unsupported_media_type');
  });

  it('400 for malformed JSON', async () => {
    const response = await call('/v1/requests', { method: 'POST', token: requesterToken, headers: { 'content-type': 'application/json' }, body: '{"text":' });
    expectProblem(response, 400, 'malformed_json');
  });
});

describe('local identity routes', () => {
  it('GET /local/dev-token mints a token that works on GET /v1/tasks', async () => {
    const minted = await call('/local/dev-token?sub=approver-1&roles=procurement-manager,auditor');
    expect(minted.status).toBe(200);
    expect(Object.keys(minted.body)).toEqual(['token']);
    const token = String(minted.body.token);
    mintedTokens.push(token);
    const tasks = await call('/v1/tasks', { token });
    expect(tasks.status).toBe(200);
    expect(tasks.body).toEqual({ tasks: [] });
  });

  it.each([
    ['no sub', '/local/dev-token?roles=auditor'],
    ['an empty sub', '/local/dev-token?sub=&roles=auditor'],
    ['a sub with spaces', '/local/dev-token?sub=a%20b'],
    ['a bad role', '/local/dev-token?sub=alice&roles=auditor,no%20spaces'],
    ['an unknown parameter', '/local/dev-token?sub=alice&expiresIn=999999'],
  ])('GET /local/dev-token with %s is 400', async (_name, path) => {
    const response = await call(path);
    expectProblem(response, 400, 'validation_failed');
  });

  it('GET /local/jwks.json serves the public key that verifies the tokens', async () => {
    const response = await call('/local/jwks.json');
    expect(response.status).toBe(200);
    const keys = response.body as unknown as Parameters<typeof createLocalJWKSet>[0];
    expect(JSON.stringify(keys)).not.toContain('"d"');
    const { payload } = await jwtVerify(requesterToken, createLocalJWKSet(keys), { issuer: server.identity.issuer, audience: server.identity.audience });
    expect(payload).toMatchObject({ sub: 'alice', roles: ['support-agent'] });
  });
});

describe('the governed flow over HTTP', () => {
  it('a structured purchase order is accepted (202) and completes for its requester', async () => {
    const submitted = await call('/v1/requests', {
      method: 'POST',
      token: requesterToken,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        text: 'Office chairs',
        action: 'purchase_order',
        fields: { vendor: 'Globex Corporation', amount: 1200, description: 'office chairs' },
      }),
    });
    expect(submitted.status).toBe(202);
    const requestId = String(submitted.body.requestId);
    expect(submitted.body).toMatchObject({ status: 'QUEUED', links: { self: `/v1/requests/${requestId}` } });

    const done = await poll(
      () => call(`/v1/requests/${encodeURIComponent(requestId)}`, { token: requesterToken }),
      (response) => response.status !== 200 || ['COMPLETED', 'REJECTED', 'FAILED', 'EXPIRED'].includes(String(response.body.status)),
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ requestId, status: 'COMPLETED', requestedBy: 'alice', route: 'deterministic' });

    // The verified roles reached the handler: another user does not see it, an auditor does.
    const stranger = await mint('mallory', ['support-agent']);
    expectProblem(await call(`/v1/requests/${requestId}`, { token: stranger }), 404, 'not_found');
    const auditor = await mint('audrey', ['auditor']);
    const audit = await call(`/v1/requests/${requestId}/audit`, { token: auditor });
    expect(audit.status).toBe(200);
    expect(audit.body.verified).toBe(true);
  });
});

describe('a handler that throws', () => {
  it('is 500 internal_error, with nothing about the cause', async () => {
    const entries: AccessLogEntry[] = [];
    const throwing: HttpHandler = async () => {
      throw new Error('db password is hunter2');
    };
    const api = createApiServer({ identity: server.identity, gateway: throwing, approval: throwing, mcp: throwing, accessLog: (e) => entries.push(e) });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(api.address() as AddressInfo).port}/health`);
      const text = await response.text();
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'internal_error' });
      expect(text).not.toContain('hunter2');
      expect(entries).toEqual([expect.objectContaining({ path: '/health', status: 500, error: 'Error' })]);
    } finally {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
    }
  });
});

// Red team finding 10: a slow body held a connection for about five minutes, and there was no cap.
describe('connection limits', () => {
  const ok: HttpHandler = async () => ({ statusCode: 200, body: '{}' });

  async function limitedServer(limits: Partial<ServerLimits>) {
    const api = createApiServer({ identity: server.identity, gateway: ok, approval: ok, mcp: ok, limits });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const port = (api.address() as AddressInfo).port;
    const close = async () => {
      api.closeAllConnections();
      await new Promise((resolve) => api.close(resolve));
    };
    return { api, port, close };
  }

  /** Opens a raw connection, writes `text`, and collects what the server sends until it closes the connection. */
  async function rawExchange(port: number, text: string): Promise<{ socket: Socket; answer: Promise<{ text: string; ms: number }> }> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const answer = new Promise<{ text: string; ms: number }>((resolve) =>
      socket.once('close', () => resolve({ text: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started })),
    );
    socket.on('error', () => undefined);
    if (text) socket.write(text);
    return { socket, answer };
  }

  it('npm start runs with the default limits', () => {
    expect(SERVER_LIMITS).toEqual({ headersTimeoutMs: 5_000, requestTimeoutMs: 15_000, maxConnections: 64 });
    expect(server.server.headersTimeout).toBe(5_000);
    expect(server.server.requestTimeout).toBe(15_000);
  });

  it('answers 408 and closes a connection whose body comes too slowly', async () => {
    const { port, close } = await limitedServer({ headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    try {
      // Headers complete, then one byte of a 100-byte body, and nothing more.
      const { answer } = await rawExchange(port, 'GET /health HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100\r\n\r\n{');
      const { text, ms } = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(5_000);
    } finally {
      await close();
    }
  });

  it('answers 408 and closes a connection whose headers never end', async () => {
    const { port, close } = await limitedServer({ headersTimeoutMs: 500, requestTimeoutMs: 1_000 });
    try {
      const { answer } = await rawExchange(port, 'GET /health HTTP/1.1\r\nhost: localhost\r\n');
      const { text, ms } = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
      expect(ms).toBeLessThan(5_000);
    } finally {
      await close();
    }
  });

  it('answers one connection over the cap with 503 too_many_connections, and serves again once one closes', async () => {
    const { port, close } = await limitedServer({ maxConnections: 2 });
    try {
      const first = await rawExchange(port, '');
      const second = await rawExchange(port, '');
      const third = await rawExchange(port, 'GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n');
      const { text } = await third.answer;
      expect(text).toMatch(/^HTTP\/1\.1 503 /);
      expect(text).toContain('content-type: application/problem+json');
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 503, code: 'too_many_connections' });

      first.socket.destroy();
      await first.answer;
      // The server counts the close when it sees it: a new connection is served from then on.
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' } }).then(
          (response) => response.status,
          () => 0,
        );
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(status).toBe(200);
      second.socket.destroy();
    } finally {
      await close();
    }
  });
});

describe('the access log', () => {
  it('has one entry per request with method, path, status and time, and never a token', () => {
    expect(accessLog.length).toBeGreaterThan(10);
    expect(accessLog).toContainEqual(expect.objectContaining({ method: 'GET', path: '/health', status: 200, ms: expect.any(Number) }));
    expect(accessLog).toContainEqual(expect.objectContaining({ method: 'POST', path: '/v1/requests', routeKey: 'POST /v1/requests', status: 202 }));
    expect(accessLog).toContainEqual(expect.objectContaining({ path: '/v1/tasks', status: 401 }));
    const logged = JSON.stringify(accessLog);
    for (const token of mintedTokens) expect(logged).not.toContain(token.split('.')[2]);
    expect(logged).not.toMatch(/authorization|bearer|eyJ/i);
  });
});

describe('readSettings', () => {
  it('applies the defaults of API.md', () => {
    expect(readSettings({})).toEqual({ port: 3000, dataDir: join(process.cwd(), '.warden'), approvalTimeoutSeconds: 604800, modelProvider: 'rules' });
  });

  it('reads every variable, resolving the data directory', () => {
    expect(
      readSettings({ PORT: '8080', WARDEN_DATA_DIR: 'tmp/w', WARDEN_APPROVAL_TIMEOUT_SECONDS: '60', WARDEN_MODEL_PROVIDER: 'openai-compatible' }),
    ).toEqual({ port: 8080, dataDir: join(process.cwd(), 'tmp', 'w'), approvalTimeoutSeconds: 60, modelProvider: 'openai-compatible' });
  });

  it.each([
    [{ PORT: 'abc' }, /PORT .*0 to 65535.*"abc"/],
    [{ PORT: '65536' }, /PORT/],
    [{ WARDEN_APPROVAL_TIMEOUT_SECONDS: '0' }, /WARDEN_APPROVAL_TIMEOUT_SECONDS .*"0"/],
    [{ WARDEN_APPROVAL_TIMEOUT_SECONDS: '1.5' }, /WARDEN_APPROVAL_TIMEOUT_SECONDS/],
    [{ WARDEN_MODEL_PROVIDER: 'gpt' }, /WARDEN_MODEL_PROVIDER must be one of rules, bedrock, openai-compatible \(got "gpt"\)/],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => readSettings(env)).toThrow(message);
  });
});
