import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidLocalSettings, readLocalSetup } from '../../../local/server';
import { received } from '../../fixtures/stand-ins/po-receiver';
import { startTestServer, type TestServer } from '../../support/http-client';

/**
 * `wardenLocal` in cdk.json: a stand-in module started beside the local stack on a free port, a
 * connector that names it instead of a URL, and a signing secret set for the run when unset,
 * shared by both. `warden.connectors` (what `cdk synth` reads) is left as written.
 */

const SECRET_ENV = 'STAND_IN_TEST_SECRET';
let dir: string;
let warden: TestServer | undefined;
const requester = { sub: 'si-alice', roles: ['support-agent'] };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-stand-ins-'));
  delete process.env[SECRET_ENV];
});
afterEach(async () => {
  await warden?.stop();
  warden = undefined;
  rmSync(dir, { recursive: true, force: true });
  delete process.env[SECRET_ENV];
});

function cdkJson(context: Record<string, unknown>): string {
  const file = join(dir, 'cdk.json');
  writeFileSync(file, JSON.stringify({ app: 'npx tsx bin/warden.ts', context }));
  return file;
}

const wardenLocal = {
  standIns: { erp: { module: 'test/fixtures/stand-ins/po-receiver.ts', secretEnv: SECRET_ENV } },
  connectors: { purchase_order: { effect: { type: 'http', standIn: 'erp', path: '/po', secret: { env: SECRET_ENV }, timeoutMs: 2000 } } },
};

it("starts the stand-in, points the connector at it, and a purchase order's effect COMPLETES with its receipt", async () => {
  const setup = readLocalSetup(cdkJson({ warden: { modelProvider: 'rules' }, wardenLocal }));
  expect(setup.connectors).toEqual({});
  expect(setup.secretsFilled).toEqual([SECRET_ENV]);
  expect(process.env[SECRET_ENV]).toMatch(/^[0-9a-f]{64}$/);

  warden = await startTestServer({ connectors: setup.connectors, local: setup.local });
  const [standIn] = warden.server.standIns;
  expect(standIn).toMatchObject({ name: 'erp', module: 'test/fixtures/stand-ins/po-receiver.ts', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
  expect(warden.server.stack.connectors.purchase_order?.effect).toMatchObject({ type: 'http', url: `${standIn?.url}/po`, secret: { env: SECRET_ENV } });

  const requestId = await warden.client.submitOk(requester, {
    text: 'Keyboards',
    action: 'purchase_order',
    fields: { vendor: 'Globex Corporation', amount: 980, description: 'keyboards for the lab' },
  });
  const done = await warden.client.waitForStatus(requester, requestId, 'COMPLETED');
  expect(done.result).toEqual({ purchaseOrderNumber: expect.stringMatching(/^SI-\d+$/), vendor: 'Globex Corporation', amount: 980, currency: 'USD' });
  expect(received.get(`${requestId}.effect`)).toEqual(done.result);

  // Stopped with the stack: its port no longer answers.
  const url = standIn!.url;
  await warden.stop();
  warden = undefined;
  await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
}, 60_000);

it('keeps a secret the environment already sets', () => {
  process.env[SECRET_ENV] = 'given-by-the-developer';
  expect(readLocalSetup(cdkJson({ wardenLocal })).secretsFilled).toEqual([]);
  expect(process.env[SECRET_ENV]).toBe('given-by-the-developer');
});

it.each([
  ['a connector naming no stand-in', { ...wardenLocal, standIns: {} }, 'wardenLocal.connectors.purchase_order.effect.standIn: names no stand-in (standIns: none)'],
  ['a module outside the repository', { standIns: { erp: { module: '../elsewhere/erp.ts' } } }, 'wardenLocal.standIns.erp.module: must stay inside the repository'],
  ['an unknown key', { standIns: {}, stubs: {} }, 'wardenLocal: Unrecognized key: "stubs"'],
  ['an unknown action', { connectors: { purchase_ordr: { effect: { type: 'builtin' } } } }, 'wardenLocal.connectors.purchase_ordr: unknown action "purchase_ordr"'],
])('refuses %s in one line naming the key', (_case, local, message) => {
  const file = cdkJson({ wardenLocal: local });
  expect(() => readLocalSetup(file)).toThrow(InvalidLocalSettings);
  expect(() => readLocalSetup(file)).toThrow(message);
});
