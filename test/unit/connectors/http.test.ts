import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Connectors,
  ConnectorsConfig,
  EffectEvent,
  MAX_SIGNATURE_AGE_SECONDS,
  signatureHeader,
  verifySignature,
} from '../../../lambdas/shared/connectors';
import { ConnectorFailed } from '../../../lambdas/shared/errors';
import type { RecordTable } from '../../../lambdas/shared/ports';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

/** A team's endpoint, as a real server: it verifies each signature and answers what the test says. */
interface Seen {
  idempotencyKey: string | undefined;
  signature: 'ok' | string;
  event: unknown;
}
type Answer = (attempt: number) => { status: number; body?: unknown } | 'hang';

const SECRET = 'whsec-test-0123456789abcdef';
const servers: Server[] = [];

async function receiver(answer: Answer): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const check = verifySignature(SECRET, body, req.headers['warden-signature'] as string | undefined);
      seen.push({ idempotencyKey: req.headers['idempotency-key'] as string | undefined, signature: check.ok ? 'ok' : check.reason, event: JSON.parse(body) });
      if (!check.ok) {
        res.writeHead(401).end();
        return;
      }
      const reply = answer(seen.length);
      if (reply === 'hang') return;
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/warden`, seen };
}

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const proposal: Proposal = {
  action: 'purchase_order',
  fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations' },
};
const receipt = { purchaseOrderNumber: 'ERP-4711', vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD' };

function connectorsTo(url: string, options: { timeoutMs?: number; maxAttempts?: number } = {}) {
  const config = ConnectorsConfig.parse({
    purchase_order: { effect: { type: 'http', url, secret: { env: 'ERP_SECRET' }, ...options }, facts: { type: 'http', url, secret: { env: 'ERP_SECRET' }, ...options } },
  });
  return new Connectors(config, { readSecret: async () => SECRET, timing: { baseDelayMs: 20, maxDelayMs: 100 } });
}

// The http effect never touches Warden's own records.
const noRecords = {} as RecordTable;
const apply = (connectors: Connectors, requestId = 'req-1') =>
  connectors.effect({ requestId, at: '2026-06-01T12:00:00.000Z', approvedBy: 'approver-1', records: noRecords })(proposal);

describe('http connector', () => {
  it('retries 500 twice, succeeds on the third attempt with the same Idempotency-Key, and returns the receipt', async () => {
    const { url, seen } = await receiver((n) => (n <= 2 ? { status: 500, body: { oops: true } } : { status: 200, body: { ...receipt, extra: 'dropped' } }));
    await expect(apply(connectorsTo(url))).resolves.toEqual(receipt);
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => s.signature)).toEqual(['ok', 'ok', 'ok']);
    expect(new Set(seen.map((s) => s.idempotencyKey))).toEqual(new Set(['req-1.effect']));
    const event = EffectEvent.parse(seen[2].event);
    expect(event).toEqual({
      type: 'warden.effect.v1',
      requestId: 'req-1',
      idempotencyKey: 'req-1.effect',
      action: 'purchase_order',
      fields: proposal.fields,
      approvedBy: 'approver-1',
    });
  });

  it('retries 429 too', async () => {
    const { url, seen } = await receiver((n) => (n === 1 ? { status: 429 } : { status: 200, body: receipt }));
    await expect(apply(connectorsTo(url))).resolves.toEqual(receipt);
    expect(seen).toHaveLength(2);
  });

  it('fails with ConnectorFailed (timeout) when the endpoint hangs past the timeout, after its attempts, same key each time', async () => {
    const { url, seen } = await receiver(() => 'hang');
    const failure = apply(connectorsTo(url, { timeoutMs: 150, maxAttempts: 2 }));
    await expect(failure).rejects.toThrow(ConnectorFailed);
    await expect(failure).rejects.toThrow('[purchase_order effect http: timeout] no answer within 150 ms after 2 attempts');
    expect(seen.map((s) => s.idempotencyKey)).toEqual(['req-1.effect', 'req-1.effect']);
  });

  it('fails without a retry on a malformed receipt, naming the paths and never the values', async () => {
    const { url, seen } = await receiver(() => ({ status: 200, body: { purchaseOrderNumber: 42, vendor: 'secret-vendor-name' } }));
    const error = await apply(connectorsTo(url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorFailed);
    expect((error as ConnectorFailed).reason).toBe('invalid_response');
    expect((error as Error).message).toMatch(/^\[purchase_order effect http: invalid_response\] the receipt does not match/);
    expect((error as Error).message).not.toContain('secret-vendor-name');
    expect(seen).toHaveLength(1);
  });

  it('does not retry a 400, and the message carries the status, not the body or the secret', async () => {
    const { url, seen } = await receiver(() => ({ status: 400, body: { error: 'vendor blocked: secret-detail' } }));
    const error = (await apply(connectorsTo(url)).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('[purchase_order effect http: http_status] HTTP 400 (not retried)');
    expect(error.message).not.toContain(SECRET);
    expect(seen).toHaveLength(1);
  });

  it('reads facts the same way and checks them against the facts schema', async () => {
    const { url, seen } = await receiver(() => ({ status: 200, body: { vendor: { name: 'Alpha Tech Systems', validated: true } } }));
    const facts = await connectorsTo(url).readFacts({ requestId: 'req-2', proposal, records: noRecords });
    expect(facts).toEqual({ vendor: { name: 'Alpha Tech Systems', validated: true } });
    expect(seen[0]).toMatchObject({ idempotencyKey: 'req-2.facts', event: { type: 'warden.facts.v1', action: 'purchase_order' } });
  });

  it('a request signed with another secret is refused by the receiver, and the connector does not retry the 401', async () => {
    const { url, seen } = await receiver(() => ({ status: 200, body: receipt }));
    const config = ConnectorsConfig.parse({ purchase_order: { effect: { type: 'http', url, secret: { env: 'ERP_SECRET' } } } });
    const wrong = new Connectors(config, { readSecret: async () => 'not-the-secret' });
    await expect(apply(wrong)).rejects.toThrow('[purchase_order effect http: http_status] HTTP 401 (not retried)');
    expect(seen).toEqual([expect.objectContaining({ signature: 'mismatch' })]);
  });
});

describe('verifySignature (the receiver side)', () => {
  const body = JSON.stringify({ type: 'warden.effect.v1', requestId: 'r' });
  const now = 1_800_000_000;

  it('accepts a fresh signature over the exact body', () => {
    expect(verifySignature(SECRET, body, signatureHeader(SECRET, body, now), now)).toEqual({ ok: true });
  });

  it('refuses a changed body, another secret, a malformed or missing header', () => {
    const header = signatureHeader(SECRET, body, now);
    expect(verifySignature(SECRET, `${body} `, header, now)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature('other', body, header, now)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(SECRET, body, 't=abc,v1=00', now)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(SECRET, body, undefined, now)).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses a replay older than five minutes, and accepts one just inside them', () => {
    const old = now - MAX_SIGNATURE_AGE_SECONDS - 1;
    expect(verifySignature(SECRET, body, signatureHeader(SECRET, body, old), now)).toEqual({ ok: false, reason: 'too_old' });
    const recent = now - MAX_SIGNATURE_AGE_SECONDS;
    expect(verifySignature(SECRET, body, signatureHeader(SECRET, body, recent), now)).toEqual({ ok: true });
  });
});

describe('connector configuration', () => {
  it('refuses an unknown action with its key, plain http to another host, and a bad ARN', () => {
    const unknown = ConnectorsConfig.safeParse({ credit_notes: {} });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]).toMatchObject({ path: ['credit_notes'], message: expect.stringContaining('unknown action "credit_notes"') });
    const plain = ConnectorsConfig.safeParse({ refund: { effect: { type: 'http', url: 'http://erp.example.com/x', secret: { env: 'S' } } } });
    expect(plain.error?.issues[0].path).toEqual(['refund', 'effect', 'url']);
    const arn = ConnectorsConfig.safeParse({ refund: { facts: { type: 'lambda', functionArn: 'my-function' } } });
    expect(arn.error?.issues[0].path).toEqual(['refund', 'facts', 'functionArn']);
  });

  it('fills builtin for what is not named', () => {
    expect(ConnectorsConfig.parse({ refund: {} })).toEqual({ refund: { facts: { type: 'builtin' }, effect: { type: 'builtin' } } });
  });
});
