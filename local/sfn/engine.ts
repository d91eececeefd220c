import '../node-version';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { allSettled } from '../../lambdas/shared/settled';
import { compactJournal, JournalLog, readJournalDir } from './journal';

/**
 * A local Step Functions: runs the repository's ASL file, unchanged, with aws-local-stepfunctions.
 * Lambda Task states call the real handlers in-process; `.waitForTaskToken` states hand the
 * handler a unique task token and wait for SendTaskSuccess/Failure (or the state's timeout).
 * With a journal directory, every execution is journaled as it moves, so a restart resumes each
 * running execution where it was — a waiting one keeps its token and the rest of its timeout.
 * The JSON protocol in front of it is `server.ts`.
 */

/** setTimeout's ceiling, in whole seconds (about 24.8 days): the longest wait one run arms at once. */
export const MAX_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export type LocalLambda = (payload: unknown, context: LambdaLikeContext) => Promise<unknown>;

/** The parts of the Lambda context object a handler might read. */
export interface LambdaLikeContext {
  functionName: string;
  awsRequestId: string;
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface HistoryEvent {
  type: string;
  timestamp: number;
  stateName?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
}

/** What the journal keeps beyond the record: where the execution is, and its callback. */
interface Journaled {
  record: ExecutionRecord;
  token: string;
  /** The state last entered and its raw input: a restart re-enters it. */
  cursor?: { stateName: string; input: unknown; enteredAt: number };
  /** Set once a callback state's handler has run: a restart only waits, it does not re-dispatch. */
  dispatched?: { stateName: string };
  tokenEnd?: 'timed_out' | 'closed';
}

/** Errors with the names the Step Functions API uses, so SDK callers can tell them apart. */
export class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

interface Waiter {
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

type AslState = Record<string, unknown> & { Type: string; Resource?: string; TimeoutSeconds?: number };

export interface LocalStepFunctionsOptions {
  /** The ASL text with its `${Placeholder}`s, as in statemachines/. */
  definition: string;
  /** Placeholder name (e.g. `TriageFunctionArn`) → the handler it stands for. */
  functions: Record<string, LocalLambda>;
  /** Where executions are journaled; in memory only when absent. */
  journalDir?: string;
  stateMachineName?: string;
  region?: string;
  accountId?: string;
  /** Milliseconds between retries (the ASL's backoff is for AWS; locally 0 keeps tests fast). */
  retryDelayMs?: number;
}

export class LocalStepFunctions {
  readonly stateMachineArn: string;
  private readonly definition: StateMachineDefinition & { StartAt: string; States: Record<string, AslState> };
  private readonly byArn = new Map<string, { name: string; fn: LocalLambda }>();
  private readonly retryOverrides: Record<string, number> = {};
  /** Each state's TimeoutSeconds as configured, before the local cap. */
  private readonly timeouts: Record<string, number> = {};
  private readonly executions = new Map<string, Journaled>();
  private readonly finished = new Map<string, Promise<ExecutionRecord>>();
  private readonly aborts = new Map<string, () => void>();
  /** Open task tokens → the execution waiting on them. */
  private readonly waiters = new Map<string, Waiter>();
  private readonly tokens = new Map<string, string>();
  private shuttingDown = false;

  constructor(private readonly options: LocalStepFunctionsOptions) {
    const region = options.region ?? 'us-east-1';
    const account = options.accountId ?? '000000000000';
    const machineName = options.stateMachineName ?? 'warden-governed-request';
    this.stateMachineArn = `arn:aws:states:${region}:${account}:stateMachine:${machineName}`;

    const text = options.definition.replace(/\$\{(\w+)\}/g, (_match, placeholder: string) => {
      const fn = options.functions[placeholder];
      if (!fn) throw new Error(`No local function for placeholder \${${placeholder}}`);
      const name = `warden-${placeholder.replace(/FunctionArn$/, '').toLowerCase()}`;
      const arn = `arn:aws:lambda:${region}:${account}:function:${name}`;
      this.byArn.set(arn, { name, fn });
      return arn;
    });
    this.definition = JSON.parse(text) as LocalStepFunctions['definition'];
    for (const [stateName, state] of Object.entries(this.definition.States)) {
      if (typeof state.TimeoutSeconds === 'number') {
        this.timeouts[stateName] = state.TimeoutSeconds;
        // The library waits with one setTimeout, which overflows past 2^31 - 1 ms and fires at once:
        // a longer wait is capped per run, and a restart re-arms it with what remains.
        state.TimeoutSeconds = Math.min(state.TimeoutSeconds, MAX_LOCAL_TIMEOUT_SECONDS);
      }
      if (state.Type === 'Task') this.retryOverrides[stateName] = options.retryDelayMs ?? 0;
    }
    // Validate once, now, so a broken definition fails at start-up rather than at first request.
    new StateMachine(this.definition);
    if (options.journalDir) mkdirSync(options.journalDir, { recursive: true, mode: 0o700 });
  }

