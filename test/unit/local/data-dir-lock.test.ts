import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
