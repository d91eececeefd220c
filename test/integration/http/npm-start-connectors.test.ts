import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifySignature } from '../../../lambdas/shared/connectors';
import { ACTIONS } from '../../../lambdas/shared/schemas/actions';
import { devTokenMinter, WardenClient, type Json } from '../../support/http-client';
import { freePort, killAllNpmStarts, spawnNpmStart, startNpmStart, stopNpmStart } from '../../support/npm-start';

/**
 * `npm start` takes the connectors from cdk.json (`warden.connectors`, the file `cdk deploy`
 * reads): a purchase order's effect goes to the endpoint named there, signed with the secret
 * from the variable named there; a bad config stops it in one line naming the key.
 */

const SECRET = 'npm-start-erp-secret-for-tests';
const requester = { sub: 'nsc-alice', roles: ['support-agent'] };

let receiver: Server;
/** idempotency key → the receipt given for it. */
const applied = new Map<string, Json>();
const dirs: string[] = [];

async function projectWith(warden: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-npm-start-connectors-'));
  dirs.push(dir);
  await writeFile(join(dir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/warden.ts', context: { warden } }));
  return dir;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      if (!verifySignature(SECRET, body, req.headers['warden-signature'] as string | undefined).ok) return void res.writeHead(401).end();
      const key = String(req.headers['idempotency-key']);
      const event = JSON.parse(body) as { fields: Json };
      if (!applied.has(key)) applied.set(key, { purchaseOrderNumber: `ERP-NS-${applied.size + 1}`, vendor: event.fields.vendor, amount: event.fields.amount, currency: event.fields.currency });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(applied.get(key)));
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await killAllNpmStarts();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

it("sends an approved purchase order's effect to the endpoint cdk.json names, and completes with its receipt", async () => {
  const project = await projectWith({
    modelProvider: 'rules',
    connectors: {
      purchase_order: {
        effect: { type: 'http', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/po`, secret: { env: 'NPM_START_ERP_SECRET' }, timeoutMs: 2000 },
      },
    },
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-npm-start-connectors-data-'));
  dirs.push(dataDir);
  const started = await startNpmStart({ PORT: await freePort(), WARDEN_DATA_DIR: dataDir, NPM_START_ERP_SECRET: SECRET }, project);
  expect(started.output()).toContain('connectors (cdk.json warden.connectors, wardenLocal.connectors over it): purchase_order effect http; builtin for the rest');
  // Never the endpoint or the secret in the banner.
  expect(started.output()).not.toContain(SECRET);

  const client = new WardenClient(started.url, devTokenMinter(started.url));
  const requestId = await client.submitOk(requester, {
    text: 'Monitors',
    action: 'purchase_order',
    fields: { vendor: 'Globex Corporation', amount: 1250, description: 'monitors for the design team' },
  });
  const done = await client.waitForStatus(requester, requestId, 'COMPLETED');
  expect(done.result).toEqual({ purchaseOrderNumber: expect.stringMatching(/^ERP-NS-\d+$/), vendor: 'Globex Corporation', amount: 1250, currency: 'USD' });
  expect(applied.get(`${requestId}.effect`)).toEqual(done.result);
  await client.settle();
  expect(await stopNpmStart(started)).toEqual({ code: 0, signal: null });
}, 90_000);

it('refuses to start on an unknown action under warden.connectors: exit 1, one line naming the key', async () => {
  const project = await projectWith({ connectors: { purchase_ordr: { effect: { type: 'builtin' } } } });
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-npm-start-connectors-data-'));
  dirs.push(dataDir);
  const refused = spawnNpmStart({ PORT: await freePort(), WARDEN_DATA_DIR: dataDir }, project);
  expect(await refused.exited).toEqual({ code: 1, signal: null });
  const lines = refused.stderr().split('\n').filter((line) => line.trim().length > 0);
  expect(lines).toEqual([
    `Invalid Warden config in ${join(project, 'cdk.json')}: warden.connectors.purchase_ordr: unknown action "purchase_ordr" (actions: ${ACTIONS.join(', ')})`,
  ]);
}, 60_000);
