import * as fs from 'node:fs';
import { WORKFLOW_FUNCTIONS } from '../../lib/constructs/functions';
import { ModelAccessDenied, ModelNotFound, ModelSettingError, ModelUnavailable } from '../../lambdas/shared/errors';
import { ASL_FILE, aslPlaceholders, functionArnPlaceholder } from '../../lib/constructs/workflow';
import { exportedErrorClasses } from '../support/error-classes';

/**
 * The ASL file itself, as written: the one orchestration for CDK and for local mode.
 */

// asl-validator ships no type declarations.
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };

interface Retrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
  JitterStrategy?: string;
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
}
interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}
interface State {
  Type: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Next?: string;
  Default?: string;
  End?: boolean;
  Choices?: { Next: string }[];
  Retry?: Retrier[];
  Catch?: Catcher[];
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  HeartbeatSeconds?: number;
}
interface Definition {
  StartAt: string;
  States: Record<string, State>;
}

const text = fs.readFileSync(ASL_FILE, 'utf8');
const definition = JSON.parse(text) as Definition;
const states = Object.entries(definition.States);
const tasks = states.filter(([, state]) => state.Type === 'Task');

function targets(state: State): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((choice) => choice.Next),
    ...(state.Catch ?? []).map((catcher) => catcher.Next),
  ];
}

it('is valid ASL according to asl-validator', () => {
  const result = aslValidator(definition);
  expect(result.errors).toEqual([]);
  expect(result.isValid).toBe(true);
});

it('has tasks to check', () => {
  expect(tasks.length).toBeGreaterThanOrEqual(6);
});

it('sends every transition (Next, Default, Choices, Catch) to a state that exists', () => {
  expect(definition.States[definition.StartAt]).toBeDefined();
  for (const [, state] of states) {
    for (const target of targets(state)) expect(Object.keys(definition.States)).toContain(target);
  }
});

it('reaches every state from StartAt', () => {
  const seen = new Set<string>();
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...targets(definition.States[name]));
  }
  expect([...seen].sort()).toEqual(Object.keys(definition.States).sort());
});

