import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { devTokenMinter, poll, WardenClient, type Json } from '../../support/http-client';

/**
 * `npm start` as a user runs it (API.md "Local mode settings"): the real entry point in a child
 * process, configured only through the environment. A pending approval survives SIGTERM and a
 * restart on the same data directory, and the approval token listed before the restart still
 * decides the task after it.
 */

const REPO = resolve(__dirname, '../../..');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

/** Not the default (7 days), so the task's deadline shows the setting was read. */
const APPROVAL_TIMEOUT_SECONDS = 3600;

const requester = { sub: 'rs-alice', roles: ['support-agent'] };
const procurement = { sub: 'rs-pat', roles: ['procurement-manager'] };
const auditor = { sub: 'rs-audrey', roles: ['auditor'] };

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
let dataDir: string;
let port: number;

/** A port that was free a moment ago: bind port 0, read it, close. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts `tsx local/start.ts` and waits for GET /health to answer 200 (or the child to die). */
async function startWarden(): Promise<Started> {
  const child = spawn(TSX, ['local/start.ts'], {
    cwd: REPO,
    env: { ...process.env, PORT: String(port), WARDEN_DATA_DIR: dataDir, WARDEN_APPROVAL_TIMEOUT_SECONDS: String(APPROVAL_TIMEOUT_SECONDS), WARDEN_MODEL_PROVIDER: 'rules' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so afterAll can end tsx and the node process it runs together.
    detached: true,
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );

  const url = `http://127.0.0.1:${port}`;
  let dead = false;
  void exited.then(() => (dead = true));
  const healthy = await poll(
    async () => {
      if (dead) return false;
      try {
        return (await fetch(`${url}/health`)).status === 200;
      } catch {
        return false; // not listening yet
      }
    },
    (ok) => ok || dead,
    600,
    50,
  );
  if (!healthy) throw new Error(`npm start did not become healthy (exited: ${dead}). Output:\n${output}`);
  return { child, url, output: () => output, exited };
}

async function stopWarden(started: Started): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  started.child.kill('SIGTERM');
  return started.exited;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'warden-restart-'));
  port = await freePort();
});

afterAll(async () => {
  // Whatever happened above, no child outlives the suite.
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const gone = new Promise((resolveExit) => child.once('exit', resolveExit));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      await gone;
    }
  }
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
  expect(Math.abs(waitMs - APPROVAL_TIMEOUT_SECONDS * 1000)).toBeLessThan(5000);
  expect(await before.waitForStatus(requester, requestId, 'PENDING_APPROVAL')).toMatchObject({ status: 'PENDING_APPROVAL' });
  // Tokens minted before the restart must keep working after it (the issuer key is in the data directory).
  const requesterToken = await before.tokenFor(requester);

  const firstExit = await stopWarden(first);
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

  const audit = await after.getAudit(auditor, requestId);
  expect(audit.status).toBe(200);
  expect(audit.body.verified).toBe(true);
  const steps = (audit.body.entries as Json[]).map((e) => e.step);
  expect(steps).toEqual(['Submit', 'Triage', 'Inference', 'Validate', 'AwaitApproval', 'Approval', 'Execute', 'Finalize']);

  const secondExit = await stopWarden(second);
  expect(secondExit).toEqual({ code: 0, signal: null });
}, 120_000);
