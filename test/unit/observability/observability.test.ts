import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { ModelProvider } from '../../../lambdas/shared/ports';
import { TABLES } from '../../../lambdas/shared/tables';
import type { InferenceResult } from '../../../lambdas/shared/schemas/workflow';

/**
 * The handlers' observability helpers, with logs and EMF actually written: the module is loaded
 * after the environment turns both on, and what it writes to stdout is what is asserted.
 */

type Observability = typeof import('../../../lambdas/shared/observability');
let o: Observability;
let written: string[];
let restore: () => void;

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Warden-GovernedRequest';

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.STATE_MACHINE_ARN = STATE_MACHINE_ARN;
  o = await import('../../../lambdas/shared/observability');
});

afterAll(() => {
  delete process.env.STATE_MACHINE_ARN;
});

beforeEach(() => {
  written = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  restore = () => spy.mockRestore();
});

afterEach(() => restore());

const lines = () => written.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
const emf = () => lines().filter((line) => '_aws' in line);
const logs = () => lines().filter((line) => !('_aws' in line));

describe('executionArnFor', () => {
  it('names the execution after the request, on the state machine the function runs for', () => {
    expect(o.executionArnFor('r_1')).toBe('arn:aws:states:eu-west-1:123456789012:execution:Warden-GovernedRequest:r_1');
    expect(o.executionArnFor('r_1', 'arn:aws:states:us-east-1:1:stateMachine:m')).toBe('arn:aws:states:us-east-1:1:execution:m:r_1');
  });

  it('is undefined when the state machine is unknown', () => {
    expect(o.executionArnFor('r_1', '')).toBeUndefined();
    expect(o.executionArnFor('r_1', 'not-an-arn')).toBeUndefined();
  });
});

