import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStepFunctions, readJournal, type LocalLambda } from '../../../local/sfn/engine';

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
  const journal = join(dir, 'dies-mid-dispatch.json');
  const cursor = () => readJournal<{ cursor?: { stateName: string } }>(readFileSync(journal, 'utf8'))?.cursor?.stateName;
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
  const atStart = readFileSync(join(dir, 'just-started.json'), 'utf8');
  expect(JSON.parse(atStart)).not.toHaveProperty('cursor');
  await first.shutdown();
  const crashed = mkdtempSync(join(tmpdir(), 'warden-engine-crashed-'));
  try {
    writeFileSync(join(crashed, 'just-started.json'), atStart);
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
    await engine.shutdown();
  } finally {
    rmSync(broken, { recursive: true, force: true });
  }
  // Many executions at once: each journal ends with its execution's last snapshot, not an earlier one.
  const parked: string[] = [];
  const engine = engineWith(parked, dir);
  const names = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
  await Promise.all(names.map((name) => engine.startExecution({ name, input: '{}' })));
  for (let i = 0; i < 400 && parked.length < names.length; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(parked).toHaveLength(names.length);
  await engine.shutdown();
  for (const name of names) {
    const journal = readJournal<{ cursor?: { stateName: string }; dispatched?: { stateName: string } }>(readFileSync(join(dir, `${name}.json`), 'utf8')) ?? {};
    expect([journal.cursor?.stateName, journal.dispatched?.stateName]).toEqual(['Wait', 'Wait']);
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

it('a journal is its snapshots, one line each: a torn last line (a crash mid-append) resumes from the one before, and the end is appended last', async () => {
  const parked: string[] = [];
  const first = engineWith(parked, dir);
  const { executionArn } = await first.startExecution({ name: 'torn', input: '{"t":1}' });
  const token = await parkedToken(parked);
  await first.shutdown();
  const written = readFileSync(join(dir, 'torn.json'), 'utf8');
  // The start, then the states entered and the dispatch: appended, not rewritten (the states
  // entered in one turn of the event loop share one snapshot).
  expect(written.split('\n').filter(Boolean).length).toBeGreaterThan(1);
  const last = readJournal<{ dispatched?: { stateName: string } }>(written);
  expect(last?.dispatched).toEqual({ stateName: 'Wait' });

  const crashed = mkdtempSync(join(tmpdir(), 'warden-engine-torn-'));
  try {
    // Its last snapshot torn; and a journal as earlier versions wrote it (one JSON document, no newline).
    writeFileSync(join(crashed, 'torn.json'), `${written}\n{"record":{"executionArn":"${executionArn}","status":"SUCC`);
    const { executionArn: oldArn } = await (async () => {
      const olderParked: string[] = [];
      const older = engineWith(olderParked, dir);
      const started = await older.startExecution({ name: 'older-format', input: '{"o":1}' });
      await parkedToken(olderParked);
      await older.shutdown();
      return started;
    })();
    writeFileSync(join(crashed, 'older-format.json'), JSON.stringify(readJournal(readFileSync(join(dir, 'older-format.json'), 'utf8'))));

    const afterRestart: string[] = [];
    const second = engineWith(afterRestart, crashed);
    expect(second.resumeFromJournal()).toBe(2);
    await second.sendTaskSuccess(token, JSON.stringify({ approved: true }));
    const record = await second.waitForEnd(executionArn);
    expect(record.status).toBe('SUCCEEDED');
    expect(afterRestart).toEqual([]);
    expect(second.describeExecution(oldArn).status).toBe('RUNNING');
    await second.shutdown();
    // The ended execution's journal ends with its end, after the torn line and the rest.
    const ended = readFileSync(join(crashed, 'torn.json'), 'utf8');
    expect(ended.startsWith(written)).toBe(true);
    expect(JSON.parse(ended.trim().split('\n').at(-1)!)).toMatchObject({ record: { status: 'SUCCEEDED' } });

    // The next start makes it its end alone (no state input, no earlier line), and still knows it ended.
    const third = engineWith([], crashed);
    expect(third.resumeFromJournal()).toBe(1);
    expect(third.describeExecution(executionArn).status).toBe('SUCCEEDED');
    await third.shutdown();
    const compacted = readFileSync(join(crashed, 'torn.json'), 'utf8');
    expect(compacted.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(compacted)).toMatchObject({ record: { status: 'SUCCEEDED' } });
    expect(JSON.parse(compacted)).not.toHaveProperty('cursor');
    expect(readdirSync(crashed).filter((file) => file.endsWith('.tmp'))).toEqual([]);
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
