import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { poll } from './http-client';

/**
 * `npm start` as a user runs it: the real entry point (`tsx local/start.ts`) in a child process,
 * configured only through the environment (API.md "Local mode settings").
 */

const REPO = resolve(__dirname, '../..');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NpmStart {
  child: ChildProcess;
  url: string;
  /** stdout and stderr as they arrived. */
  output(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

const children: ChildProcess[] = [];

/** A port that was free a moment ago: bind port 0, read it, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  await new Promise((resolveClose) => server.close(resolveClose));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Spawns `npm start` with `env` over the test's own environment; does not wait for anything.
 * `cwd` (default: the repository) is where it finds cdk.json, as npm's project root would be.
 */
export function spawnNpmStart(env: { PORT: number; WARDEN_DATA_DIR: string } & Record<string, string | number>, cwd = REPO): NpmStart {
  const child = spawn(TSX, [join(REPO, 'local', 'start.ts')], {
    cwd,
    env: { ...process.env, WARDEN_MODEL_PROVIDER: 'rules', ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stopAllNpmStarts can end tsx and the node process it runs together.
    detached: true,
  });
  children.push(child);
  let output = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<Exit>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  return { child, url: `http://127.0.0.1:${env.PORT}`, output: () => output, stderr: () => stderr, exited };
}

/** Spawns `npm start` and waits for GET /health to answer 200; throws with its output if it dies first. */
/** The banner's last line (local/start.ts). */
const BANNER_END = 'Ctrl-C stops the stack';

export async function startNpmStart(env: Parameters<typeof spawnNpmStart>[0], cwd?: string): Promise<NpmStart> {
  const started = spawnNpmStart(env, cwd);
  let dead = false;
  void started.exited.then(() => (dead = true));
  const healthy = await poll(
    async () => {
      if (dead) return false;
      try {
        return (await fetch(`${started.url}/health`)).status === 200;
      } catch {
        return false; // not listening yet
      }
    },
    (ok) => ok || dead,
    600,
    50,
  );
  if (!healthy) throw new Error(`npm start did not become healthy (exited: ${dead}). Output:\n${started.output()}`);
  // The API answers before the banner is printed (its dev tokens are minted after): wait for its last line.
  const bannered = await poll(
    async () => started.output().includes(BANNER_END),
    (done) => done || dead,
    600,
    50,
  );
  if (!bannered) throw new Error(`npm start printed no banner (exited: ${dead}). Output:\n${started.output()}`);
  return started;
}

export async function stopNpmStart(started: NpmStart): Promise<Exit> {
  started.child.kill('SIGTERM');
  return started.exited;
}

/** For afterAll: whatever happened, no child outlives the suite. */
export async function killAllNpmStarts(): Promise<void> {
  for (const child of children.splice(0)) {
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
}
