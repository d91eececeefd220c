import { parentPort, workerData } from 'node:worker_threads';
import { Replayer, replayAll } from './cycle';
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

if (!parentPort) throw new Error('bench/replay-worker.ts runs as a worker thread started by bench/replay-thread.ts');
const port = parentPort;
const replayer = new Replayer((workerData as { env: Record<string, string> }).env);

port.on('message', (job: ReplayJob) => {
  replayAll(replayer, job.replays, job.workers).then(
    (answer) => port.postMessage(answer satisfies ReplayAnswer),
    (error: unknown) => port.postMessage({ failed: String(error) }),
  );
});
port.postMessage({ ready: true });
