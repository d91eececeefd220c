import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../../lambdas/shared/connectors';
import { startTestServer, type Json, type TestServer } from '../../support/http-client';

/**
 * A purchase order's effect configured to go to the team's endpoint (an http receiver started
 * here, verifying every signature), through the local stack end to end.
 */
const SECRET = 'erp-local-secret-for-tests';
const requester = { sub: 'conn-alice', roles: ['support-agent'] };

let receiver: Server;
let failing = false;
/** idempotency key → effects applied under it; every attempt counted separately. */
const applied = new Map<string, Json>();
let attempts = 0;

let warden: TestServer;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      attempts++;
      if (!verifySignature(SECRET, body, req.headers['warden-signature'] as string | undefined).ok) return void res.writeHead(401).end();
      if (failing) return void res.writeHead(503).end();
      const key = String(req.headers['idempotency-key']);
      const event = JSON.parse(body) as { fields: Json };
      // Once per key: a repeated key gets the first receipt back.
      if (!applied.has(key)) {
        applied.set(key, { purchaseOrderNumber: `ERP-${applied.size + 1}`, vendor: event.fields.vendor, amount: event.fields.amount, currency: event.fields.currency });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(applied.get(key)));
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  process.env.CONNECTOR_TEST_ERP_SECRET = SECRET;
  warden = await startTestServer({
    connectors: {
      purchase_order: {
        effect: {
          type: 'http',
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/po`,
          secret: { env: 'CONNECTOR_TEST_ERP_SECRET' },
          timeoutMs: 1000,
          maxAttempts: 2,
        },
      },
    },
  });
});

afterAll(async () => {
  await warden?.stop();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  delete process.env.CONNECTOR_TEST_ERP_SECRET;
});

it("an approved purchase order completes with the receiver's receipt as result, applied once", async () => {
  failing = false;
  const client = warden.client;
  const requestId = await client.submitOk(requester, {
    text: 'Docking stations',
    action: 'purchase_order',
    fields: { vendor: 'Globex Corporation', amount: 1300, description: 'docking stations for the lab' },
  });
  const done = await client.waitForStatus(requester, requestId, 'COMPLETED');
  expect(done.result).toEqual({ purchaseOrderNumber: expect.stringMatching(/^ERP-\d+$/), vendor: 'Globex Corporation', amount: 1300, currency: 'USD' });
  expect(applied.get(`${requestId}.effect`)).toEqual(done.result);
  const entries = (await client.getAudit(requester, requestId)).body.entries as Json[];
  expect(entries.find((e) => e.step === 'Execute')).toMatchObject({ event: 'effect.executed', data: { receipt: done.result, approvedBy: 'policy' } });
});

it('a receiver that keeps failing ends the request FAILED connector_failed, naming the connector, with no result', async () => {
  failing = true;
  const before = attempts;
  const client = warden.client;
  const requestId = await client.submitOk(requester, {
    text: 'Cables',
    action: 'purchase_order',
    fields: { vendor: 'Globex Corporation', amount: 1400, description: 'network cables' },
  });
  const failed = await client.waitForStatus(requester, requestId, 'FAILED');
  expect(failed.error).toEqual({
    code: 'connector_failed',
    message: 'The purchase_order effect http connector failed (http_status) after its retries; no receipt was recorded.',
  });
  expect(failed.result).toBeUndefined();
  expect(attempts - before).toBe(2);
  expect(applied.has(`${requestId}.effect`)).toBe(false);
});
