import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devTokenMinter, WardenClient } from '../../support/http-client';
import { freePort, killAllNpmStarts, startNpmStart, stopNpmStart } from '../../support/npm-start';

/**
 * The real `npm start` with the project's cdk.json: wardenLocal starts the stand-in ERP and
 * points credit_limit_change's connectors at it with a per-run secret, so a credit limit change
 * goes from free text through a credit analyst's approval to the ERP and back with its receipt.
 */

const dirs: string[] = [];
afterAll(async () => {
  await killAllNpmStarts();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

it('reaches the stand-in ERP end to end, and says so in the banner without the secret', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'warden-npm-start-credit-'));
  dirs.push(dataDir);
  const started = await startNpmStart({ PORT: await freePort(), WARDEN_DATA_DIR: dataDir, WARDEN_CREDIT_ERP_SECRET: '' });
  const banner = started.output();
  expect(banner).toContain('connectors (cdk.json warden.connectors, wardenLocal.connectors over it): credit_limit_change facts http, credit_limit_change effect http; builtin for the rest');
  expect(banner).toMatch(/stand-ins \(cdk\.json wardenLocal\.standIns\): credit-erp http:\/\/127\.0\.0\.1:\d+ \(actions\/credit_limit_change\/erp\.ts\)/);
  expect(banner).toContain('signing secrets set to a random value for this run: WARDEN_CREDIT_ERP_SECRET');
  expect(banner).toMatch(/credit-analyst \(approves credit_limit_change \(tier credit-analyst\)\)\n\s+export TOKEN_CREDIT_ANALYST=\S+\.\S+\.\S+/);
  expect(banner).not.toMatch(/WARDEN_CREDIT_ERP_SECRET=/);

  const manager = { sub: 'nse-amy', roles: ['account-manager'] };
  const analyst = { sub: 'nse-carl', roles: ['credit-analyst'] };
  const client = new WardenClient(started.url, devTokenMinter(started.url));
  const requestId = await client.submitOk(manager, { text: 'Bump the credit line of C-1001 to $9,500 as they added three new stores' });
  await client.waitForStatus(manager, requestId, 'PENDING_APPROVAL');
  const task = await client.waitForTask(analyst, requestId);
  expect((await client.getTask(analyst, task.taskId)).body.evidence).toMatchObject({ dryRun: { currentLimit: 5000, newLimit: 9500, change: 4500 } });
  expect((await client.decide(analyst, task.taskId, { decision: 'approve', approvalToken: task.approvalToken })).status).toBe(200);
  const done = await client.waitForStatus(manager, requestId, 'COMPLETED');
  expect(done.result).toEqual({ changeId: 'CL-000001', customerId: 'C-1001', previousLimit: 5000, newLimit: 9500, currency: 'USD' });
  await client.settle();
  expect(await stopNpmStart(started)).toEqual({ code: 0, signal: null });
}, 90_000);
