import { startBenchServer, purchaseOrder, seedOpenTickets, ticketRouting, type BenchServer, type Json } from '../../../bench/harness';
import type { RecordedCall } from '../../../bench/io-recorder';

/**
 * The bench's I/O recorder watches the handlers' SDK clients wherever the handlers run: on a
 * thread of their own (as `npm start` runs them, and the bench measures them), its calls come back
 * to the bench before the answer that made them. It must see the very calls it sees in-process,
 * or every "calls per path" figure and every replayed floor would be another request's.
 */

// Tables by name; the audit key's id is each data directory's own.
const names = (calls: readonly RecordedCall[]) => calls.map((call) => `${call.service} ${call.operation} ${call.service === 'kms' ? '' : (call.resource ?? '')}`).sort();

async function routingCalls(bench: BenchServer): Promise<RecordedCall[]> {
  const [ticket] = await seedOpenTickets(bench, 1);
  bench.recorder.restart();
  const requestId = await bench.submit(ticketRouting(ticket));
  await bench.waitForEnd(requestId);
  const read = await bench.call(bench.requesterToken, 'GET', `/v1/requests/${requestId}`);
  const calls = bench.recorder.stop();
  expect(read.body.status).toBe('COMPLETED');
  return calls;
}

describe('the bench I/O recorder', () => {
  let inProcess: RecordedCall[];
  let onWorker: RecordedCall[];
  let escalated: { taskSeen: boolean; calls: RecordedCall[] };

  beforeAll(async () => {
    const here = await startBenchServer({ functions: 'in-process' });
    try {
      inProcess = await routingCalls(here);
    } finally {
      await here.stop();
    }
    const worker = await startBenchServer({ functions: 'worker' });
    try {
      onWorker = await routingCalls(worker);
      // The approval task's write is what the escalated cycle's wait watches (a PutItem between recordings too).
      const requestId = await worker.submit(purchaseOrder('Alpha Tech Systems', 7850, 'workstations') as Json);
      await worker.taskWritten(requestId, 20_000);
      worker.recorder.restart();
      const listed = await worker.call(worker.approverToken, 'GET', '/v1/tasks');
      const calls = worker.recorder.stop();
      escalated = { taskSeen: ((listed.body.tasks as Json[] | undefined) ?? []).some((task) => task.requestId === requestId), calls };
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it('records the same calls from the handlers on their own thread as in-process', () => {
    expect(inProcess.length).toBeGreaterThan(10);
    expect(names(onWorker)).toEqual(names(inProcess));
    expect(onWorker.filter((call) => call.service === 'dynamodb').every((call) => typeof call.capacityUnits === 'number')).toBe(true);
  });

  it("sees the approval task's write, and only the calls of what ran while it recorded", () => {
    expect(escalated.taskSeen).toBe(true);
    expect(escalated.calls.map((call) => `${call.service} ${call.operation}`)).toEqual(['dynamodb Query']);
  });
});