describe('withObservability', () => {
  it('puts requestId, traceId, taskId and the derived executionArn on every line of the invocation', async () => {
    await o.withObservability({ requestId: 'r_42', traceId: '1-abc', taskId: 't_42' }, undefined, async () => {
      o.logger.info('one');
      o.logger.debug('two');
    });
    expect(logs()).toEqual([
      expect.objectContaining({
        message: 'one',
        requestId: 'r_42',
        traceId: '1-abc',
        taskId: 't_42',
        executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:r_42`,
      }),
      expect.objectContaining({ message: 'two', level: 'DEBUG', requestId: 'r_42' }),
    ]);
  });

  it("starts each invocation without the previous one's keys, and adds keys learned later", async () => {
    await o.withObservability({ requestId: 'r_old', taskId: 't_old' }, undefined, async () => o.logger.info('old'));
    await o.withObservability({ taskId: 't_new' }, undefined, async () => {
      o.logger.info('before');
      o.appendCorrelation({ requestId: 'r_new' });
      o.logger.info('after');
    });
    o.logger.info('outside');
    const [, before, after, outside] = logs();
    expect(before).toMatchObject({ taskId: 't_new' });
    expect(before).not.toHaveProperty('requestId');
    expect(before).not.toHaveProperty('executionArn');
    expect(after).toMatchObject({ taskId: 't_new', requestId: 'r_new', executionArn: expect.stringMatching(/:execution:.*:r_new$/) });
    expect(outside).not.toHaveProperty('taskId');
  });

  it('keeps the keys of concurrent invocations apart (local mode runs every handler in one process)', async () => {
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const invocation = (requestId: string) =>
      o.withObservability({ requestId }, undefined, async () => {
        for (let i = 0; i < 3; i++) {
          await tick();
          o.logger.info('step', { expected: requestId });
          o.recordMetric('RequestsSubmitted', 1);
        }
      });
    await Promise.all([invocation('r_a'), invocation('r_b'), invocation('r_c')]);
    const lines = logs();
    expect(lines).toHaveLength(9);
    for (const line of lines) expect(line.requestId).toBe(line.expected);
    // Each invocation published its own three data points.
    expect(emf().map((doc) => doc.RequestsSubmitted)).toEqual([[1, 1, 1], [1, 1, 1], [1, 1, 1]]);
  });

  it('adds the Lambda request id from the context', async () => {
    await o.withObservability({ requestId: 'r_1' }, { awsRequestId: 'lambda-req-1', functionName: 'warden-triage' }, async () => o.logger.info('with context'));
    expect(logs()[0]).toMatchObject({ function_request_id: 'lambda-req-1', function_name: 'warden-triage', requestId: 'r_1' });
  });

  it("reuses no key and no Lambda context of an earlier invocation (its logger may serve the next)", async () => {
    await o.withObservability({ requestId: 'r_first', taskId: 't_first' }, { awsRequestId: 'lambda-first', functionName: 'warden-approval' }, async () => o.logger.info('first'));
    await o.withObservability({ requestId: 'r_second' }, { awsRequestId: 'lambda-second', functionName: 'warden-approval' }, async () => o.logger.info('second'));
    await o.withObservability({ traceId: 'trace-third' }, undefined, async () => o.logger.info('third'));
    const [first, second, third] = logs();
    expect(first).toMatchObject({ function_request_id: 'lambda-first', requestId: 'r_first', taskId: 't_first' });
    expect(second).toMatchObject({ function_request_id: 'lambda-second', requestId: 'r_second' });
    expect(second).not.toHaveProperty('taskId');
    expect(third).toMatchObject({ traceId: 'trace-third' });
    for (const key of ['function_request_id', 'requestId', 'taskId']) expect(third).not.toHaveProperty(key);
  });

  it('a line logged by work an ended invocation left running never carries the next invocation\'s keys', async () => {
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    let late!: Promise<void>;
    await o.withObservability({ requestId: 'r_left' }, { awsRequestId: 'lambda-left', functionName: 'warden-approval' }, async () => {
      late = gate.then(() => o.logger.info('late'));
    });
    await o.withObservability({ requestId: 'r_next' }, { awsRequestId: 'lambda-next', functionName: 'warden-approval' }, async () => {
      letGo();
      await late;
      o.logger.info('next');
    });
    const byMessage = Object.fromEntries(logs().map((line) => [line.message, line]));
    expect(byMessage.next).toMatchObject({ requestId: 'r_next', function_request_id: 'lambda-next' });
    expect(byMessage.late).not.toHaveProperty('requestId');
    expect(byMessage.late).not.toHaveProperty('function_request_id');
  });

  it('keys added by work an ended invocation left running, or outside any, reach no later line', async () => {
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    let late!: Promise<void>;
    await o.withObservability({ requestId: 'r_left' }, undefined, async () => {
      late = gate.then(() => o.appendCorrelation({ taskId: 't_late' }));
    });
    letGo();
    await late;
    o.appendCorrelation({ requestId: 'r_outside' });
    o.logger.info('outside');
    await o.withObservability({ traceId: 'trace-next' }, undefined, async () => o.logger.info('next'));
    for (const line of logs()) {
      expect(line).not.toHaveProperty('taskId');
      expect(line).not.toHaveProperty('requestId');
    }
    expect(logs().map((line) => line.message)).toEqual(['outside', 'next']);
  });

  it('in Lambda, says cold_start on the first invocation of the process only', async () => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    try {
      let fresh!: Observability;
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        fresh = require('../../../lambdas/shared/observability') as Observability;
      });
      for (const id of ['first', 'second', 'third']) {
        await fresh.withObservability({}, { awsRequestId: id, functionName: 'warden-triage' }, async () => fresh.logger.info(id));
      }
      expect(logs().map((line) => [line.function_request_id, line.cold_start])).toEqual([
        ['first', true],
        ['second', false],
        ['third', false],
      ]);
    } finally {
      delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    }
  });

  it('publishes what the invocation recorded also when it throws', async () => {
    await expect(
      o.withObservability({ requestId: 'r_1' }, undefined, async () => {
        o.recordMetric('ValidationLatency', 3000);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(emf()).toEqual([expect.objectContaining({ ValidationLatency: 3000 })]);
  });
});

describe('metrics', () => {
  it('publishes one EMF document per dimension set, in the Warden namespace, and then nothing more', () => {
    o.recordMetric('Outcome', 1, { outcome: 'rejected' });
    o.recordMetric('Rejections', 1, { reason: 'amount_out_of_range' });
    o.recordMetric('Rejections', 1, { reason: 'customer_not_found' });
    o.recordMetric('ValidationLatency', 12.5);
    o.publishMetrics();
    const documents = emf();
    expect(documents).toHaveLength(4);
    for (const doc of documents) {
      const [directive] = (doc._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics;
      expect(directive.Namespace).toBe('Warden');
      expect(doc.service).toBe('warden');
    }
    expect(documents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Outcome: 1, outcome: 'rejected' }),
        expect.objectContaining({ Rejections: 1, reason: 'amount_out_of_range' }),
        expect.objectContaining({ Rejections: 1, reason: 'customer_not_found' }),
        expect.objectContaining({ ValidationLatency: 12.5 }),
      ]),
    );
    const latency = documents.find((doc) => 'ValidationLatency' in doc);
    expect(latency).not.toHaveProperty('outcome');
    expect(JSON.stringify(latency?._aws)).toContain('"Unit":"Milliseconds"');

    written = [];
    o.publishMetrics();
    expect(emf()).toEqual([]);
    expect(o.pendingMetrics()).toEqual([]);
  });

  it('keeps only the dimensions the catalogue gives a metric', () => {
    (o.recordMetric as (name: string, value: number, dims: Record<string, string>) => void)('ApprovalsDecided', 1, {
      decision: 'approved',
      requestId: 'r_must_not_be_a_dimension',
    });
    expect(o.pendingMetrics()).toEqual([{ name: 'ApprovalsDecided', value: 1, dimensions: { decision: 'approved' } }]);
    o.publishMetrics();
    expect(JSON.stringify(emf())).not.toContain('r_must_not_be_a_dimension');
  });

  it('ignores a value that is not a number', () => {
    o.recordMetric('ModelCostUsd', Number.NaN, { tier: 'low' });
    expect(o.pendingMetrics()).toEqual([]);
  });
});

describe('traceModelCalls', () => {
  const result: InferenceResult = {
    candidate: { action: 'refund' },
    confidence: 0.97,
    model: { provider: 'bedrock', id: 'anthropic.claude-3-haiku-20240307-v1:0', inputTokens: 812, outputTokens: 95, costUsd: 0.0003 },
  };

  class FakeSegment {
    readonly annotations: Record<string, unknown> = {};
    readonly children: FakeSegment[] = [];
    errors: Error[] = [];
    closed = false;
    constructor(readonly name: string) {}
    addNewSubsegment(name: string) {
      const child = new FakeSegment(name);
      this.children.push(child);
      return child;
    }
    addAnnotation(key: string, value: string | number | boolean) {
      this.annotations[key] = value;
    }
    addError(error: Error) {
      this.errors.push(error);
    }
    close() {
      this.closed = true;
    }
  }

  function fakeTracer(enabled = true) {
    const root = new FakeSegment('handler');
    let current = root;
    return {
      root,
      current: () => current,
      isTracingEnabled: () => enabled,
      getSegment: () => current,
      setSegment: (segment: FakeSegment) => {
        current = segment;
      },
    };
  }

  const provider = (propose: ModelProvider['propose']): ModelProvider => ({ name: 'bedrock', propose });

  it('runs each model call in an annotated "## inference" subsegment', async () => {
    const tracer = fakeTracer();
    const traced = o.traceModelCalls(provider(async () => result), tracer as never);
    expect(await traced.propose({ text: 'refund O-5001', tier: 'low' })).toEqual(result);
    expect(tracer.root.children).toHaveLength(1);
    const [sub] = tracer.root.children;
    expect(sub.name).toBe('## inference');
    expect(sub.annotations).toEqual({
      model_tier: 'low',
      model_provider: 'bedrock',
      model_id: 'anthropic.claude-3-haiku-20240307-v1:0',
      input_tokens: 812,
      output_tokens: 95,
    });
    expect(sub.closed).toBe(true);
    expect(tracer.current()).toBe(tracer.root);
  });

  it('records a failed call on the subsegment, closes it and rethrows', async () => {
    const tracer = fakeTracer();
    const failure = Object.assign(new Error('throttled'), { name: 'ModelUnavailable' });
    const traced = o.traceModelCalls(
      provider(async () => {
        throw failure;
      }),
      tracer as never,
    );
    await expect(traced.propose({ text: 'x', tier: 'high' })).rejects.toBe(failure);
    const [sub] = tracer.root.children;
    expect(sub.errors).toEqual([failure]);
    expect(sub.closed).toBe(true);
    expect(sub.annotations).not.toHaveProperty('model_id');
    expect(tracer.current()).toBe(tracer.root);
  });

  it('leaves the provider as it is when tracing is off (locally, in tests)', () => {
    const plain = provider(async () => result);
    expect(o.traceModelCalls(plain, fakeTracer(false) as never)).toBe(plain);
    expect(o.traceModelCalls(plain)).toBe(plain);
  });
});

describe('tracing where it is on, and nothing where it is off', () => {
  // Each case is what Powertools' own Tracer decides in the same environment.
  const CASES: Record<string, Record<string, string>> = {
    'no Lambda environment (npm start, tests)': {},
    'in Lambda': { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' },
    'in Lambda, turned off': { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'FALSE' },
    'in Lambda, turned on explicitly': { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'true' },
    'SAM local': { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', AWS_SAM_LOCAL: 'true' },
    'the Amplify mock': { AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' },
    'turned on outside Lambda': { POWERTOOLS_TRACE_ENABLED: 'true' },
  };
  const KEYS = ['AWS_EXECUTION_ENV', 'POWERTOOLS_TRACE_ENABLED', 'AWS_SAM_LOCAL'];

  it.each(Object.entries(CASES))('decides as Powertools Tracer does: %s', async (_name, env) => {
    const saved = Object.fromEntries(KEYS.map((key) => [key, process.env[key]]));
    try {
      for (const key of KEYS) delete process.env[key];
      Object.assign(process.env, env);
      const { Tracer } = await import('@aws-lambda-powertools/tracer');
      expect(o.tracingEnabled()).toBe(new Tracer().isTracingEnabled());
    } finally {
      for (const key of KEYS) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  /**
   * A fresh process wires a handler's stores and a model provider as a handler does, then says
   * whether the X-Ray SDK (and with it its async hooks) was loaded, and whether the client is captured.
   */
  function wireInFreshProcess(env: Record<string, string>): { xrayLoaded: boolean; captured: boolean; tracedProvider: boolean } {
    const script = `
      const runtime = require('./lambdas/shared/runtime');
      const o = require('./lambdas/shared/observability');
      const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
      runtime.requestStore();
      const client = o.captureClient(new DynamoDBClient({}));
      const provider = { name: 'rules', propose: async () => { throw new Error('not called'); } };
      const xrayLoaded = Object.keys(require.cache).some((file) => file.includes('/node_modules/aws-xray-sdk-core/'));
      const captured = client.middlewareStack.identify().some((name) => /xray|segment/i.test(name));
      process.stdout.write(JSON.stringify({ xrayLoaded, captured, tracedProvider: o.traceModelCalls(provider) !== provider }));
    `;
    const tables = Object.fromEntries(Object.values(TABLES).map((table) => [table.envVar, `test-${table.logicalName}`]));
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: path.join(__dirname, '..', '..', '..'),
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT', ...tables, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout) as { xrayLoaded: boolean; captured: boolean; tracedProvider: boolean };
  }

  it('never loads the X-Ray SDK in a process that does not trace', () => {
    expect(wireInFreshProcess({})).toEqual({ xrayLoaded: false, captured: false, tracedProvider: false });
    expect(wireInFreshProcess({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'false' })).toEqual({
      xrayLoaded: false,
      captured: false,
      tracedProvider: false,
    });
  }, 60_000);

  it('in Lambda with tracing on, captures the SDK clients and the model calls as before', () => {
    expect(wireInFreshProcess({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' })).toEqual({ xrayLoaded: true, captured: true, tracedProvider: true });
  }, 60_000);
});