  private isCallback(stateName: string): boolean {
    return String(this.definition.States[stateName]?.Resource ?? '').endsWith('.waitForTaskToken');
  }

  /** The library's handlers: Lambda tasks call the function; callback tasks also wait for the token. */
  private handlersFor(journaled: Journaled, stateContext: StateContext, resumeWaitOnly?: string): Record<string, (input: unknown) => Promise<unknown>> {
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    let skipDispatch = resumeWaitOnly;
    for (const [stateName, state] of Object.entries(this.definition.States)) {
      if (state.Type !== 'Task') continue;
      handlers[stateName] = async (input: unknown) => {
        stateContext.unpin();
        const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
        const target = this.byArn.get(FunctionName);
        if (!target) throw new SfnError('Lambda.ResourceNotFoundException', `Function not found: ${FunctionName}`);
        // After shutdown nothing runs: the journal resumes this state on the next start.
        if (this.shuttingDown) throw new SfnError('States.Runtime', 'local Step Functions is shutting down');
        const context = lambdaContext(target.name, FunctionName);
        if (!this.isCallback(stateName)) return { StatusCode: 200, Payload: await this.track(target.fn(Payload, context)) };

        const waiting = new Promise<unknown>((resolve, reject) => this.waiters.set(journaled.token, { resolve, reject }));
        // A shutdown may settle the wait while the dispatch below still runs, before the library
        // holds the promise: mark it handled so that is no unhandled rejection (the library
        // still sees the rejection when it gets the promise).
        waiting.catch(() => undefined);
        if (skipDispatch === stateName) {
          skipDispatch = undefined; // only the resumed wait itself; a retry dispatches again
        } else {
          journaled.dispatched = undefined;
          await this.track(target.fn(Payload, context));
          journaled.dispatched = { stateName };
          await this.persist(journaled);
        }
        return waiting;
      };
    }
    return handlers;
  }

  async startExecution(args: { name?: string; input?: string }): Promise<{ executionArn: string; startDate: Date }> {
    const name = args.name ?? randomUUID();
    const executionArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const input = args.input ?? '{}';
    const existing = this.executions.get(executionArn);
    if (existing) {
      // As in AWS: the same name and input while running is idempotent, anything else a conflict.
      if (existing.record.input === input && existing.record.status === 'RUNNING') {
        return { executionArn, startDate: existing.record.startDate };
      }
      throw new SfnError('ExecutionAlreadyExists', `Execution already exists: '${executionArn}'`);
    }
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SfnError('InvalidExecutionInput', 'Invalid execution input: not JSON');
    }
    const journaled: Journaled = {
      record: { executionArn, stateMachineArn: this.stateMachineArn, name, input, status: 'RUNNING', startDate: new Date(), history: [] },
      // Opaque and unguessable, like the real thing.
      token: randomBytes(48).toString('base64url'),
    };
    this.executions.set(executionArn, journaled);
    this.tokens.set(journaled.token, executionArn);
    // On disk before the caller hears it started: a restart resumes it (from the start, until a state is entered).
    try {
      await this.persist(journaled);
    } catch (error) {
      // Not started: a retry with the same name starts it afresh, instead of hearing it is already running.
      this.executions.delete(executionArn);
      this.tokens.delete(journaled.token);
      throw error;
    }
    // Stopped, or the engine shut down, while that was written: it does not run (a restart resumes it then).
    if (this.shuttingDown || journaled.record.status !== 'RUNNING') return { executionArn, startDate: journaled.record.startDate };
    this.run(journaled, this.definition, parsedInput);
    return { executionArn, startDate: journaled.record.startDate };
  }

