import { EffectEvent, signatureHeader } from '../../../lambdas/shared/connectors';
import { startErp, type StandInErp } from '../../../actions/credit_limit_change/erp';
import { expectProblem, startTestServer, type Json, type TestServer } from '../../support/http-client';

/**
 * credit_limit_change end to end over HTTP: its facts and effect go through the http connector
 * to the stand-in ERP started here (verifying every signature, applying each change once per
 * idempotency key), as cdk.json's wardenLocal points npm start at it.
 */

const SECRET = 'credit-erp-secret-for-tests';
const manager = { sub: 'cl-amy', roles: ['account-manager'] };
const analyst = { sub: 'cl-carl', roles: ['credit-analyst'] };
const director = { sub: 'cl-fin', roles: ['finance-director'] };
const agent = { sub: 'cl-sam', roles: ['support-agent'] };

let erp: StandInErp;
let warden: TestServer;

beforeAll(async () => {
  erp = await startErp({ host: '127.0.0.1', port: 0, secret: SECRET });
  process.env.CREDIT_TEST_ERP_SECRET = SECRET;
  const http = (path: string) => ({ type: 'http' as const, url: `${erp.url}${path}`, secret: { env: 'CREDIT_TEST_ERP_SECRET' }, timeoutMs: 2000 });
  warden = await startTestServer({ connectors: { credit_limit_change: { facts: http('/warden/facts'), effect: http('/warden/effect') } } });
});

afterAll(async () => {
  await warden?.stop();
  await erp?.stop();
  delete process.env.CREDIT_TEST_ERP_SECRET;
});

const structured = (customerId: string, newLimit: number) => ({
  text: 'Credit limit change',
  action: 'credit_limit_change',
  fields: { customerId, newLimit, reason: 'annual review of their payment record' },
});

