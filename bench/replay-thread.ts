import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { typeScriptWorker } from '../local/functions';
import type { RecordedCall } from './io-recorder';
import type { ReplayAnswer, ReplayJob } from './replay-worker';

/**
 * Replays of recorded calls with their SDK clients on a thread of their own (bench/replay-worker.ts),
 * laid out as local mode lays out the handlers and their clients (local/functions.ts): the floors
 * and ceilings the bench holds Warden to pay the same crossing between threads its calls do.
 */
export class ReplayThread {
  private readonly worker: Worker;
  private readonly answers: (ReplayAnswer | { failed: string })[] = [];
  private waiting: (() => void) | undefined;
  private readonly ready: Promise<void>;

  constructor(env: Record<string, string>) {
    this.worker = typeScriptWorker(join(__dirname, 'replay-worker.ts'), { workerData: { env } });
    this.worker.on('message', (answer: ReplayAnswer | { failed: string } | { ready: true }) => {
      if ('ready' in answer) return;
      this.answers.push(answer);
      this.waiting?.();
    });
    this.worker.on('error', (error) => {
      this.answers.push({ failed: String(error) });
      this.waiting?.();
    });
    // A thread that exits without an error (process.exit in it) still answers the run waiting on it.
    this.worker.on('exit', (code) => {
      this.answers.push({ failed: `the replay thread exited (code ${code})` });
      this.waiting?.();
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the replay thread exited (code ${code}) before it was ready`)));
    });
    // Awaited by the first run, which may come a cycle later: a load failure waits for it there.
    this.ready.catch(() => undefined);
  }

  /** Runs `replays` by `workers` concurrent loops; answers the seconds they took there and how many calls answered with an error. */
  async run(job: ReplayJob): Promise<ReplayAnswer> {
    await this.ready;
    this.worker.postMessage(job);
    while (this.answers.length === 0) await new Promise<void>((resolve) => (this.waiting = resolve));
    const answer = this.answers.shift() as ReplayAnswer | { failed: string };
    if ('failed' in answer) throw new Error(`replay thread: ${answer.failed}`);
    return answer;
  }

  /** One replay, its calls one after another (as `Replayer.replay`). */
  async replay(calls: readonly RecordedCall[]): Promise<{ ms: number; errors: number }> {
    const { seconds, errors } = await this.run({ replays: [[...calls]], workers: 1 });
    return { ms: seconds * 1000, errors };
  }

  destroy(): Promise<number> {
    return this.worker.terminate();
  }
}
