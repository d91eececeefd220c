import '../polyfills';
import { randomBytes, randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

/**
 * A local Step Functions: runs the repository's ASL file, unchanged, with aws-local-stepfunctions.
 * Lambda Task states call the real handlers in-process; `.waitForTaskToken` states hand the
 * handler a unique task token and wait for SendTaskSuccess/Failure (or the state's timeout).
 * The JSON protocol in front of it is `server.ts`.
 */

/** setTimeout's ceiling, in whole seconds (about 24.8 days). */
export const MAX_LOCAL_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export type LocalLambda = (payload: unknown) => Promise<unknown>;

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

export interface LocalStepFunctionsOptions {
  /** The ASL text with its `${Placeholder}`s, as in statemachines/. */
  definition: string;
  /** Placeholder name (e.g. `TriageFunctionArn`) → the handler it stands for. */
  functions: Record<string, LocalLambda>;
  stateMachineName?: string;
  region?: string;
  accountId?: string;
  /** Milliseconds between retries (the ASL's backoff is for AWS; locally 0 keeps tests fast). */
  retryDelayMs?: number;
}

export class LocalStepFunctions {
  readonly stateMachineArn: string;
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  private readonly retryOverrides: Record<string, number> = {};
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly finished = new Map<string, Promise<ExecutionRecord>>();
  private readonly aborts = new Map<string, () => void>();
  /** Open task tokens → the execution waiting on them. */
  private readonly waiters = new Map<string, Waiter>();
  /** Tokens whose wait has ended, and how: AWS answers TaskTimedOut for those that timed out. */
  private readonly closedTokens = new Map<string, 'timed_out' | 'closed'>();
  private readonly tokenOfExecution = new Map<string, string>();

  constructor(options: LocalStepFunctionsOptions) {
    const region = options.region ?? 'us-east-1';
    const account = options.accountId ?? '000000000000';
    const name = options.stateMachineName ?? 'warden-governed-request';
    this.stateMachineArn = `arn:aws:states:${region}:${account}:stateMachine:${name}`;

    const arnOf = (placeholder: string) => `arn:aws:lambda:${region}:${account}:function:warden-${placeholder.replace(/FunctionArn$/, '').toLowerCase()}`;
    const byArn = new Map<string, LocalLambda>();
    const text = options.definition.replace(/\$\{(\w+)\}/g, (_match, placeholder: string) => {
      const fn = options.functions[placeholder];
      if (!fn) throw new Error(`No local function for placeholder \${${placeholder}}`);
      byArn.set(arnOf(placeholder), fn);
      return arnOf(placeholder);
    });
    const definition = JSON.parse(text) as StateMachineDefinition & { States: Record<string, Record<string, unknown>> };
    for (const [stateName, state] of Object.entries(definition.States)) {
      // The library waits with one setTimeout, which overflows past 2^31 - 1 ms and fires at once.
      if (typeof state.TimeoutSeconds === 'number' && state.TimeoutSeconds > MAX_LOCAL_TIMEOUT_SECONDS) {
        throw new Error(`${stateName}: TimeoutSeconds ${state.TimeoutSeconds} exceeds the local maximum of ${MAX_LOCAL_TIMEOUT_SECONDS}`);
      }
    }
    this.machine = new StateMachine(definition);

    for (const [stateName, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      this.retryOverrides[stateName] = options.retryDelayMs ?? 0;
      const waits = String(state.Resource).endsWith('.waitForTaskToken');
      this.handlers[stateName] = async (input: unknown) => {
        const { FunctionName, Payload } = input as { FunctionName: string; Payload: unknown };
        const fn = byArn.get(FunctionName);
        if (!fn) throw new SfnError('Lambda.ResourceNotFoundException', `Function not found: ${FunctionName}`);
        if (!waits) return { StatusCode: 200, Payload: await fn(Payload) };
        const token = (Payload as { taskToken?: string }).taskToken;
        if (!token) throw new SfnError('States.Runtime', 'waitForTaskToken task without a task token in its payload');
        const waiting = new Promise<unknown>((resolve, reject) => {
          this.waiters.set(token, { resolve, reject });
        });
        await fn(Payload);
        return waiting;
      };
    }
  }

  startExecution(args: { name?: string; input?: string }): { executionArn: string; startDate: Date } {
    const name = args.name ?? randomUUID();
    const executionArn = this.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
    const input = args.input ?? '{}';
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.input === input && existing.status === 'RUNNING') return { executionArn, startDate: existing.startDate };
      throw new SfnError('ExecutionAlreadyExists', `Execution already exists: '${executionArn}'`);
    }
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SfnError('InvalidExecutionInput', 'Invalid execution input: not JSON');
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: this.stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate: new Date(),
      history: [],
    };
    this.executions.set(executionArn, record);

    // One wait state per execution path; a unique, opaque token per execution.
    const token = randomBytes(48).toString('base64url');
    this.tokenOfExecution.set(executionArn, token);
    const run = this.machine.run(parsedInput as never, {
      overrides: { taskResourceLocalHandlers: this.handlers as never, retryIntervalOverrides: this.retryOverrides },
      context: { Execution: { Id: executionArn, Name: name, StartTime: record.startDate.toISOString() }, Task: { Token: token } } as never,
      noThrowOnAbort: true,
    });
    this.aborts.set(executionArn, run.abort);
    void this.collectHistory(record, run.eventLogs, token);
    this.finished.set(
      executionArn,
      run.result.then(
        (output) => {
          if (record.status === 'RUNNING') {
            record.status = 'SUCCEEDED';
            record.output = JSON.stringify(output);
          }
          return this.close(record, token);
        },
        (error: unknown) => {
          const cause = (error as { cause?: { name?: string; message?: string } }).cause;
          record.status = error instanceof Error && error.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED';
          record.error = cause?.name ?? (error instanceof Error ? error.name : 'States.Runtime');
          record.cause = cause?.message ?? (error instanceof Error ? error.message : String(error));
          return this.close(record, token);
        },
      ),
    );
    return { executionArn, startDate: record.startDate };
  }

  private close(record: ExecutionRecord, token: string): ExecutionRecord {
    record.stopDate ??= new Date();
    this.aborts.delete(record.executionArn);
    if (this.waiters.delete(token) || !this.closedTokens.has(token)) this.closedTokens.set(token, 'closed');
    return record;
  }

  private async collectHistory(record: ExecutionRecord, events: AsyncGenerator<unknown>, token: string): Promise<void> {
    for await (const raw of events) {
      const event = raw as { type: string; timestamp: number; state?: { name: string }; Error?: string; Cause?: string };
      record.history.push({
        type: event.type,
        timestamp: event.timestamp,
        ...(event.state ? { stateName: event.state.name } : {}),
        ...(event.Error ? { error: event.Error } : {}),
        ...(event.Cause ? { cause: event.Cause } : {}),
      });
      // A wait that ended by timing out: its token answers TaskTimedOut from now on.
      if (event.type === 'StateFailed' && event.Error === 'States.Timeout' && this.waiters.has(token)) {
        this.waiters.delete(token);
        this.closedTokens.set(token, 'timed_out');
      }
    }
  }

  describeExecution(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn);
    if (!record) throw new SfnError('ExecutionDoesNotExist', `Execution does not exist: '${executionArn}'`);
    return record;
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
    const closed = this.closedTokens.get(token);
    if (closed === 'timed_out') throw new SfnError('TaskTimedOut', 'Task Timed Out');
    if (closed || [...this.tokenOfExecution.values()].includes(token)) throw new SfnError('TaskDoesNotExist', 'Task does not exist anymore');
    throw new SfnError('InvalidToken', 'Invalid Token');
  }

  sendTaskSuccess(token: string, output: string): void {
    let value: unknown;
    try {
      value = JSON.parse(output);
    } catch {
      throw new SfnError('InvalidOutput', 'Invalid output: not JSON');
    }
    const waiter = this.waiterFor(token);
    this.waiters.delete(token);
    this.closedTokens.set(token, 'closed');
    waiter.resolve(value);
  }

  sendTaskFailure(token: string, error?: string, cause?: string): void {
    const waiter = this.waiterFor(token);
    this.waiters.delete(token);
    this.closedTokens.set(token, 'closed');
    const failure = new Error(cause ?? '');
    failure.name = error ?? 'States.TaskFailed';
    waiter.reject(failure);
  }

  sendTaskHeartbeat(token: string): void {
    this.waiterFor(token);
  }

  stopExecution(executionArn: string, error?: string, cause?: string): Date {
    const record = this.describeExecution(executionArn);
    if (record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.error = error;
      record.cause = cause;
      record.stopDate = new Date();
      this.aborts.get(executionArn)?.();
    }
    return record.stopDate ?? new Date();
  }

  /** Aborts every running execution (shutdown). */
  stopAll(): void {
    for (const arn of [...this.aborts.keys()]) this.stopExecution(arn, 'Shutdown', 'local stack stopped');
  }
}
