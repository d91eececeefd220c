import { parentPort, workerData } from 'node:worker_threads';
import { Replayer } from './cycle';
import type { RecordedCall } from './io-recorder';

/**
 * The I/O ceiling's replays on a thread of their own (bench/throughput.ts): the same replays of
 * one request's calls, by as many concurrent loops, with their SDK clients off the emulators'
 * thread, as the handlers' clients are in local mode. Told the replays, it answers the seconds
 * they took.
 */

export interface ReplayJob {
  replays: RecordedCall[][];
  workers: number;
}

export interface ReplayAnswer {
  seconds: number;
  errors: number;
}

if (!parentPort) throw new Error('bench/replay-worker.ts runs as a worker thread started by bench/throughput.ts');
const port = parentPort;
const replayer = new Replayer((workerData as { env: Record<string, string> }).env);

port.on('message', (job: ReplayJob) => {
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const loop = async () => {
    while (next < job.replays.length) errors += (await replayer.replay(job.replays[next++])).errors;
  };
  Promise.all(Array.from({ length: job.workers }, loop)).then(
    () => port.postMessage({ seconds: (performance.now() - started) / 1000, errors } satisfies ReplayAnswer),
    (error: unknown) => port.postMessage({ failed: String(error) }),
  );
});
port.postMessage({ ready: true });
