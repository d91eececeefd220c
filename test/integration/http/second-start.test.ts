import { spawn } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE } from '../../../local/data-dir-lock';
import { devTokenMinter, WardenClient } from '../../support/http-client';
import { freePort, killAllNpmStarts, spawnNpmStart, startNpmStart, stopNpmStart, type NpmStart } from '../../support/npm-start';

/**
 * A second `npm start` on a data directory or a port that is in use: one line that says what is
 * in use and what to do, exit 1, nothing left running, and the first one unharmed.
 */

const requester = { sub: 'ss-alice', roles: ['support-agent'] };

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'warden-second-start-'));
  dirs.push(dir);
  return dir;
}

let first: NpmStart;
let firstDir: string;
let firstPort: number;

beforeAll(async () => {
  firstDir = await freshDir();
  firstPort = await freePort();
  first = await startNpmStart({ PORT: firstPort, WARDEN_DATA_DIR: firstDir });
}, 60_000);

afterAll(async () => {
  await killAllNpmStarts();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Runs a start that must be refused; returns its one stderr line. */
async function refusedStart(env: { PORT: number; WARDEN_DATA_DIR: string }): Promise<string> {
  const second = spawnNpmStart(env);
  const exit = await second.exited;
  const stderr = second.stderr();
  expect({ exit, stderr }).toEqual({ exit: { code: 1, signal: null }, stderr: expect.any(String) });
  const lines = stderr.split('\n').filter((line) => line.trim().length > 0);
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/LEVEL_|EADDRINUSE/);
  return lines[0];
}

/** Each check orders a different amount: an identical order would be a duplicate_proposal. */
let orders = 0;

async function expectFirstStillServes(): Promise<void> {
  const client = new WardenClient(first.url, devTokenMinter(first.url));
  expect((await client.call('/health')).status).toBe(200);
  // Its stores still work, not only its socket: a write and a read through DynamoDB and S3.
  const requestId = await client.submitOk(requester, {
    text: 'Office chairs',
    action: 'purchase_order',
    fields: { vendor: 'Globex Corporation', amount: 1200 + ++orders, description: 'office chairs' },
  });
  expect(await client.waitForStatus(requester, requestId, 'COMPLETED')).toMatchObject({ requestId, status: 'COMPLETED' });
}

async function ownerPid(dataDir: string): Promise<number> {
  return Number((await readFile(join(dataDir, LOCK_FILE), 'utf8')).trim());
}

it('the same data directory and port (npm start twice): one line naming both, exit 1, the first unharmed', async () => {
  const line = await refusedStart({ PORT: firstPort, WARDEN_DATA_DIR: firstDir });
  expect(line).toContain(`The data directory ${firstDir} is in use by another npm start (pid ${await ownerPid(firstDir)})`);
  expect(line).toContain(`port ${firstPort} is taken`);
  expect(line).toMatch(/another WARDEN_DATA_DIR and PORT/);
  await expectFirstStillServes();
}, 60_000);

it('the same data directory on another port: one line naming the directory and WARDEN_DATA_DIR; the other port stays closed', async () => {
  const otherPort = await freePort();
  const line = await refusedStart({ PORT: otherPort, WARDEN_DATA_DIR: firstDir });
  expect(line).toContain(`The data directory ${firstDir} is in use by another npm start (pid ${await ownerPid(firstDir)})`);
  expect(line).toMatch(/start this one with another WARDEN_DATA_DIR \(/);
  expect(line).not.toMatch(/PORT/);
  await expect(fetch(`http://127.0.0.1:${otherPort}/health`)).rejects.toThrow();
  await expectFirstStillServes();
}, 60_000);

it('the same port with another data directory: one line naming the port and PORT; the directory stays empty', async () => {
  const otherDir = await freshDir();
  const line = await refusedStart({ PORT: firstPort, WARDEN_DATA_DIR: otherDir });
  expect(line).toBe(
    `Port ${firstPort} on 127.0.0.1 is in use by another process (another npm start?): stop it, or start this one with another PORT (PORT=0 picks a free one).`,
  );
  expect(await readdir(otherDir)).toEqual([]);
  await expectFirstStillServes();
}, 60_000);

it('a lock left by a process that no longer runs does not block a start, and is released on stop', async () => {
  const dataDir = await freshDir();
  const dead = spawn(process.execPath, ['-e', '']);
  await new Promise((resolveExit) => dead.once('exit', resolveExit));
  await writeFile(join(dataDir, LOCK_FILE), `${dead.pid}\n`);

  const started = await startNpmStart({ PORT: await freePort(), WARDEN_DATA_DIR: dataDir });
  const owner = await ownerPid(dataDir);
  expect(owner).not.toBe(dead.pid);
  expect(() => process.kill(owner, 0)).not.toThrow();

  expect(await stopNpmStart(started)).toEqual({ code: 0, signal: null });
  expect(await readdir(dataDir)).not.toContain(LOCK_FILE);
}, 60_000);

/** Every path under `dir` (itself included) with its permission bits; links are not followed. */
async function modesUnder(dir: string): Promise<{ path: string; mode: number; directory: boolean }[]> {
  // The stack runs on meanwhile: a file can be renamed away between readdir and lstat (the journal's compaction at start, an emulator's own files).
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!info) return [];
  const here = { path: dir, mode: info.mode & 0o777, directory: info.isDirectory() };
  if (!info.isDirectory()) return [here];
  const below = await Promise.all((await readdir(dir)).map((name) => modesUnder(join(dir, name))));
  return [here, ...below.flat()];
}

it("keeps the data directory to its owner: 0700, and every file npm start wrote in it 0600 (PII vault included)", async () => {
  const client = new WardenClient(first.url, devTokenMinter(first.url));
  // An email in the text: the inbound shield vaults the original under the data directory.
  const requestId = await client.submitOk(requester, { text: 'Refund $20 on order O-5001 for customer C-1002, contact jane.doe@example.com, item arrived damaged' });

  const modes = await modesUnder(firstDir);
  // s3rver keeps an object as a file named after its key, beside its metadata.
  expect(modes.some((m) => m.path.includes(requestId) && m.path.includes('vault.json'))).toBe(true);
  expect(modes.find((m) => m.path === firstDir)?.mode).toBe(0o700);
  expect(modes.filter((m) => !m.directory).length).toBeGreaterThan(3);
  expect(modes.filter((m) => (m.mode & 0o077) !== 0)).toEqual([]);
}, 60_000);
