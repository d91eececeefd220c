import { readFileSync } from 'node:fs';
import { createServer, type Http2Server } from 'node:http2';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { ModelAccessDenied, ModelCallFailed, ModelNotFound, ModelSettingError, ModelUnavailable, modelFailureCauseOf } from '../../../lambdas/shared/errors';
import { createModelProvider } from '../../../lambdas/shared/models';
import { BedrockProvider } from '../../../lambdas/shared/models/bedrock';

/**
 * The Bedrock provider against a real local server speaking the Converse protocol (REST-JSON
 * over HTTP/2, as the SDK's client talks it; errors named by `x-amzn-errortype`), with dummy
 * credentials: every way a call can fail ends as a named error with its code and cause class,
 * retried only when another attempt could succeed, and never quoting the request text or the
 * service's own message.
 */

type Answer = { status: number; type?: string; message?: string; body?: unknown } | 'hang';

const LOW = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';
const HIGH = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const TEXT = 'Refund $120 on order O-5001 for customer C-1002, item arrived damaged';
// What Bedrock's own messages can carry: must never reach ours.
const ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/warden-inference/session';

const converseOutput = () => {
  const { $metadata: _metadata, ...wire } = JSON.parse(readFileSync(join(__dirname, '../../fixtures/bedrock/refund.text-then-tool-use.json'), 'utf8'));
  return wire as unknown;
};

