import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createExclusively, makePrivate, readIfExists } from './files';

/**
 * One local stack per data directory. dynalite's LevelDB store admits one process and, when a
 * second opens it, fails deep inside a request handler with an uncatchable stack trace; so the
 * directory is claimed first, with a lock file holding the owner's pid. A lock left by a
 * process that no longer runs (killed, crashed) is stale and taken over.
 */

export const LOCK_FILE = 'warden.lock';

export class DataDirInUse extends Error {
  constructor(
    readonly dataDir: string,
    /** Unknown only when the lock kept changing hands while this start tried to claim it. */
    readonly pid: number | undefined,
    /** Set when the port this start wanted is taken too (most often by the same other start). */
    readonly port?: number,
  ) {
    const owner = pid === undefined ? 'another npm start' : `another npm start (pid ${pid})`;
    const taken = port === undefined ? '' : `, and port ${port} is taken`;
    const instead = port === undefined ? 'another WARDEN_DATA_DIR' : 'another WARDEN_DATA_DIR and PORT';
    // A pid can outlive a reboot in the lock file and be reused by an unrelated process.
    const notWarden = pid === undefined ? '' : ` (if pid ${pid} is not Warden, delete ${join(dataDir, LOCK_FILE)})`;
    super(`The data directory ${dataDir} is in use by ${owner}${taken}: stop that one, or start this one with ${instead}${notWarden}.`);
    this.name = 'DataDirInUse';
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still this process's. */
  release(): Promise<void>;
}

/** Claims `dataDir` for this process, or throws DataDirInUse naming the live owner. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  // The first thing a start does with the directory: nothing is written to it before it is private.
  await makePrivate(dataDir);
  const path = join(dataDir, LOCK_FILE);
  const mine = `${process.pid}\n`;
  // A few rounds: each lost round means another process released or took over the lock meanwhile.
  for (let round = 0; round < 5; round++) {
    // Appears with its pid or not at all: a reader never mistakes a half-written lock for a stale one.
    if (await createExclusively(path, mine, 0o600)) {
      return { release: () => removeIfUnchanged(path, mine) };
    }
    const held = await readIfExists(path);
    if (held === undefined) continue;
    const pid = pidOf(held);
    if (pid !== undefined && isRunning(pid)) throw new DataDirInUse(dataDir, pid);
    await removeIfUnchanged(path, held);
  }
  throw new DataDirInUse(dataDir, await dataDirOwner(dataDir));
}

/** The pid of the running process that holds `dataDir`, if any; claims nothing. */
export async function dataDirOwner(dataDir: string): Promise<number | undefined> {
  const pid = pidOf((await readIfExists(join(dataDir, LOCK_FILE))) ?? '');
  return pid !== undefined && isRunning(pid) ? pid : undefined;
}

/** Re-read just before the unlink, so a lock another process took in between is left alone. */
async function removeIfUnchanged(path: string, expected: string): Promise<void> {
  if ((await readIfExists(path)) !== expected) return;
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function pidOf(text: string): number | undefined {
  const match = /^(\d{1,10})\n?$/.exec(text);
  const pid = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Signal 0 checks existence only; EPERM means it runs under another user, which still holds the lock. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