  private run(
    journaled: Journaled,
    definition: StateMachineDefinition,
    input: unknown,
    resume?: { waitOnly?: string; enteredAt?: number },
  ): void {
    const { record } = journaled;
    // Validated once in the constructor; a resumed copy starts mid-way, so earlier states look unreachable.
    const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
    const stateContext = contextState(resume?.enteredAt);
    const execution = machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.handlersFor(journaled, stateContext, resume?.waitOnly) as never,
        retryIntervalOverrides: this.retryOverrides,
      },
      context: {
        Execution: { Id: record.executionArn, Name: record.name, StartTime: record.startDate.toISOString() },
        State: stateContext,
        Task: { Token: journaled.token },
      } as never,
      noThrowOnAbort: true,
    });
    this.aborts.set(record.executionArn, execution.abort);
    void this.follow(journaled, execution.eventLogs, resume !== undefined);
    this.finished.set(
      record.executionArn,
      execution.result.then(
        (output) => {
          if (!this.shuttingDown && record.status === 'RUNNING') {
            record.status = 'SUCCEEDED';
            record.output = JSON.stringify(output);
          }
          return this.end(journaled);
        },
        (error: unknown) => {
          if (!this.shuttingDown && record.status === 'RUNNING') {
            const cause = (error as { cause?: { name?: string; message?: string } }).cause;
            record.status = error instanceof Error && error.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED';
            record.error = cause?.name ?? (error instanceof Error ? error.name : 'States.Runtime');
            record.cause = cause?.message ?? (error instanceof Error ? error.message : String(error));
          }
          return this.end(journaled);
        },
      ),
    );
  }

  private async end(journaled: Journaled): Promise<ExecutionRecord> {
    this.aborts.delete(journaled.record.executionArn);
    // A shutdown leaves the journal as it was: the next start resumes from there.
    if (this.shuttingDown) return journaled.record;
    journaled.record.stopDate ??= new Date();
    this.waiters.delete(journaled.token);
    journaled.tokenEnd ??= 'closed';
    // Where it was is only for resuming it: an ended execution keeps (and writes) its record alone.
    delete journaled.cursor;
    await this.persist(journaled);
    return journaled.record;
  }

  private async follow(journaled: Journaled, events: AsyncGenerator<unknown>, resumed: boolean): Promise<void> {
    let skipRestart = resumed;
    for await (const raw of events) {
      if (this.shuttingDown) return;
      const event = raw as { type: string; timestamp: number; state?: { name: string; input?: unknown }; Error?: string; Cause?: string };
      // A resumed run re-enters the state it stopped in: that is not a new transition.
      if (skipRestart && (event.type === 'ExecutionStarted' || event.type === 'StateEntered')) {
        if (event.type === 'StateEntered') skipRestart = false;
        continue;
      }
      journaled.record.history.push({
        type: event.type,
        timestamp: event.timestamp,
        ...(event.state ? { stateName: event.state.name } : {}),
        ...(event.Error ? { error: event.Error } : {}),
        ...(event.Cause ? { cause: event.Cause } : {}),
      });
      if (event.type === 'StateEntered' && event.state) {
        journaled.cursor = { stateName: event.state.name, input: event.state.input, enteredAt: event.timestamp };
        this.persistSoon(journaled);
      }
      // A wait that ended by timing out: its token answers TaskTimedOut from now on.
      if (event.type === 'StateFailed' && event.Error === 'States.Timeout' && this.waiters.delete(journaled.token)) {
        journaled.tokenEnd = 'timed_out';
        await this.persist(journaled);
      }
    }
  }

  /** Journals behind memory, written once the current turn of the event loop is over. */
  private readonly behind = new Set<Journaled>();
  /** Appends the journal's snapshots, in the order they are taken; made with the first. */
  private writer: JournalLog | undefined;

  /**
   * Writes the journal where it must be on disk before anything else happens (an execution
   * started, a callback dispatched, a token closed, an execution ended): the caller awaits it.
   */
  private persist(journaled: Journaled): Promise<void> {
    this.behind.delete(journaled);
    if (!this.options.journalDir || this.shuttingDown) return Promise.resolve();
    return this.writeJournal(journaled);
  }

  /**
   * A state entered: written after this turn. A Choice and the state it picks are entered in the
   * same turn and share one write; a crash before it lands resumes the state before, which runs
   * again as a retry would.
   */
  private persistSoon(journaled: Journaled): void {
    // An ended execution's last snapshot is end()'s: an event read after it adds nothing to resume from.
    if (!this.options.journalDir || this.shuttingDown || journaled.record.stopDate) return;
    if (this.behind.size === 0) setImmediate(() => this.writeBehind());
    this.behind.add(journaled);
  }

  private writeBehind(): void {
    for (const journaled of this.behind) {
      // As loud as a synchronous write would be: a journal that cannot be written is not hidden.
      this.writeJournal(journaled).catch((error: unknown) =>
        setImmediate(() => {
          throw error;
        }),
      );
    }
    this.behind.clear();
  }

  /** Appends a snapshot of the execution as it is now to the journal (`journal.ts`); rejects if it could not. */
  private writeJournal(journaled: Journaled): Promise<void> {
    this.writer ??= new JournalLog(this.options.journalDir as string);
    try {
      this.writer.append(JSON.stringify(journaled));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Loads the journal and resumes every execution that was running: a callback state that had
   * dispatched waits again on the same token for the rest of its timeout; any other state is
   * entered again with the input it had (as a retry would). Returns how many were resumed.
   */
  resumeFromJournal(): number {
    const dir = this.options.journalDir;
    if (!dir) return 0;
    let resumed = 0;
    // An execution whose start crashed in its first write has no whole line: it was never answered to its caller.
    const { executions, lines, legacyFiles } = readJournalDir<Journaled>(dir);
    // Ended executions keep their end alone: where they were (each state's input) serves no resume.
    let compact = lines > executions.size || legacyFiles.length > 0;
    for (const journaled of executions.values()) {
      if (journaled.record.status !== 'RUNNING' && journaled.cursor) {
        delete journaled.cursor;
        compact = true;
      }
    }
    // Before anything runs: the log is one line per execution, each the last it had.
    if (compact) compactJournal(dir, executions.values(), legacyFiles);
    for (const journaled of executions.values()) {
      const record = journaled.record;
      record.startDate = new Date(record.startDate);
      if (record.stopDate) record.stopDate = new Date(record.stopDate);
      this.executions.set(record.executionArn, journaled);
      this.tokens.set(journaled.token, record.executionArn);
      if (record.status !== 'RUNNING') {
        this.finished.set(record.executionArn, Promise.resolve(record));
        continue;
      }
      if (!journaled.cursor) {
        // Journaled as started, with no state entered yet: it starts again from the beginning.
        this.run(journaled, this.definition, JSON.parse(record.input) as unknown);
        resumed++;
        continue;
      }
      const { stateName, input, enteredAt } = journaled.cursor;
      const definition = { ...this.definition, StartAt: stateName, States: { ...this.definition.States } };
      const waitOnly = journaled.dispatched?.stateName === stateName && this.isCallback(stateName) ? stateName : undefined;
      const timeout = this.timeouts[stateName];
      // Its timeout runs from the first entry (below), so its `$$.State.EnteredTime` must too.
      if (timeout !== undefined) {
        // The timeout runs from when the state was first entered, not from the restart.
        const remaining = Math.ceil((enteredAt + timeout * 1000 - Date.now()) / 1000);
        definition.States[stateName] = {
          ...definition.States[stateName],
          TimeoutSeconds: Math.min(MAX_LOCAL_TIMEOUT_SECONDS, Math.max(1, remaining)),
        };
      }
      this.run(journaled, definition, input, { waitOnly, ...(timeout !== undefined ? { enteredAt } : {}) });
      resumed++;
    }
    return resumed;
  }

  describeExecution(executionArn: string): ExecutionRecord {
    const journaled = this.executions.get(executionArn);
    if (!journaled) throw new SfnError('ExecutionDoesNotExist', `Execution does not exist: '${executionArn}'`);
    return journaled.record;
  }

  /** Resolves when the execution has ended (tests and the demo wait on it instead of sleeping). */
  waitForEnd(executionArn: string): Promise<ExecutionRecord> {
    const finished = this.finished.get(executionArn);
    if (!finished) throw new SfnError('ExecutionDoesNotExist', `Execution does not exist: '${executionArn}'`);
    return finished;
  }

  private waiterFor(token: string): Waiter {
    const waiter = this.waiters.get(token);
    if (waiter) return waiter;
    const arn = this.tokens.get(token);
    if (!arn) throw new SfnError('InvalidToken', 'Invalid Token');
    if (this.executions.get(arn)?.tokenEnd === 'timed_out') throw new SfnError('TaskTimedOut', 'Task Timed Out');
    throw new SfnError('TaskDoesNotExist', 'Task does not exist anymore');
  }

  /** Closes the token (a second answer finds it gone at once) and journals that before the wait goes on. */
  private async closeToken(token: string): Promise<void> {
    this.waiters.delete(token);
    const arn = this.tokens.get(token);
    const journaled = arn ? this.executions.get(arn) : undefined;
    if (journaled) {
      journaled.tokenEnd = 'closed';
      await this.persist(journaled);
    }
  }

  async sendTaskSuccess(token: string, output: string): Promise<void> {
    let value: unknown;
    try {
      value = JSON.parse(output);
    } catch {
      throw new SfnError('InvalidOutput', 'Invalid output: not JSON');
    }
    const waiter = this.waiterFor(token);
    await this.closeToken(token);
    waiter.resolve(value);
  }

  async sendTaskFailure(token: string, error?: string, cause?: string): Promise<void> {
    const waiter = this.waiterFor(token);
    await this.closeToken(token);
    const failure = new Error(cause ?? '');
    failure.name = error ?? 'States.TaskFailed';
    waiter.reject(failure);
  }

  sendTaskHeartbeat(token: string): void {
    this.waiterFor(token);
  }

  async stopExecution(executionArn: string, error?: string, cause?: string): Promise<Date> {
    const journaled = this.executions.get(executionArn);
    if (!journaled) throw new SfnError('ExecutionDoesNotExist', `Execution does not exist: '${executionArn}'`);
    const { record } = journaled;
    if (record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.error = error;
      record.cause = cause;
      record.stopDate = new Date();
      this.aborts.get(executionArn)?.();
      // Settle a parked wait too, so its timeout timer is cleared and the token answers TaskDoesNotExist.
      this.waiters.get(journaled.token)?.reject(new SfnError('States.Runtime', 'execution stopped'));
      this.waiters.delete(journaled.token);
      journaled.tokenEnd = 'closed';
      await this.persist(journaled);
    }
    return record.stopDate ?? new Date();
  }

  /** Handler invocations still running: shutdown waits for them before the stores go away. */
  private readonly inFlight = new Set<Promise<unknown>>();

  private track<T>(invocation: Promise<T>): Promise<T> {
    this.inFlight.add(invocation);
    const forget = () => this.inFlight.delete(invocation);
    invocation.then(forget, forget);
    return invocation;
  }

  /**
   * Stops every run in memory and leaves the journal untouched, so a restart resumes them.
   * Resolves once the handlers already running have returned (no new ones start).
   */
  async shutdown(): Promise<void> {
    // The journal catches up with memory first: a restart resumes from the last state entered.
    const catchingUp = [...this.behind].map((journaled) => this.persist(journaled));
    this.shuttingDown = true;
    for (const abort of this.aborts.values()) abort();
    this.aborts.clear();
    // Settle the parked waits too, so the library clears their timeout timers and the process can exit.
    for (const waiter of this.waiters.values()) waiter.reject(new SfnError('States.Runtime', 'local Step Functions is shutting down'));
    this.waiters.clear();
    await Promise.allSettled([...this.inFlight, ...catchingUp]);
    try {
      this.writer?.close();
    } finally {
      this.writer = undefined;
    }
    // As loud as the writes while running: a journal that could not catch up is not hidden.
    await allSettled(catchingUp);
  }
}

/**
 * `$$.State` of the context object, which aws-local-stepfunctions (3.x) does not fill in: only
 * `EnteredTime` (what the ASL reads). The library evaluates a state's Parameters in the same
 * synchronous step that enters it (and starts its timeout right after), so the time of the read
 * is the state's entered time; a retry re-enters and restarts its timeout locally, and reads
 * its own time. A resumed run re-enters a state whose timeout counts from its first entry:
 * the first read answers that entry instead.
 */
interface StateContext {
  readonly EnteredTime: string;
  /** The resumed state's handler ran (after its Parameters): later states read their own time. */
  unpin(): void;
}

function contextState(resumedEnteredAt?: number): StateContext {
  let pinned = resumedEnteredAt;
  // An own getter, not a class accessor: the library's JSONPath reads own properties only.
  return {
    get EnteredTime() {
      const at = pinned ?? Date.now();
      pinned = undefined;
      return new Date(at).toISOString();
    },
    unpin: () => {
      pinned = undefined;
    },
  };
}

function lambdaContext(functionName: string, invokedFunctionArn: string): LambdaLikeContext {
  const deadline = Date.now() + 60_000;
  return {
    functionName,
    invokedFunctionArn,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}
