import { randomBytes } from 'node:crypto';
import { chmod, link, lstat, mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file's text, or undefined when there is no such file. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Creates `path` holding `content` unless it exists; false when it did. Written to a private temp
 * file, then hard-linked into place: the file appears complete or not at all, so a reader never
 * sees it half-written, and of two processes racing the first link wins.
 */
export async function createExclusively(path: string, content: string, mode = 0o600): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, content, { mode, flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp);
  }
}

export class DataDirNotPrivate extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path} is readable by other users and could not be made private (${reason}): run chmod -R go-rwx on it, or start with another WARDEN_DATA_DIR.`);
    this.name = 'DataDirNotPrivate';
  }
}

/**
 * Makes `dir` the owner's alone: created 0700, or, when it exists, every directory in it 0700
 * and every file 0600 (owner bits kept, group and other bits dropped). It holds the PII vault,
 * task and approval tokens and the signing key; earlier versions left it world-readable, so
 * an existing one is fixed at start rather than refused. Symbolic links are not followed.
 * Throws DataDirNotPrivate when a mode cannot be changed (another user's directory).
 */
export async function makePrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await tighten(dir, true);
}

async function tighten(path: string, top = false): Promise<void> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return;
  const mode = info.mode & 0o777;
  const wanted = info.isDirectory() ? 0o700 : mode & 0o700;
  if (mode !== wanted && (top || (mode & 0o077) !== 0)) {
    try {
      await chmod(path, wanted);
    } catch (error) {
      throw new DataDirNotPrivate(path, (error as NodeJS.ErrnoException).code ?? 'unknown error');
    }
  }
  if (info.isDirectory()) for (const name of await readdir(path)) await tighten(join(path, name));
}
