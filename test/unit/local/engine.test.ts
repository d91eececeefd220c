import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStepFunctions, type LocalLambda } from '../../../local/sfn/engine';
import { JOURNAL_FILE, readJournalDir } from '../../../local/sfn/journal';

/**
 * The local Step Functions engine on a small machine of the same shape as Warden's: a Lambda
 * task, a callback wait with a timeout and a Catch, then a Lambda task.
 */

const DEFINITION = JSON.stringify({
  StartAt: 'Prepare',
  States: {
    Prepare: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${PrepareFunctionArn}', 'Payload.$': '$' },
      OutputPath: '$.Payload',
      Next: 'Wait',
    },
    Wait: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: '${ParkFunctionArn}', Payload: { 'taskToken.$': '$$.Task.Token', 'enteredAt.$': '$$.State.EnteredTime', 'state.$': '$' } },
      TimeoutSeconds: 2,
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Finish' }],
      Next: 'Finish',
    },
    Finish: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${FinishFunctionArn}', 'Payload.$': '$' },
      OutputPath: '$.Payload',
      End: true,
    },
  },
});

let dir: string;

/** What the journal in `journalDir` holds for an execution: its last whole snapshot. */
function journaled<T>(journalDir: string, executionArn: string): (T & { record: { executionArn: string } }) | undefined {
  return readJournalDir<T & { record: { executionArn: string } }>(journalDir).executions.get(executionArn);
}