describe.each(tasks)('task %s', (_name, state) => {
  it('retries with full jitter and a bounded number of attempts', () => {
    expect(state.Retry?.length).toBeGreaterThan(0);
    for (const retrier of state.Retry ?? []) {
      expect(retrier.JitterStrategy).toBe('FULL');
      expect(Number.isInteger(retrier.MaxAttempts)).toBe(true);
      expect(retrier.MaxAttempts).toBeGreaterThanOrEqual(1);
      expect(retrier.MaxAttempts).toBeLessThanOrEqual(5);
      expect(retrier.MaxDelaySeconds).toBeGreaterThan(0);
    }
  });

  it('retries transient Lambda service errors', () => {
    const retried = (state.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
    expect(retried).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']));
  });

  it('catches everything else (States.ALL last) and keeps the input', () => {
    const catchers = state.Catch ?? [];
    expect(catchers.length).toBeGreaterThan(0);
    expect(catchers[catchers.length - 1].ErrorEquals).toEqual(['States.ALL']);
    for (const catcher of catchers) expect(catcher.ResultPath).toMatch(/^\$\./);
  });

  it('invokes a workflow function through a placeholder', () => {
    expect(state.Resource).toMatch(/^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/);
    const allowed = WORKFLOW_FUNCTIONS.map((name) => '${' + functionArnPlaceholder(name) + '}');
    expect(allowed).toContain(state.Parameters?.FunctionName);
  });
});

describe('AwaitApproval', () => {
  const state = definition.States.AwaitApproval;

  it('invokes the dehydrate function with a task token and waits for it', () => {
    expect(state.Type).toBe('Task');
    expect(state.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(state.Parameters).toMatchObject({
      FunctionName: '${DehydrateFunctionArn}',
      Payload: { 'taskToken.$': '$$.Task.Token' },
    });
  });

  it("hands the dehydrate function the moment the wait began: the task's deadline and TimeoutSeconds share one clock", () => {
    expect(state.Parameters).toMatchObject({ Payload: { 'waitEnteredAt.$': '$$.State.EnteredTime' } });
  });

  it('never waits forever: a TimeoutSeconds that config replaces (lib/asl.ts)', () => {
    expect(state.TimeoutSeconds).toBe(604800);
    expect(state.TimeoutSecondsPath).toBeUndefined();
  });

  it('sends States.Timeout to Finalize (EXPIRED, never executed), before any catch-all', () => {
    const catchers = state.Catch ?? [];
    const timeout = catchers.findIndex((catcher) => catcher.ErrorEquals.includes('States.Timeout'));
    const catchAll = catchers.findIndex((catcher) => catcher.ErrorEquals.includes('States.ALL'));
    expect(timeout).toBeGreaterThanOrEqual(0);
    expect(catchers[timeout].Next).toBe('Finalize');
    expect(timeout).toBeLessThan(catchAll);
  });

  it('is the only task that waits for a token', () => {
    const waiting = tasks.filter(([, s]) => s.Resource?.endsWith('.waitForTaskToken')).map(([name]) => name);
    expect(waiting).toEqual(['AwaitApproval']);
  });
});

it('uses only placeholders that the workflow construct can substitute', () => {
  const substitutable = WORKFLOW_FUNCTIONS.map(functionArnPlaceholder);
  for (const placeholder of aslPlaceholders(text)) expect(substitutable).toContain(placeholder);
});

it('reaches Execute only after an approved decision', () => {
  const intoExecute = states.filter(([, state]) => targets(state).includes('Execute')).map(([name]) => name);
  expect(intoExecute.sort()).toEqual(['ApprovalOutcome', 'Outcome']);
  const outcome = definition.States.Outcome.Choices as unknown as { StringEquals: string; Next: string }[];
  expect(outcome.find((choice) => choice.Next === 'Execute')?.StringEquals).toBe('approved');
  const approval = definition.States.ApprovalOutcome.Choices as unknown as { StringEquals: string; Next: string }[];
  expect(approval.find((choice) => choice.Next === 'Execute')?.StringEquals).toBe('APPROVED');
});

it('retries and catches only errors that exist: Step Functions\' own, the Lambda service\'s, or a name Warden\'s code gives an error', () => {
  const thrown = new Set(exportedErrorClasses().map(([, Class]) => Class.name));
  const named = states.flatMap(([, state]) => [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((rule) => rule.ErrorEquals));
  const warden = named.filter((name) => !name.startsWith('States.') && !name.startsWith('Lambda.'));
  expect(warden.length).toBeGreaterThan(0);
  for (const name of warden) expect([name, thrown.has(name)]).toEqual([name, true]);
});

it('retries a system-of-record read left incomplete by throttling, in every step that reads it', () => {
  for (const name of ['Validate', 'Execute', 'Finalize', 'MarkFailed']) {
    const retried = (definition.States[name].Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);
    expect([name, retried]).toEqual([name, expect.arrayContaining(['BatchReadIncomplete'])]);
  }
});

describe('Inference: model failures', () => {
  const retried = (definition.States.Inference.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);

  it('retries ModelUnavailable (throttled, timed out, a server fault: the provider already backed off) a bounded number of times', () => {
    const retrier = definition.States.Inference.Retry?.find((r) => r.ErrorEquals.includes(new ModelUnavailable('throttled', 'x').name));
    expect(retrier).toMatchObject({ ErrorEquals: ['ModelUnavailable'], JitterStrategy: 'FULL' });
    expect(retrier?.MaxAttempts).toBeGreaterThanOrEqual(1);
  });

  it('never retries a failure another attempt cannot fix: it goes straight to MarkFailed', () => {
    const permanent = [new ModelAccessDenied('access_denied', 'x'), new ModelNotFound('not_found', 'x'), new ModelSettingError('setting_refused', 'x')].map((e) => e.name);
    expect(permanent).toEqual(['ModelAccessDenied', 'ModelNotFound', 'ModelSettingError']);
    for (const name of [...permanent, 'States.ALL', 'States.TaskFailed']) expect(retried).not.toContain(name);
    expect(definition.States.Inference.Catch?.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'MarkFailed', ResultPath: '$.error' });
  });
});
