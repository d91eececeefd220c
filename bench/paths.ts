import type { ExecutionRecord } from '../local/sfn/engine';
import { APPROVER, purchaseOrder, uniqueDescription, type BenchServer, type Json } from './harness';
import { ioCallsBudget, TRANSITIONS } from './budgets';
import { summarize, type IoSummary, type RecordedCall } from './io-recorder';
import { median, round } from './stats';

/**
 * One request per path through the local stack, over HTTP, with everything AWS would bill for it
 * counted from what actually ran: state transitions from the local execution history, Lambda
 * invocations, HTTP API requests, and the adapters' DynamoDB/S3/Step Functions calls.
 */

/** The Lambda each Task state invokes (statemachines/governed-request.asl.json). */
const FUNCTION_OF_STATE: Record<string, string> = {
  Triage: 'triage',
  Inference: 'inference',
  Validate: 'validation',
  AwaitApproval: 'dehydrate',
  Execute: 'execution',
  Finalize: 'finalize',
  MarkFailed: 'finalize',
};

export interface Transitions {
  /** StateEntered events: one per state the execution went through. */
  entered: number;
  /** StateRetried events: AWS bills each retry attempt as a transition too. */
  retries: number;
  billable: number;
  states: string[];
}

export interface PathFigures {
  /** What the request ended as (GET /v1/requests/{id}). */
  status: string;
  reasons?: unknown;
  /** Whether the path waits for an approver (budget ≤ 11) or not (≤ 8). */
  approval: boolean;
  /** `deterministic` (action + fields, no model) or `generative` (free text; the local rules provider stands in for the model). */
  route: string;
  transitions: Transitions;
  budget: number;
  met: boolean;
  /** Lambda invocations by function (Step Functions tasks, their retries, and the HTTP Lambdas). */
  invocations: Record<string, number>;
  /** Requests through the HTTP API: the client's submit and status read, the approver's list and decision. */
  httpRequests: number;
  io: IoSummary;
  /** DynamoDB + S3 calls of the request (submit to the requester's last read), against the path's budget when it has one. */
  calls: { count: number; budget?: number; met?: boolean };
}

export function transitionsOf(record: ExecutionRecord): Transitions {
  const entered = record.history.filter((event) => event.type === 'StateEntered');
  const retries = record.history.filter((event) => event.type === 'StateRetried').length;
  return { entered: entered.length, retries, billable: entered.length + retries, states: entered.map((event) => event.stateName ?? '?') };
}

function invocationsOf(record: ExecutionRecord, http: Record<string, number>): Record<string, number> {
  const counts: Record<string, number> = { ...http };
  for (const event of record.history) {
    if (event.type !== 'StateEntered' && event.type !== 'StateRetried') continue;
    const fn = FUNCTION_OF_STATE[event.stateName ?? ''];
    if (fn) counts[fn] = (counts[fn] ?? 0) + 1;
  }
  return counts;
}

interface PathScript {
  name: string;
  approval: boolean;
  /** Submits the request (as a requester of its own) and plays the approver if there is one; returns the request id. */
  run(bench: BenchServer, requester: string): Promise<{ requestId: string; http: Record<string, number> }>;
}

async function decide(bench: BenchServer, requestId: string, decision: 'approve' | 'reject'): Promise<void> {
  await bench.taskWritten(requestId);
  const listed = await bench.call(bench.approverToken, 'GET', '/v1/tasks');
  const task = (listed.body.tasks as Json[] | undefined)?.find((t) => t.requestId === requestId);
  if (!task) throw new Error(`${APPROVER.sub} does not see the task of ${requestId}: ${JSON.stringify(listed.body)}`);
  const decided = await bench.call(bench.approverToken, 'POST', `/v1/tasks/${String(task.taskId)}/decision`, {
    decision,
    approvalToken: task.approvalToken,
    comment: 'bench',
  });
  if (decided.status !== 200) throw new Error(`decision answered ${decided.status}: ${JSON.stringify(decided.body)}`);
}

const submitOnly = (body: () => Json): PathScript['run'] => async (bench, requester) => ({
  requestId: await bench.submit(body(), requester),
  http: { gateway: 1 },
});

const withDecision = (body: () => Json, decision: 'approve' | 'reject'): PathScript['run'] => async (bench, requester) => {
  const requestId = await bench.submit(body(), requester);
  await decide(bench, requestId, decision);
  return { requestId, http: { gateway: 1, approval: 2 } };
};

const freeText = (text: string): Json => ({ text });