it('from free text: PENDING_APPROVAL high_risk_action with the dry run; a credit analyst approves; COMPLETED with the ERP receipt, applied once', async () => {
  const client = warden.client;
  const requestId = await client.submitOk(manager, { text: 'Raise the credit limit for customer C-1001 to $8,000, they doubled their monthly orders' });
  const pending = await client.waitForStatus(manager, requestId, 'PENDING_APPROVAL');
  expect(pending).toMatchObject({
    action: 'credit_limit_change',
    proposal: { action: 'credit_limit_change', fields: { customerId: 'C-1001', newLimit: 8000, currency: 'USD', reason: 'they doubled their monthly orders' } },
    decision: { outcome: 'pending_approval', reasons: ['high_risk_action'], policy: { id: 'credit-limit-change', version: '2026-12-01' } },
  });

  const task = await client.waitForTask(analyst, requestId);
  expect(task).toMatchObject({ action: 'credit_limit_change', approverRoles: ['credit-analyst'], summary: { customerId: 'C-1001', newLimit: 8000, currency: 'USD' } });
  const detail = await client.getTask(analyst, task.taskId);
  expect(detail.body.evidence).toMatchObject({
    tier: 'credit-analyst',
    dryRun: { customerId: 'C-1001', currentLimit: 5000, currentCurrency: 'USD', newLimit: 8000, currency: 'USD', change: 3000 },
  });
  expect(erp.changes().filter((c) => c.requestId === requestId)).toEqual([]);

  expect((await client.decide(analyst, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
  const done = await client.waitForStatus(manager, requestId, 'COMPLETED');
  expect(done.result).toEqual({ changeId: expect.stringMatching(/^CL-\d{6}$/), customerId: 'C-1001', previousLimit: 5000, newLimit: 8000, currency: 'USD' });
  const applied = erp.changes().filter((c) => c.requestId === requestId);
  expect(applied).toEqual([{ idempotencyKey: `${requestId}.effect`, requestId, approvedBy: analyst.sub, receipt: done.result }]);
  expect(erp.limitOf('C-1001')).toEqual({ creditLimit: 8000, currency: 'USD' });
});

it('an increase of 10,000 or more waits for a finance director: the credit analyst is refused (wrong tier), the director approves', async () => {
  const client = warden.client;
  const requestId = await client.submitOk(manager, structured('C-1003', 75_000));
  const pending = await client.waitForStatus(manager, requestId, 'PENDING_APPROVAL');
  expect(pending).toMatchObject({ decision: { reasons: ['high_risk_action'] } });

  const task = await client.waitForTask(director, requestId);
  expect(task).toMatchObject({ approverRoles: ['finance-director'] });
  expect((await client.getTask(director, task.taskId)).body.evidence).toMatchObject({ tier: 'finance-director', dryRun: { currentLimit: 50_000, newLimit: 75_000, change: 25_000 } });
  expect(await client.listedTask(analyst, requestId)).toBeUndefined();
  expectProblem(await client.decide(analyst, task.taskId, { decision: 'approve', approvalToken: task.approvalToken }), 403, 'not_authorized_approver');
  expect((await client.decide(director, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
  const done = await client.waitForStatus(manager, requestId, 'COMPLETED');
  expect(done.result).toMatchObject({ customerId: 'C-1003', previousLimit: 50_000, newLimit: 75_000 });
  expect(erp.changes().filter((c) => c.requestId === requestId)).toHaveLength(1);
});

it('a requester without account-manager: 403 action_not_permitted, nothing asked of the ERP', async () => {
  const before = erp.changes().length;
  expectProblem(await warden.client.submit(agent, structured('C-1002', 21_000)), 403, 'action_not_permitted');
  expect(erp.changes()).toHaveLength(before);
});

it.each([
  ['an unknown customer', 'C-9999', 30_000, 'customer_not_found'],
  ['the current limit again', 'C-1002', 20_000, 'no_change'],
  ['a limit over 1,000,000', 'C-1002', 1_500_000, 'amount_out_of_range'],
])('%s (%s, new limit %d) is REJECTED %s, with no change in the ERP', async (_case, customerId, newLimit, reason) => {
  const requestId = await warden.client.submitOk(manager, structured(customerId, newLimit));
  const done = await warden.client.waitForStatus(manager, requestId, 'REJECTED');
  expect(done).toMatchObject({ decision: { outcome: 'rejected', reasons: [reason] } });
  expect(done.result).toBeUndefined();
  expect(erp.changes().filter((c) => c.requestId === requestId)).toEqual([]);
});

it('a retried submission (same Idempotency-Key) is one request, and the ERP records its change once; a replayed effect gets the first receipt', async () => {
  const client = warden.client;
  const body = structured('C-1002', 18_000);
  const first = await client.submit(manager, body, { 'idempotency-key': 'cl-retry-1' });
  const again = await client.submit(manager, body, { 'idempotency-key': 'cl-retry-1' });
  expect(first.status).toBe(202);
  expect(again.body.requestId).toBe(first.body.requestId);
  const requestId = String(first.body.requestId);

  const task = await client.waitForTask(analyst, requestId);
  expect((await client.decide(analyst, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
  const done = await client.waitForStatus(manager, requestId, 'COMPLETED');

  // The connector's retry after a lost answer: the same key, signed afresh.
  const event: EffectEvent = {
    type: 'warden.effect.v1',
    requestId,
    idempotencyKey: `${requestId}.effect`,
    action: 'credit_limit_change',
    fields: { customerId: 'C-1002', newLimit: 18_000, currency: 'USD', reason: 'annual review of their payment record' },
    approvedBy: analyst.sub,
  };
  const replay = await postSigned('/warden/effect', event, SECRET);
  expect(replay).toEqual({ status: 200, body: done.result as Json });
  expect(erp.changes().filter((c) => c.requestId === requestId)).toHaveLength(1);
  expect(erp.limitOf('C-1002')).toEqual({ creditLimit: 18_000, currency: 'USD' });
});

it('the stand-in refuses a bad signature and one older than five minutes (401), and changes nothing', async () => {
  const before = erp.changes().length;
  const event = {
    type: 'warden.effect.v1',
    requestId: 'forged',
    idempotencyKey: 'forged.effect',
    action: 'credit_limit_change',
    fields: { customerId: 'C-1001', newLimit: 999_999, currency: 'USD', reason: 'not from warden at all' },
    approvedBy: 'nobody',
  };
  expect(await postSigned('/warden/effect', event, 'the-wrong-secret')).toMatchObject({ status: 401, body: { reason: 'mismatch' } });
  expect(await postSigned('/warden/effect', event, SECRET, Math.floor(Date.now() / 1000) - 301)).toMatchObject({ status: 401, body: { reason: 'too_old' } });
  expect(erp.changes()).toHaveLength(before);
  expect(erp.refusals()).toEqual(expect.arrayContaining(['mismatch', 'too_old']));
});

async function postSigned(path: string, event: unknown, secret: string, at?: number): Promise<{ status: number; body: Json }> {
  const body = JSON.stringify(event);
  const res = await fetch(`${erp.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Idempotency-Key': (event as { idempotencyKey: string }).idempotencyKey, 'Warden-Signature': signatureHeader(secret, body, at) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Json };
}