/** The journal's lines as written (blank lines aside). */
function journalLines(journalDir: string): string[] {
  return readFileSync(join(journalDir, JOURNAL_FILE), 'utf8').split('\n').filter(Boolean);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-engine-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function engineWith(parked: string[], journalDir?: string, enteredAts: string[] = []) {
  const functions: Record<string, LocalLambda> = {
    PrepareFunctionArn: async (payload) => ({ ...(payload as object), prepared: true }),
    ParkFunctionArn: async (payload) => {
      parked.push((payload as { taskToken: string }).taskToken);
      enteredAts.push((payload as { enteredAt: string }).enteredAt);
      return {};
    },
    FinishFunctionArn: async (payload) => ({ finished: payload }),
  };
  return new LocalStepFunctions({ definition: DEFINITION, functions, ...(journalDir ? { journalDir } : {}) });
}

async function parkedToken(parked: string[]): Promise<string> {
  for (let i = 0; i < 200 && parked.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return parked[parked.length - 1];
}

it('hands the callback a token and continues with what SendTaskSuccess returns', async () => {
  const parked: string[] = [];
  const engine = engineWith(parked);
  const { executionArn } = await engine.startExecution({ name: 'one', input: '{"a":1}' });
  const token = await parkedToken(parked);
  await engine.sendTaskSuccess(token, JSON.stringify({ decided: 'yes' }));
  const record = await engine.waitForEnd(executionArn);
  expect(record.status).toBe('SUCCEEDED');
  expect(JSON.parse(record.output!)).toEqual({ finished: { decided: 'yes' } });
  await expect(engine.sendTaskSuccess(token, '{}')).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
  await expect(engine.sendTaskSuccess('not-a-token', '{}')).rejects.toMatchObject({ name: 'InvalidToken' });
});

it('times the wait out into the Catch, after which the token answers TaskTimedOut', async () => {
  const parked: string[] = [];
  const enteredAts: string[] = [];
  const engine = engineWith(parked, undefined, enteredAts);
  const { executionArn } = await engine.startExecution({ name: 'late', input: '{}' });
  const token = await parkedToken(parked);
  const record = await engine.waitForEnd(executionArn);
  expect(JSON.parse(record.output!)).toMatchObject({ finished: { prepared: true, error: { Error: 'States.Timeout' } } });
  await expect(engine.sendTaskSuccess(token, '{}')).rejects.toMatchObject({ name: 'TaskTimedOut' });

  // $$.State.EnteredTime (the library has no $$.State): when the wait was entered, which its timeout counts from.
  const entered = record.history.find((e) => e.type === 'StateEntered' && e.stateName === 'Wait')!.timestamp;
  const timedOut = record.history.find((e) => e.type === 'StateFailed' && e.error === 'States.Timeout')!.timestamp;
  expect(enteredAts).toHaveLength(1);
  const enteredTime = Date.parse(enteredAts[0]);
  expect(enteredAts[0]).toBe(new Date(enteredTime).toISOString());
  expect(Math.abs(enteredTime - entered)).toBeLessThanOrEqual(2);
  expect(timedOut - enteredTime).toBeGreaterThanOrEqual(2000);
});

it("resumes a wait whose dispatch a restart cut short: dispatched again, its EnteredTime and timeout from the first entry", async () => {
  let release!: () => void;
  const dispatched = new Promise<void>((resolve) => (release = resolve));
  let entered!: (at: string) => void;
  const firstDispatch = new Promise<string>((resolve) => (entered = resolve));
  const first = new LocalStepFunctions({
    definition: DEFINITION,
    functions: {
      PrepareFunctionArn: async (payload) => payload,
      ParkFunctionArn: async (payload) => {
        entered((payload as { enteredAt: string }).enteredAt);
        await dispatched; // the stack stops while this state is still being parked
        return {};
      },
      FinishFunctionArn: async (payload) => ({ finished: payload }),
    },
    journalDir: dir,
  });
  const { executionArn } = await first.startExecution({ name: 'cut-short', input: '{}' });
  const firstEnteredAt = await firstDispatch;
  // The journal has the wait as the current state once its history shows the entry.
  const enteredWait = () => first.describeExecution(executionArn).history.some((e) => e.type === 'StateEntered' && e.stateName === 'Wait');
  for (let i = 0; i < 200 && !enteredWait(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(enteredWait()).toBe(true);
  const stopped = first.shutdown();
  release();
  await stopped;
  // The restart comes later than the first entry: the timeout must not start over.
  await new Promise((resolve) => setTimeout(resolve, 1200));

  const parked: string[] = [];
  const enteredAts: string[] = [];
  const restartedAt = Date.now();
  const second = engineWith(parked, dir, enteredAts);
  expect(second.resumeFromJournal()).toBe(1);
  const record = await second.waitForEnd(executionArn);
  // The first entry's time, not the restart's (1.2 s later). The journal keeps the library's
  // StateEntered timestamp, which it takes a millisecond or so before the first run's read.
  expect(enteredAts).toHaveLength(1);
  expect(Math.abs(Date.parse(enteredAts[0]!) - Date.parse(firstEnteredAt))).toBeLessThanOrEqual(5);
  expect(JSON.parse(record.output!)).toMatchObject({ finished: { error: { Error: 'States.Timeout' } } });
  const timedOut = record.history.find((e) => e.type === 'StateFailed' && e.error === 'States.Timeout')!.timestamp;
  // Whole seconds locally (the remaining, under 1 s, is rounded up to 1 s): never before the first
  // entry's deadline, and sooner than a fresh 2 s from the restart would be.
  expect(timedOut - Date.parse(firstEnteredAt)).toBeGreaterThanOrEqual(2000);
  expect(timedOut - restartedAt).toBeLessThan(2000);
});

it('journals a state entered without a shutdown: a process that dies mid-dispatch resumes in that state, not the one before', async () => {
  const prepared: unknown[] = [];
  let parkedOnce!: () => void;
  const parking = new Promise<void>((resolve) => (parkedOnce = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const first = new LocalStepFunctions({
    definition: DEFINITION,
    functions: {
      PrepareFunctionArn: async (payload) => (prepared.push(payload), { prepared: true }),
      // Still dispatching when the first process goes away.
      ParkFunctionArn: async () => (parkedOnce(), await released, {}),
      FinishFunctionArn: async (payload) => payload,
    },
    journalDir: dir,
  });
  const { executionArn } = await first.startExecution({ name: 'dies-mid-dispatch', input: '{"n":1}' });
  await parking;
  // No shutdown: the journal must already be where the execution is (written as the state is entered).
  const cursor = () => journaled<{ cursor?: { stateName: string } }>(dir, executionArn)?.cursor?.stateName;
  for (let i = 0; i < 200 && cursor() !== 'Wait'; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(cursor()).toBe('Wait');
  // The first process goes away mid-dispatch (it writes nothing more once stopping).
  const stopped = first.shutdown();
  release();
  await stopped;

  const parked: string[] = [];
  const second = engineWith(parked, dir);
  expect(second.resumeFromJournal()).toBe(1);
  const token = await parkedToken(parked);
  await second.sendTaskSuccess(token, JSON.stringify({ approved: true }));
  const record = await second.waitForEnd(executionArn);
  expect(record.status).toBe('SUCCEEDED');
  // Prepare ran once, in the first process: the resumed run re-entered Wait and dispatched it again.
  expect(prepared).toEqual([{ n: 1 }]);
  expect(record.history.filter((e) => e.type === 'StateEntered').map((e) => e.stateName)).toEqual(['Prepare', 'Wait', 'Finish']);
});

it('resumes an execution journaled as started before any state was entered: it runs from the start', async () => {
  const first = engineWith([], dir);
  const { executionArn } = await first.startExecution({ name: 'just-started', input: '{"c":3}' });
  // What a process that died right after answering StartExecution leaves: the start's journal, no state entered.
  const atStart = journalLines(dir)[0];
  expect(JSON.parse(atStart)).toMatchObject({ record: { executionArn, status: 'RUNNING' } });
  expect(JSON.parse(atStart)).not.toHaveProperty('cursor');
  await first.shutdown();
  const crashed = mkdtempSync(join(tmpdir(), 'warden-engine-crashed-'));
  try {
    writeFileSync(join(crashed, JOURNAL_FILE), `${atStart}\n`);
    const parked: string[] = [];
    const second = engineWith(parked, crashed);
    expect(second.resumeFromJournal()).toBe(1);
    await second.sendTaskSuccess(await parkedToken(parked), JSON.stringify({ approved: true }));
    const record = await second.waitForEnd(executionArn);
    expect(record.status).toBe('SUCCEEDED');
    expect(record.history.filter((e) => e.type === 'StateEntered').map((e) => e.stateName)).toEqual(['Prepare', 'Wait', 'Finish']);
    await second.shutdown();
  } finally {
    rmSync(crashed, { recursive: true, force: true });
  }
});

it('refuses to start an execution whose journal cannot be written, and says why; snapshots land in the order taken', async () => {
  const broken = mkdtempSync(join(tmpdir(), 'warden-engine-broken-'));
  try {
    const engine = engineWith([], broken);
    // The directory turns into a file: every write under it fails (ENOTDIR), as on a full or read-only disk.
    rmSync(broken, { recursive: true });
    writeFileSync(broken, '');
    await expect(engine.startExecution({ name: 'unwritable', input: '{}' })).rejects.toThrow(/journal write failed: .*ENOTDIR/);
    // Not started, not remembered as running: a retry (the SDK retries a 500) is refused the same way, not told it runs.
    await expect(engine.startExecution({ name: 'unwritable', input: '{}' })).rejects.toThrow(/journal write failed: .*ENOTDIR/);
    expect(() => engine.describeExecution(`${engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:unwritable`)).toThrow(/does not exist/);
    await engine.shutdown();
  } finally {
    rmSync(broken, { recursive: true, force: true });
  }
  // Many executions at once: the journal holds each one's last snapshot last, not an earlier one.
  const parked: string[] = [];
  const engine = engineWith(parked, dir);
  const names = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
  await Promise.all(names.map((name) => engine.startExecution({ name, input: '{}' })));
  for (let i = 0; i < 400 && parked.length < names.length; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(parked).toHaveLength(names.length);
  await engine.shutdown();
  for (const name of names) {
    const arn = `${engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const journal = journaled<{ cursor?: { stateName: string }; dispatched?: { stateName: string } }>(dir, arn);
    expect([journal?.cursor?.stateName, journal?.dispatched?.stateName]).toEqual(['Wait', 'Wait']);
  }
});

it('resumes a waiting execution after a restart: same token, no second dispatch', async () => {
  const parked: string[] = [];
  const first = engineWith(parked, dir);
  const { executionArn } = await first.startExecution({ name: 'survivor', input: '{"b":2}' });
  const token = await parkedToken(parked);
  await first.shutdown();

  const afterRestart: string[] = [];
  const second = engineWith(afterRestart, dir);
  expect(second.resumeFromJournal()).toBe(1);
  expect(second.describeExecution(executionArn).status).toBe('RUNNING');
  await second.sendTaskSuccess(token, JSON.stringify({ approved: true }));
  const record = await second.waitForEnd(executionArn);
  expect(record.status).toBe('SUCCEEDED');
  expect(JSON.parse(record.output!)).toEqual({ finished: { approved: true } });
  expect(afterRestart).toEqual([]);
  // One entry per state: the resumed wait is not counted as a second transition.
  expect(record.history.filter((e) => e.type === 'StateEntered').map((e) => e.stateName)).toEqual(['Prepare', 'Wait', 'Finish']);
});

it('a journal is its snapshots, one line each: a torn last line (a crash mid-append) resumes from the one before; an earlier version\'s file is read and folded in; a start compacts, an end is appended', async () => {
  const parked: string[] = [];
  const first = engineWith(parked, dir);
  const { executionArn } = await first.startExecution({ name: 'torn', input: '{"t":1}' });
  const token = await parkedToken(parked);
  await first.shutdown();
  const written = journalLines(dir);
  // The start, then the states entered and the dispatch: appended, not rewritten (the states
  // entered in one turn of the event loop share one snapshot).
  expect(written.length).toBeGreaterThan(1);
  expect(journaled<{ dispatched?: { stateName: string } }>(dir, executionArn)?.dispatched).toEqual({ stateName: 'Wait' });

  const crashed = mkdtempSync(join(tmpdir(), 'warden-engine-torn-'));
  try {
    // Its last snapshot torn.
    writeFileSync(join(crashed, JOURNAL_FILE), `${written.join('\n')}\n{"record":{"executionArn":"${executionArn}","status":"SUCC`);
    // And an execution as earlier versions journaled it: a file of its own (here one JSON document, no newline).
    const older = await (async () => {
      const olderParked: string[] = [];
      const engine = engineWith(olderParked, dir);
      const started = await engine.startExecution({ name: 'older-format', input: '{"o":1}' });
      await parkedToken(olderParked);
      await engine.shutdown();
      return started.executionArn;
    })();
    writeFileSync(join(crashed, 'older-format.json'), JSON.stringify(journaled(dir, older)));

    const afterRestart: string[] = [];
    const second = engineWith(afterRestart, crashed);
    expect(second.resumeFromJournal()).toBe(2);
    // The start compacted the log to one line per execution, the earlier version's file folded in.
    expect(existsSync(join(crashed, 'older-format.json'))).toBe(false);
    expect(journalLines(crashed).map((line) => (JSON.parse(line) as { record: { executionArn: string } }).record.executionArn)).toEqual([older, executionArn]);
    await second.sendTaskSuccess(token, JSON.stringify({ approved: true }));
    const record = await second.waitForEnd(executionArn);
    expect(record.status).toBe('SUCCEEDED');
    expect(afterRestart).toEqual([]);
    expect(second.describeExecution(older).status).toBe('RUNNING');
    await second.shutdown();
    // The end is appended last.
    const ended = journalLines(crashed);
    expect(ended.length).toBeGreaterThan(2);
    expect(JSON.parse(ended.at(-1)!)).toMatchObject({ record: { executionArn, status: 'SUCCEEDED' } });
    expect(JSON.parse(ended.at(-1)!)).not.toHaveProperty('cursor');

    // The next start makes the log each execution's last line alone, and still knows which ended.
    const third = engineWith([], crashed);
    expect(third.resumeFromJournal()).toBe(1);
    expect(third.describeExecution(executionArn).status).toBe('SUCCEEDED');
    expect(third.describeExecution(older).status).toBe('RUNNING');
    await third.shutdown();
    const compacted = journalLines(crashed).map((line) => JSON.parse(line) as { record: { executionArn: string; status: string } });
    expect(compacted.map((snapshot) => [snapshot.record.executionArn, snapshot.record.status])).toEqual([
      [older, 'RUNNING'],
      [executionArn, 'SUCCEEDED'],
    ]);
    expect(readdirSync(crashed)).toEqual([JOURNAL_FILE]);
  } finally {
    rmSync(crashed, { recursive: true, force: true });
  }
});

it('shuts down cleanly while a callback task is still being dispatched (no unhandled rejection)', async () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    let release!: () => void;
    const dispatched = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const dispatching = new Promise<void>((resolve) => (entered = resolve));
    const engine = new LocalStepFunctions({
      definition: DEFINITION,
      functions: {
        PrepareFunctionArn: async (payload) => payload,
        ParkFunctionArn: async () => {
          entered();
          await dispatched; // still parking the state when the stack stops
          return {};
        },
        FinishFunctionArn: async (payload) => payload,
      },
      journalDir: dir,
    });
    await engine.startExecution({ name: 'mid-dispatch', input: '{}' });
    await dispatching;
    const stopped = engine.shutdown();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await stopped;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', record);
  }
});

it('refuses a second execution with the same name and a different input', async () => {
  const engine = engineWith([]);
  await engine.startExecution({ name: 'dup', input: '{"x":1}' });
  await expect(engine.startExecution({ name: 'dup', input: '{"x":2}' })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  return engine.shutdown();
});