/** The paths of issue 5, each structured (no model) and, where it differs, as free text. */
export const PATHS: PathScript[] = [
  { name: 'auto-approved', approval: false, run: submitOnly(() => purchaseOrder('Globex Corporation', 1200, 'office chairs')) },
  {
    name: 'auto-approved (free text)',
    approval: false,
    // Another vendor than the structured one: each round's two auto-approved orders stay under a vendor's 5,000 in 30 days.
    run: submitOnly(() => freeText(`Create a purchase order for Initech for $1,200 of ${uniqueDescription('office chairs')}`)),
  },
  { name: 'rejected', approval: false, run: submitOnly(() => purchaseOrder('Globex Corporation', 2_000_000, 'a campus')) },
  { name: 'approved', approval: true, run: withDecision(() => purchaseOrder('Alpha Tech Systems', 7850, 'workstations'), 'approve') },
  {
    name: 'approved (free text)',
    approval: true,
    run: withDecision(() => freeText(`Create a PO for Alpha Tech Systems for $7,850 of ${uniqueDescription('workstations')}`), 'approve'),
  },
  { name: 'rejected by approver', approval: true, run: withDecision(() => purchaseOrder('Alpha Tech Systems', 7850, 'workstations'), 'reject') },
];

/** Needs a stack whose approval wait times out in a second or two. */
export const EXPIRED_PATH: PathScript = {
  name: 'expired',
  approval: true,
  run: submitOnly(() => purchaseOrder('Alpha Tech Systems', 7850, 'workstations')),
};

export async function runPath(
  bench: BenchServer,
  script: PathScript,
  durations?: DurationCollector,
): Promise<{ figures: PathFigures; record: ExecutionRecord }> {
  // Each path's request is one order of its own requester, measured as the first of its kind.
  const requester = await bench.newRequesterToken();
  bench.recorder.restart();
  const httpBefore = bench.httpCalls();
  const { requestId, http } = await script.run(bench, requester);
  const record = await bench.waitForEnd(requestId, 60_000);
  const read = await bench.call(requester, 'GET', `/v1/requests/${requestId}`);
  const calls = bench.recorder.stop();
  durations?.addExecution(record, calls, bench.server.stack.env.TASKS_TABLE);
  const transitions = transitionsOf(record);
  const budget = script.approval ? TRANSITIONS.withApproval : TRANSITIONS.withoutApproval;
  const decision = read.body.decision as { reasons?: unknown } | undefined;
  const io = summarize(calls, [bench.server.stack.env.TASKS_TABLE]);
  const callCount = io.dynamodb.calls + io.s3.put + io.s3.get;
  const callBudget = ioCallsBudget(script.name);
  return {
    record,
    figures: {
      status: String(read.body.status),
      ...(decision?.reasons ? { reasons: decision.reasons } : {}),
      approval: script.approval,
      route: String(read.body.route ?? (transitions.states.includes('Inference') ? 'generative' : 'deterministic')),
      transitions,
      budget,
      met: transitions.billable <= budget,
      invocations: invocationsOf(record, { ...http, gateway: (http.gateway ?? 0) + 1 }),
      httpRequests: bench.httpCalls() - httpBefore,
      io,
      calls: { count: callCount, ...(callBudget === undefined ? {} : { budget: callBudget, met: callCount <= callBudget }) },
    },
  };
}

/** Per-function durations: Task states from the history, dehydrate up to its task write, HTTP Lambdas from the access log. */
export class DurationCollector {
  private readonly samples = new Map<string, number[]>();

  private add(fn: string, ms: number): void {
    const list = this.samples.get(fn) ?? [];
    list.push(ms);
    this.samples.set(fn, list);
  }

  addExecution(record: ExecutionRecord, calls: readonly RecordedCall[], tasksTable: string): void {
    const entered = new Map<string, number>();
    for (const event of record.history) {
      const state = event.stateName ?? '';
      if (event.type === 'StateEntered') entered.set(state, event.timestamp);
      if (event.type === 'StateExited' && entered.has(state) && state !== 'AwaitApproval') {
        const fn = FUNCTION_OF_STATE[state];
        if (fn) this.add(fn, event.timestamp - (entered.get(state) as number));
      }
    }
    const awaitEntered = entered.get('AwaitApproval');
    const taskWrite = calls.find((call) => call.operation === 'PutItem' && call.resource === tasksTable && !call.error);
    if (awaitEntered !== undefined && taskWrite?.endedAt !== undefined) this.add('dehydrate', taskWrite.endedAt - awaitEntered);
  }

  addAccessLog(accessLog: Map<string, number[]>): void {
    for (const [routeKey, values] of accessLog) {
      const fn = routeKey.includes('/v1/tasks') ? 'approval' : routeKey.includes('/v1/requests') ? 'gateway' : undefined;
      if (fn) for (const ms of values) this.add(fn, ms);
    }
  }

  medians(): Record<string, { medianMs: number; samples: number }> {
    const out: Record<string, { medianMs: number; samples: number }> = {};
    for (const [fn, values] of [...this.samples].sort(([a], [b]) => a.localeCompare(b))) {
      out[fn] = { medianMs: round(median(values)), samples: values.length };
    }
    return out;
  }
}
