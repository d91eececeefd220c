import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUse, LOCK_FILE, lockDataDir } from '../../../local/data-dir-lock';
import { PortInUse, startLocalServer } from '../../../local/server';

/** One local stack per data directory, and a taken port refused before anything starts. */

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'warden-lock-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const lockPath = () => join(dataDir, LOCK_FILE);

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolveExit) => child.once('exit', resolveExit));
  return child.pid!;
}

describe('lockDataDir', () => {
  it('holds the directory with this pid until released; a second claim meanwhile is DataDirInUse', async () => {
    const lock = await lockDataDir(dataDir);
    expect(await readFile(lockPath(), 'utf8')).toBe(`${process.pid}\n`);
    const refused = lockDataDir(dataDir);
    await expect(refused).rejects.toThrow(DataDirInUse);
    await expect(refused).rejects.toMatchObject({ dataDir, pid: process.pid });
    await expect(refused).rejects.toThrow(`The data directory ${dataDir} is in use by another npm start (pid ${process.pid})`);

    await lock.release();
    expect(await readdir(dataDir)).toEqual([]);
    await (await lockDataDir(dataDir)).release();
  });

  it.each([
    ['the pid of a process that no longer runs', async () => `${await deadPid()}\n`],
    ['no pid', async () => 'garbage'],
    ['nothing', async () => ''],
  ])('takes over a lock file holding %s', async (_name, content) => {
    await writeFile(lockPath(), await content());
    const lock = await lockDataDir(dataDir);
    expect(await readFile(lockPath(), 'utf8')).toBe(`${process.pid}\n`);
    await lock.release();
  });

  it('a release never removes a lock another process has taken since', async () => {
    const lock = await lockDataDir(dataDir);
    await writeFile(lockPath(), '1\n');
    await lock.release();
    expect(await readFile(lockPath(), 'utf8')).toBe('1\n');
  });
});

describe('startLocalServer refuses before anything starts', () => {
  let occupier: Server;
  let port: number;

  beforeEach(async () => {
    occupier = createServer();
    await new Promise<void>((resolveListen) => occupier.listen(0, '127.0.0.1', resolveListen));
    port = (occupier.address() as { port: number }).port;
  });

  afterEach(async () => {
    await new Promise((resolveClose) => occupier.close(resolveClose));
  });

  it('a taken port is PortInUse, and the data directory is left untouched', async () => {
    const refused = startLocalServer({ dataDir, port });
    await expect(refused).rejects.toThrow(PortInUse);
    await expect(refused).rejects.toMatchObject({ port, host: '127.0.0.1' });
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('a taken port and a held data directory are one DataDirInUse naming both', async () => {
    const lock = await lockDataDir(dataDir);
    try {
      await expect(startLocalServer({ dataDir, port })).rejects.toMatchObject({
        name: 'DataDirInUse',
        pid: process.pid,
        port,
        message: expect.stringContaining('another WARDEN_DATA_DIR and PORT'),
      });
    } finally {
      await lock.release();
    }
  });

  it('a held data directory on a free port is DataDirInUse before any store opens', async () => {
    const lock = await lockDataDir(dataDir);
    try {
      await expect(startLocalServer({ dataDir, port: 0 })).rejects.toMatchObject({ name: 'DataDirInUse', pid: process.pid, port: undefined });
      expect((await readdir(dataDir)).sort()).toEqual([LOCK_FILE]);
    } finally {
      await lock.release();
    }
  });
});

// Red team finding 10: the data directory (PII vault, tokens, signing key) was world-readable.
describe('the data directory is the owner\'s only', () => {
  const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

  it('is created 0700, with the lock file 0600', async () => {
    const fresh = join(dataDir, 'nested', 'data');
    const lock = await lockDataDir(fresh);
    try {
      expect(await modeOf(fresh)).toBe(0o700);
      expect(await modeOf(join(fresh, LOCK_FILE))).toBe(0o600);
    } finally {
      await lock.release();
    }
  });

  it('an existing world-readable one is fixed at start: directories 0700, files 0600, links not followed', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'warden-outside-'));
    try {
      await mkdir(join(dataDir, 's3', 'bucket'), { recursive: true });
      await writeFile(join(dataDir, 'signing-key.jwk.json'), '{}');
      await writeFile(join(dataDir, 's3', 'bucket', 'vault.json'), '{}');
      await writeFile(join(outside, 'elsewhere.txt'), 'not ours');
      await symlink(join(outside, 'elsewhere.txt'), join(dataDir, 'link'));
      for (const dir of [dataDir, join(dataDir, 's3'), join(dataDir, 's3', 'bucket')]) await chmod(dir, 0o755);
      for (const file of [join(dataDir, 'signing-key.jwk.json'), join(dataDir, 's3', 'bucket', 'vault.json'), join(outside, 'elsewhere.txt')]) {
        await chmod(file, 0o644);
      }

      const lock = await lockDataDir(dataDir);
      await lock.release();

      expect(await modeOf(dataDir)).toBe(0o700);
      expect(await modeOf(join(dataDir, 's3'))).toBe(0o700);
      expect(await modeOf(join(dataDir, 's3', 'bucket'))).toBe(0o700);
      expect(await modeOf(join(dataDir, 'signing-key.jwk.json'))).toBe(0o600);
      expect(await modeOf(join(dataDir, 's3', 'bucket', 'vault.json'))).toBe(0o600);
      expect(await modeOf(join(outside, 'elsewhere.txt'))).toBe(0o644);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