let server: Http2Server;
let endpoint: string;
let answers: Answer[];
let received: { path: string; authorization: string }[];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ path: req.url, authorization: String(req.headers.authorization ?? '') });
      const answer = answers.shift() ?? { status: 500, type: 'InternalServerException', message: 'no answer queued' };
      if (answer === 'hang') return; // never answers: the client's timeout must fire
      res.writeHead(answer.status, {
        'content-type': 'application/json',
        ...(answer.type ? { 'x-amzn-errortype': `${answer.type}:http://internal.amazon.com/coral/com.amazon.bedrock/` } : {}),
      });
      res.end(JSON.stringify(answer.body ?? { message: answer.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let sleeps: number[];
beforeEach(() => {
  answers = [];
  received = [];
  sleeps = [];
});

function client(at = endpoint) {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: at,
    credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret' },
    maxAttempts: 1,
  });
}

function provider(options: { maxAttempts?: number; timeoutMs?: number; budgetMs?: number; at?: string } = {}) {
  return new BedrockProvider({
    client: client(options.at),
    modelIds: { low: LOW, high: HIGH },
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    retry: {
      maxAttempts: options.maxAttempts ?? 3,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...(options.budgetMs ? { budgetMs: options.budgetMs } : {}),
    },
  });
}

/** The error a propose call ends with, and what Step Functions would hand MarkFailed for it. */
async function failure(p: BedrockProvider): Promise<{ error: ModelCallFailed; code: string; cause: string | undefined }> {
  const error = await p.propose({ text: TEXT, action: 'refund', tier: 'low' }).then(
    () => {
      throw new Error('expected the model call to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelCallFailed);
  const named = error as ModelCallFailed;
  // Never the request text, the credentials, or what the service said.
  for (const secret of ['O-5001', 'C-1002', 'AKIDLOCALTEST', 'local-test-secret', ROLE_ARN, '123456789012']) expect(named.message).not.toContain(secret);
  // As Lambda serializes a thrown error into the Cause Step Functions passes on.
  const lambdaCause = JSON.stringify({ errorType: named.name, errorMessage: named.message, trace: [] });
  return { error: named, code: named.code, cause: modelFailureCauseOf({ Error: named.name, Cause: lambdaCause }) };
}

describe('BedrockProvider against a local Converse server', () => {
  it('answers with the tool use when the server does, after a throttled first attempt', async () => {
    answers.push({ status: 429, type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' }, { status: 200, body: converseOutput() });

    const result = await provider().propose({ text: TEXT, action: 'refund', tier: 'low' });

    expect(result.candidate).toMatchObject({ action: 'refund', fields: { orderId: 'O-5001' } });
    expect(received).toHaveLength(2);
    expect(received[0]?.path).toBe(`/model/${encodeURIComponent(LOW)}/converse`);
    expect(received[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\//);
    expect(sleeps).toEqual([50]);
  });

  it.each([
    ['403 AccessDeniedException', { status: 403, type: 'AccessDeniedException', message: `User: ${ROLE_ARN} is not authorized to perform: bedrock:InvokeModel` }, ModelAccessDenied, 'model_access_denied', 'access_denied'],
    ['403 model access not enabled', { status: 403, type: 'AccessDeniedException', message: "You don't have access to the model with the specified model ID." }, ModelAccessDenied, 'model_access_denied', 'access_denied'],
    ['403 UnrecognizedClientException', { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }, ModelAccessDenied, 'model_access_denied', 'invalid_credentials'],
    ['403 ExpiredTokenException', { status: 403, type: 'ExpiredTokenException', message: 'The security token included in the request is expired' }, ModelAccessDenied, 'model_access_denied', 'invalid_credentials'],
    ['404 ResourceNotFoundException', { status: 404, type: 'ResourceNotFoundException', message: 'Model not found.' }, ModelNotFound, 'model_not_found', 'not_found'],
    ['404 end of its life', { status: 404, type: 'ResourceNotFoundException', message: 'This model version has reached the end of its life. Please refer to the AWS documentation for more details.' }, ModelNotFound, 'model_not_found', 'end_of_life'],
    ['400 end of its life', { status: 400, type: 'ValidationException', message: 'This model version has reached the end of its life. Please refer to the AWS documentation for more details.' }, ModelNotFound, 'model_not_found', 'end_of_life'],
    ['404 Legacy', { status: 404, type: 'ResourceNotFoundException', message: 'Access denied. This Model is marked by provider as Legacy and you have not been actively using the model in the last 15 days.' }, ModelNotFound, 'model_not_found', 'end_of_life'],
    ['400 model identifier is invalid', { status: 400, type: 'ValidationException', message: 'The provided model identifier is invalid.' }, ModelNotFound, 'model_not_found', 'not_found'],
    ['400 on-demand throughput', { status: 400, type: 'ValidationException', message: "Invocation of model ID anthropic.claude-x with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model." }, ModelSettingError, 'model_misconfigured', 'inference_profile_required'],
    ['400 another ValidationException', { status: 400, type: 'ValidationException', message: `The maximum tokens you requested exceeds the model limit; request was "${TEXT}"` }, ModelSettingError, 'model_misconfigured', 'invalid_request'],
  ] as const)('%s: %p, no retry', async (_label, answer, type, code, cause) => {
    answers.push(answer, { status: 200, body: converseOutput() });

    const failed = await failure(provider());

    expect(failed.error).toBeInstanceOf(type);
    expect(failed.error.name).toBe(type.name);
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code, cause });
    expect(failed.error.message).toContain(LOW);
    expect(failed.error.message).toContain(answer.type);
    expect(received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    ['429 ThrottlingException', { status: 429, type: 'ThrottlingException', message: 'Too many requests' }, 'throttled'],
    ['429 ServiceQuotaExceededException', { status: 429, type: 'ServiceQuotaExceededException', message: 'quota' }, 'throttled'],
    ['500 InternalServerException', { status: 500, type: 'InternalServerException', message: 'internal' }, 'server_error'],
    ['503 ServiceUnavailableException', { status: 503, type: 'ServiceUnavailableException', message: 'unavailable' }, 'server_error'],
    ['502 without a type', { status: 502 }, 'server_error'],
    ['408 ModelTimeoutException', { status: 408, type: 'ModelTimeoutException', message: 'model timed out' }, 'timeout'],
  ] as const)('%s: retried, then ModelUnavailable (%s)', async (_label, answer, cause) => {
    answers.push(answer, answer, answer);

    const failed = await failure(provider({ maxAttempts: 3 }));

    expect(failed.error).toBeInstanceOf(ModelUnavailable);
    expect(failed.error.name).toBe('ModelUnavailable');
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_unavailable', cause });
    expect(failed.error.message).toContain('after 3 attempts');
    expect(failed.error.message).toContain(`HTTP ${answer.status}`);
    expect(received).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
  });

  it('times out a server that never answers, per attempt, then ModelUnavailable (timeout)', async () => {
    answers.push('hang', 'hang');

    const failed = await failure(provider({ maxAttempts: 2, timeoutMs: 150 }));

    expect(failed.error).toBeInstanceOf(ModelUnavailable);
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_unavailable', cause: 'timeout' });
    expect(failed.error.message).toContain('no answer within 150 ms');
    expect(received).toHaveLength(2);
  });

  it('stops within its time budget, so the inference function never times out with no cause', async () => {
    answers.push('hang', 'hang', 'hang');
    const started = Date.now();

    const failed = await failure(provider({ maxAttempts: 3, timeoutMs: 20_000, budgetMs: 1200 }));

    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_unavailable', cause: 'timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
    // No second attempt: what was left of the budget could not hold one.
    expect(received).toHaveLength(1);
  });

  it('retries a refused connection, then ModelUnavailable (network)', async () => {
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const failed = await failure(provider({ maxAttempts: 2, at: `http://127.0.0.1:${port}` }));

    expect(failed.error).toBeInstanceOf(ModelUnavailable);
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_unavailable', cause: 'network' });
    expect(failed.error.message).toContain('network error ECONNREFUSED');
    expect(sleeps).toEqual([50]);
  });
});

describe('createModelProvider (bedrock): the AWS setup it finds', () => {
  const saved = { ...process.env };
  /** No AWS configuration at all: no variables, no profile files, no instance metadata. */
  function emptyAwsEnvironment(extra: Record<string, string> = {}) {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key];
    Object.assign(process.env, {
      AWS_SHARED_CREDENTIALS_FILE: join(__dirname, 'no-such-credentials-file'),
      AWS_CONFIG_FILE: join(__dirname, 'no-such-config-file'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...extra,
    });
  }
  afterEach(() => {
    process.env = { ...saved };
  });

  const bedrock = () => createModelProvider({ MODEL_PROVIDER: 'bedrock', MODEL_ID_LOW: LOW, MODEL_ID_HIGH: HIGH });

  it('no credentials and no region (an empty environment): model_access_denied (no_credentials)', async () => {
    emptyAwsEnvironment();
    answers.push({ status: 200, body: converseOutput() });

    const failed = await failure(bedrock() as BedrockProvider);

    expect(failed.error).toBeInstanceOf(ModelAccessDenied);
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_access_denied', cause: 'no_credentials' });
    expect(failed.error.message).toContain('AWS_PROFILE');
    expect(received).toHaveLength(0);
  });

  it('a region but no credentials: model_access_denied (no_credentials)', async () => {
    emptyAwsEnvironment({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: endpoint });

    const failed = await failure(bedrock() as BedrockProvider);

    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_access_denied', cause: 'no_credentials' });
    expect(received).toHaveLength(0);
  });

  it('credentials but no region: model_misconfigured (no_region)', async () => {
    emptyAwsEnvironment({ AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST', AWS_SECRET_ACCESS_KEY: 'local-test-secret' });

    const failed = await failure(bedrock() as BedrockProvider);

    expect(failed.error).toBeInstanceOf(ModelSettingError);
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_misconfigured', cause: 'no_region' });
    expect(failed.error.message).toContain('AWS_REGION');
  });

  it('calls the endpoint AWS_ENDPOINT_URL_BEDROCK_RUNTIME names, and classifies what it answers', async () => {
    emptyAwsEnvironment({
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
      AWS_SECRET_ACCESS_KEY: 'local-test-secret',
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: endpoint,
    });
    answers.push({ status: 403, type: 'AccessDeniedException', message: `User: ${ROLE_ARN} is not authorized` });

    const failed = await failure(bedrock() as BedrockProvider);

    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_access_denied', cause: 'access_denied' });
    expect(received).toHaveLength(1);
  });
});
