import * as clients from '../lambdas/shared/adapters/aws/clients';
import type { InstrumentModule } from '../local/functions-protocol';
import { IoRecorder, type RecorderCommand, type RecorderEvent } from './io-recorder';

/**
 * Loaded by the local stack on the handlers' thread (`instrument` in local/stack.ts): the I/O
 * recorder on the SDK clients the handlers use there, each call it sees posted to the bench's
 * `RemoteRecorder` (bench/io-recorder.ts), which drives it.
 */
export const instrument: InstrumentModule['instrument'] = (post) => {
  const recorder = new IoRecorder().attachAll(clients);
  // Every call while recording; between recordings only the task writes the bench's waits watch
  // (posting every PutItem across threads cost this thread 0.4 ms per throughput request).
  const tasksTable = process.env.TASKS_TABLE;
  recorder.onCall((call) => post({ call } satisfies RecorderEvent), { putsTo: tasksTable });
  return (message) => {
    const command = message as RecorderCommand;
    if ('restart' in command) recorder.restart(command.restart);
    else recorder.stop();
  };
};
