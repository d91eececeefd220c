import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deadlineMarginMs } from '../../../lambdas/shared/approval';
import { devTokenMinter, poll, WardenClient, type Json } from '../../support/http-client';
import { freePort, killAllNpmStarts, startNpmStart, stopNpmStart } from '../../support/npm-start';

/**
 * `npm start` as a user runs it (API.md "Local mode settings"): the real entry point in a child
 * process, configured only through the environment. A pending approval survives SIGTERM and a
 * restart on the same data directory, and the approval token listed before the restart still
 * decides the task after it.
 */

/** Not the default (7 days), so the task's deadline shows the setting was read. */
const APPROVAL_TIMEOUT_SECONDS = 3600;

const requester = { sub: 'rs-alice', roles: ['support-agent'] };
const procurement = { sub: 'rs-pat', roles: ['procurement-manager'] };
const auditor = { sub: 'rs-audrey', roles: ['auditor'] };

let dataDir: string;
let port: number;

const startWarden = () =>
  startNpmStart({ PORT: port, WARDEN_DATA_DIR: dataDir, WARDEN_APPROVAL_TIMEOUT_SECONDS: APPROVAL_TIMEOUT_SECONDS, WARDEN_MODEL_PROVIDER: 'rules' });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'warden-restart-'));
  port = await freePort();
});

afterAll(async () => {
  await killAllNpmStarts();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('a pending approval survives SIGTERM and a restart; the same approval token then decides it', async () => {
  // First run.
  const first = await startWarden();
  // The API answers as soon as it listens; the banner with the URL and the dev tokens follows.
  const banner = await poll(
    async () => first.output(),
    (text) => text.includes(first.url) && /TOKEN_\w+=\S+\.\S+\.\S+/.test(text),
    200,
    25,
  );
  expect(banner).toContain(first.url);
  expect(banner).toMatch(/TOKEN_\w+=\S+\.\S+\.\S+/);
  const before = new WardenClient(first.url, devTokenMinter(first.url));

  const requestId = await before.submitOk(requester, { text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations' });
  const task = await before.waitForTask(procurement, requestId);
  const waitMs = Date.parse(String(task.expiresAt)) - Date.parse(String(task.createdAt));
  // The configured wait, less the margin by which the API refuses before the workflow times out.
  expect(Math.abs(waitMs - (APPROVAL_TIMEOUT_SECONDS * 1000 - deadlineMarginMs(APPROVAL_TIMEOUT_SECONDS)))).toBeLessThan(5000);
  expect(await before.waitForStatus(requester, requestId, 'PENDING_APPROVAL')).toMatchObject({ status: 'PENDING_APPROVAL' });
  // Tokens minted before the restart must keep working after it (the issuer key is in the data directory).
  const requesterToken = await before.tokenFor(requester);

  const firstExit = await stopNpmStart(first);
  expect(firstExit).toEqual({ code: 0, signal: null });
  expect(first.output()).not.toContain(task.approvalToken);

  // Second run, same data directory.
  const second = await startWarden();
  const after = new WardenClient(second.url, devTokenMinter(second.url));

  const stillPending = await after.call(`/v1/requests/${requestId}`, { token: requesterToken });
  expect(stillPending.status).toBe(200);
  expect(stillPending.body).toMatchObject({ status: 'PENDING_APPROVAL', approval: { taskId: task.taskId, status: 'PENDING' } });
  expect(await after.listedTask(procurement, requestId)).toMatchObject({
    taskId: task.taskId,
    approvalToken: task.approvalToken,
    expiresAt: task.expiresAt,
  });

  const decided = await after.decide(procurement, task.taskId, { decision: 'approve', approvalToken: task.approvalToken });
  expect(decided.status).toBe(200);
  expect(decided.body).toMatchObject({ taskId: task.taskId, requestId, status: 'APPROVED', decidedBy: procurement.sub });

  const done = await after.waitForStatus(requester, requestId, 'COMPLETED');
  expect(done).toMatchObject({
    status: 'COMPLETED',
    approval: { status: 'APPROVED', decidedBy: procurement.sub },
    result: { purchaseOrderNumber: expect.stringMatching(/^PO-/), vendor: 'Alpha Tech Systems', amount: 7850 },
  });

  const audit = await after.getFinalAudit(auditor, requestId);
  expect(audit.status).toBe(200);
  expect(audit.body.verified).toBe(true);
  const steps = (audit.body.entries as Json[]).map((e) => e.step);
  expect(steps).toEqual(['Submit', 'Triage', 'Inference', 'Validate', 'AwaitApproval', 'Approval', 'Execute', 'Finalize']);

  const secondExit = await stopNpmStart(second);
  expect(secondExit).toEqual({ code: 0, signal: null });
}, 120_000);
