import { ACTIONS } from '../../../lambdas/shared/schemas/actions';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ModelAccessDenied, ModelCallFailed, ModelNotFound, ModelSettingError, ModelUnavailable, modelFailureCauseOf } from '../../../lambdas/shared/errors';
import { createModelProvider } from '../../../lambdas/shared/models';
import { OpenAiCompatibleProvider, RESPONSE_FORMAT_NAME } from '../../../lambdas/shared/models/openai-compatible';
import { PROMPT_VERSION, SYSTEM_PROMPT, proposalInputSchema } from '../../../lambdas/shared/models/proposal';
import { InferenceResult } from '../../../lambdas/shared/schemas/workflow';
import * as prompt from '../../../prompts/propose-v1';

/**
 * A real HTTP server on 127.0.0.1 speaking the `/v1/chat/completions` protocol: each test
 * queues the answers it gives, and reads back the requests it received.
 */
interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}
type Answer = { status: number; body: string } | 'hang';

const LOW = 'qwen2.5:7b-instruct';
const HIGH = 'Qwen/Qwen2.5-72B-Instruct';
const KEY = 'sk-test-0123456789abcdef';

let server: Server;
let baseUrl: string;
let received: Received[];
let answers: Answer[];

function completion(content: string, usage: Record<string, number> | null = { prompt_tokens: 512, completion_tokens: 64, total_tokens: 576 }) {
  return {
    status: 200,
    body: JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_790_000_000,
      model: LOW,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      ...(usage ? { usage } : {}),
    }),
  };
}
const error = (status: number) => ({ status, body: JSON.stringify({ error: { message: 'nope', type: 'server_error' } }) });

const PO = { action: 'purchase_order', fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations' }, confidence: 0.97 };

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(data);
      } catch {
        body = data;
      }
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const answer = answers.shift() ?? error(500);
      if (answer === 'hang') return; // never answers: the client's timeout must fire
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let sleeps: number[];
beforeEach(() => {
  received = [];
  answers = [];
  sleeps = [];
});

function provider(overrides: { apiKey?: string; maxAttempts?: number; timeoutMs?: number; baseUrl?: string } = {}) {
  return new OpenAiCompatibleProvider({
    baseUrl: overrides.baseUrl ?? baseUrl,
    modelIds: { low: LOW, high: HIGH },
    prices: { [HIGH]: { inputPer1k: 0.001, outputPer1k: 0.002 } },
    ...(overrides.apiKey ? { apiKey: overrides.apiKey } : {}),
    ...(overrides.timeoutMs ? { timeoutMs: overrides.timeoutMs } : {}),
    retry: {
      maxAttempts: overrides.maxAttempts ?? 4,
      baseDelayMs: 100,
      maxDelayMs: 1000,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  });
}

describe('OpenAiCompatibleProvider against a local /v1/chat/completions server', () => {
  it('posts the prompt, the tier’s model and the action’s JSON schema; returns the same contract as Bedrock', async () => {
    answers.push(completion(JSON.stringify(PO)));

    const result = await provider({ apiKey: KEY }).propose({
      text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations',
      action: 'purchase_order',
      tier: 'low',
    });

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.body.model).toBe(LOW);
    expect(request.body.temperature).toBe(0);
    expect(request.body.messages).toEqual([
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: '<request>\nCreate a PO for Alpha Tech Systems for $7,850 of workstations\n</request>' },
    ]);
    const format = request.body.response_format;
    expect(format.type).toBe('json_schema');
    expect(format.json_schema.name).toBe(RESPONSE_FORMAT_NAME);
    expect(format.json_schema.strict).toBe(true);
    // One source: the very schema the Bedrock tool gets.
    expect(format.json_schema.schema).toEqual(proposalInputSchema('purchase_order'));
    expect(format.json_schema.schema.properties.action).toMatchObject({ const: 'purchase_order' });
    expect(Object.keys(format.json_schema.schema.properties.fields.properties)).toEqual(['vendor', 'amount', 'currency', 'description']);
    expect(format.json_schema.schema.required).toEqual(['action', 'fields', 'confidence']);

    expect(InferenceResult.parse(result)).toEqual(result);
    expect(result).toEqual({
      candidate: { action: 'purchase_order', fields: PO.fields },
      confidence: 0.97,
      model: { provider: 'openai-compatible', id: LOW, inputTokens: 512, outputTokens: 64, costUsd: 0, promptVersion: 'propose-v1' },
    });
  });

  it('uses the high tier’s model and prices it; sends no Authorization without a key', async () => {
    answers.push(completion(JSON.stringify({ ...PO, confidence: 0.9 }), { prompt_tokens: 1000, completion_tokens: 500 }));

    const result = await provider().propose({ text: 'Upgrade customer C-1001 from basic to standard', tier: 'high' });

    expect(received[0]?.headers.authorization).toBeUndefined();
    expect(received[0]?.body.model).toBe(HIGH);
    expect(received[0]?.body.response_format.json_schema.schema.properties.action.enum).toEqual([...ACTIONS]);
    expect(result.model).toMatchObject({ id: HIGH, inputTokens: 1000, outputTokens: 500, costUsd: 0.002 });
  });

  it('accepts a base URL with a trailing slash', async () => {
    answers.push(completion(JSON.stringify(PO)));
    await provider({ baseUrl: `${baseUrl}/` }).propose({ text: 'x', action: 'purchase_order', tier: 'low' });
    expect(received[0]?.path).toBe('/v1/chat/completions');
  });

  it('clamps confidence to 0..1 and reads a missing one as 0', async () => {
    answers.push(completion(JSON.stringify({ ...PO, confidence: 7 })), completion(JSON.stringify({ ...PO, confidence: -1 })), completion(JSON.stringify({ action: 'refund', fields: {} })));
    const p = provider();
    const results = [
      await p.propose({ text: 'x', tier: 'low' }),
      await p.propose({ text: 'x', tier: 'low' }),
      await p.propose({ text: 'x', tier: 'low' }),
    ];
    expect(results.map((r) => r.confidence)).toEqual([1, 0, 0]);
    expect(results[2]?.candidate).toEqual({ action: 'refund', fields: {} });
  });

  it('reads a JSON object inside a Markdown code fence', async () => {
    answers.push(completion('```json\n' + JSON.stringify(PO) + '\n```'));
    const result = await provider().propose({ text: 'x', action: 'purchase_order', tier: 'low' });
    expect(result.confidence).toBe(0.97);
  });

  it.each([
    ['prose instead of JSON', completion('Sure! I would create a PO for Alpha Tech Systems.')],
    ['truncated JSON', completion('{"action": "purchase_order", "fields": {"vendor": "Al')],
    ['a JSON array', completion('[1, 2]')],
    ['no choices', { status: 200, body: JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 0 } }) }],
    ['a body that is not JSON', { status: 200, body: '<html>gateway</html>' }],
  ])('returns no candidate and confidence 0 for %s', async (_label, answer) => {
    answers.push(answer);

    const result = await provider().propose({ text: 'Create a PO', action: 'purchase_order', tier: 'low' });

    expect(result.candidate).toBeUndefined();
    expect(result.confidence).toBe(0);
    expect(InferenceResult.parse(result)).toEqual(result);
    expect(received).toHaveLength(1);
  });

  it('records 0 tokens when the server reports no usage', async () => {
    answers.push(completion(JSON.stringify(PO), null));
    const result = await provider().propose({ text: 'x', action: 'purchase_order', tier: 'low' });
    expect(result.model).toMatchObject({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
  });

  it('retries 429 and 5xx with exponential backoff and full jitter, then succeeds', async () => {
    answers.push(error(429), error(503), error(500), completion(JSON.stringify(PO)));

    const result = await provider().propose({ text: 'Create a PO', action: 'purchase_order', tier: 'low' });

    expect(result.confidence).toBe(0.97);
    expect(received).toHaveLength(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('succeeds on 429 then 200', async () => {
    answers.push(error(429), completion(JSON.stringify(PO)));
    const result = await provider().propose({ text: 'x', action: 'purchase_order', tier: 'low' });
    expect(result.candidate).toMatchObject({ action: 'purchase_order' });
    expect(received).toHaveLength(2);
  });

  it('throws ModelUnavailable after a bounded number of attempts when 500 persists, naming no request text', async () => {
    answers.push(error(500), error(500), error(500), error(500));

    const failure = await provider({ maxAttempts: 3 })
      .propose({ text: 'Refund $120 on order O-5001 for customer C-1002', action: 'refund', tier: 'low' })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ModelUnavailable);
    expect((failure as ModelUnavailable).code).toBe('model_unavailable');
    expect((failure as Error).message).toContain('HTTP 500');
    expect((failure as Error).message).not.toContain('O-5001');
    expect(received).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
  });

  it('times out a server that does not answer, retries, then throws ModelUnavailable', async () => {
    answers.push('hang', 'hang');
    const failure = await provider({ maxAttempts: 2, timeoutMs: 100 })
      .propose({ text: 'x', action: 'refund', tier: 'low' })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ModelUnavailable);
    expect((failure as Error).message).toContain('timeout');
    expect(received).toHaveLength(2);
  });

  it('retries a refused connection, then throws ModelUnavailable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    await expect(
      provider({ maxAttempts: 2, baseUrl: `http://127.0.0.1:${port}/v1` }).propose({ text: 'x', action: 'refund', tier: 'low' }),
    ).rejects.toBeInstanceOf(ModelUnavailable);
    expect(sleeps).toEqual([50]);
  });

  /** The named error a call ends with, its code, and the cause class MarkFailed reads from Lambda's Cause. */
  async function failure(p: OpenAiCompatibleProvider) {
    const failed = await p.propose({ text: 'Refund $120 on order O-5001 for customer C-1002', action: 'refund', tier: 'low' }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ModelCallFailed);
    const error = failed as ModelCallFailed;
    for (const secret of [KEY, 'O-5001', 'C-1002', 'nope']) expect(error.message).not.toContain(secret);
    const cause = modelFailureCauseOf({ Error: error.name, Cause: JSON.stringify({ errorType: error.name, errorMessage: error.message }) });
    return { error, code: error.code, cause };
  }

  it.each([
    [401, KEY, ModelAccessDenied, 'model_access_denied', 'invalid_credentials'],
    [401, undefined, ModelAccessDenied, 'model_access_denied', 'no_credentials'],
    [403, KEY, ModelAccessDenied, 'model_access_denied', 'access_denied'],
    [404, KEY, ModelNotFound, 'model_not_found', 'not_found'],
    [400, KEY, ModelSettingError, 'model_misconfigured', 'invalid_request'],
    [422, KEY, ModelSettingError, 'model_misconfigured', 'invalid_request'],
  ] as const)('HTTP %i (key: %s) is %p %s (%s), at once, never echoing the key', async (status, apiKey, type, code, cause) => {
    answers.push(error(status), completion(JSON.stringify(PO)));

    const failed = await failure(provider(apiKey ? { apiKey } : {}));

    expect(failed.error).toBeInstanceOf(type);
    expect(failed.error.name).toBe(type.name);
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code, cause });
    expect(failed.error.message).toContain(`HTTP ${status}`);
    expect(failed.error.message).toContain(LOW);
    expect(received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    [429, 'throttled'],
    [500, 'server_error'],
    [502, 'server_error'],
    [503, 'server_error'],
    [408, 'timeout'],
  ] as const)('HTTP %i is retried, then ModelUnavailable (%s)', async (status, cause) => {
    answers.push(error(status), error(status), error(status));

    const failed = await failure(provider({ apiKey: KEY, maxAttempts: 3 }));

    expect(failed.error).toBeInstanceOf(ModelUnavailable);
    expect({ code: failed.code, cause: failed.cause }).toEqual({ code: 'model_unavailable', cause });
    expect(received).toHaveLength(3);
  });

  it('names a refused connection (network) and a server that never answers (timeout)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await failure(provider({ maxAttempts: 2, baseUrl: `http://127.0.0.1:${port}/v1` }));
    expect({ code: refused.code, cause: refused.cause }).toEqual({ code: 'model_unavailable', cause: 'network' });
    expect(refused.error.message).toContain('network error ECONNREFUSED');

    answers.push('hang', 'hang');
    const hung = await failure(provider({ maxAttempts: 2, timeoutMs: 100 }));
    expect({ code: hung.code, cause: hung.cause }).toEqual({ code: 'model_unavailable', cause: 'timeout' });
  });

  it('writes nothing to the console (the prompt carries request text)', async () => {
    answers.push(error(429), completion(JSON.stringify(PO)));
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation(() => undefined));
    try {
      await provider({ apiKey: KEY }).propose({ text: 'Refund $120 on order O-5001 for customer C-1002', action: 'refund', tier: 'low' });
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });
});

describe('createModelProvider: openai-compatible', () => {
  it('builds the provider from the environment, with the key and the configured models', async () => {
    answers.push(completion(JSON.stringify(PO)));

    const p = createModelProvider({
      MODEL_PROVIDER: 'openai-compatible',
      OPENAI_BASE_URL: baseUrl,
      OPENAI_API_KEY: KEY,
      MODEL_ID_LOW: LOW,
      MODEL_ID_HIGH: HIGH,
    });
    const result = await p.propose({ text: 'x', action: 'purchase_order', tier: 'high' });

    expect(p.name).toBe('openai-compatible');
    expect(received[0]?.body.model).toBe(HIGH);
    expect(received[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(result.model.provider).toBe('openai-compatible');
  });

  it('honours the local-mode variable name', () => {
    expect(createModelProvider({ WARDEN_MODEL_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: baseUrl, MODEL_ID_LOW: LOW }).name).toBe('openai-compatible');
  });

  it.each([
    [{ MODEL_PROVIDER: 'openai-compatible', MODEL_ID_LOW: LOW }, /OPENAI_BASE_URL/],
    [{ MODEL_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }, /MODEL_ID_LOW/],
    [{ MODEL_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: 'ftp://host/v1', MODEL_ID_LOW: LOW }, /invalid model configuration/],
  ])('rejects a bad configuration at construction: %j', (env, message) => {
    expect(() => createModelProvider(env)).toThrow(message);
  });

  it('does not put the API key in a configuration error', () => {
    let message = '';
    try {
      createModelProvider({ MODEL_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: 'not a url', OPENAI_API_KEY: KEY, MODEL_ID_LOW: LOW });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/openAiBaseUrl/);
    expect(message).not.toContain(KEY);
  });
});

describe('createModelProvider: the API key from Secrets Manager, the model from SSM', () => {
  const SECRET = 'warden/openai-api-key';

  /** Secrets Manager as a map of secret strings, counting the reads each secret gets. */
  function fakeSecrets(values: Record<string, string>) {
    const reads: Record<string, number> = {};
    const getSecret = async (id: string) => {
      reads[id] = (reads[id] ?? 0) + 1;
      const value = values[id];
      if (value === undefined) throw new Error(`no secret ${id}`);
      return value;
    };
    return { values, reads, getSecret };
  }

  const ENV = { MODEL_PROVIDER: 'openai-compatible', MODEL_ID_LOW: LOW, MODEL_ID_HIGH: HIGH, OPENAI_API_KEY_SECRET: SECRET };

  it('fetches the secret once, on the first call, and sends it as the bearer token every time', async () => {
    answers.push(completion(JSON.stringify(PO)), completion(JSON.stringify(PO)));
    // A trailing newline (a secret written from a file) is not part of the key.
    const secrets = fakeSecrets({ [SECRET]: `${KEY}\n` });

    const p = createModelProvider({ ...ENV, OPENAI_BASE_URL: baseUrl }, { getSecret: secrets.getSecret });
    expect(secrets.reads).toEqual({});
    await p.propose({ text: 'x', action: 'purchase_order', tier: 'low' });
    await p.propose({ text: 'y', action: 'purchase_order', tier: 'high' });

    expect(received.map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    expect(secrets.reads).toEqual({ [SECRET]: 1 });
  });

  it('asks the server for the model an SSM parameter names, and records that model with the proposal', async () => {
    answers.push(completion(JSON.stringify(PO)));
    const secrets = fakeSecrets({ [SECRET]: KEY });
    const reads: string[] = [];
    const getParameter = async (name: string) => {
      reads.push(name);
      return HIGH;
    };

    const result = await createModelProvider(
      { ...ENV, OPENAI_BASE_URL: baseUrl, MODEL_ID_LOW_PARAMETER: '/warden/model/low' },
      { getSecret: secrets.getSecret, getParameter },
    ).propose({ text: 'x', action: 'purchase_order', tier: 'low' });

    expect(reads).toEqual(['/warden/model/low']);
    expect(received[0]?.body.model).toBe(HIGH);
    expect(received[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(InferenceResult.parse(result).model).toEqual({ provider: 'openai-compatible', id: HIGH, inputTokens: 512, outputTokens: 64, costUsd: 0, promptVersion: 'propose-v1' });
  });

  it('never puts the key in an error: a refused request, a refused model, an unusable secret', async () => {
    const secrets = fakeSecrets({ [SECRET]: KEY, 'warden/json': `{"apiKey":"${KEY}"}`, 'warden/blank': '  \n', 'warden/spaced': `Bearer ${KEY}` });
    const messageOf = (env: Record<string, string>, getParameter?: (name: string) => Promise<string>) =>
      createModelProvider({ ...ENV, OPENAI_BASE_URL: baseUrl, ...env }, { getSecret: secrets.getSecret, ...(getParameter ? { getParameter } : {}) })
        .propose({ text: 'x', action: 'refund', tier: 'low' })
        .then(
          () => 'no error',
          (e: unknown) => (e as Error).message,
        );

    answers.push(error(401));
    const refused = await messageOf({});
    expect(refused).toContain('HTTP 401');

    // The parameter holds something other than a model id (here, the key pasted by mistake).
    const badModel = await messageOf({ MODEL_ID_LOW_PARAMETER: '/warden/model/low' }, async () => KEY);
    expect(badModel).toContain('/warden/model/low');

    const json = await messageOf({ OPENAI_API_KEY_SECRET: 'warden/json' });
    expect(json).toMatch(/warden\/json .*plain text, not JSON/);
    const blank = await messageOf({ OPENAI_API_KEY_SECRET: 'warden/blank' });
    expect(blank).toMatch(/warden\/blank .*is empty/);
    const spaced = await messageOf({ OPENAI_API_KEY_SECRET: 'warden/spaced' });
    expect(spaced).toMatch(/warden\/spaced .*without whitespace/);

    for (const message of [refused, badModel, json, blank, spaced]) {
      expect(message).not.toBe('no error');
      expect(message).not.toContain(KEY);
      expect(message).not.toContain('0123456789abcdef');
    }
    // Only the 401 reached the server: an unusable key or model is never sent.
    expect(received.map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY}`]);
  });

  it('tries the secret again on the next call after a failed read (a fixed secret heals without a deploy)', async () => {
    answers.push(completion(JSON.stringify(PO)));
    const secrets = fakeSecrets({});
    const p = createModelProvider({ ...ENV, OPENAI_BASE_URL: baseUrl }, { getSecret: secrets.getSecret });

    await expect(p.propose({ text: 'x', tier: 'low' })).rejects.toThrow(`no secret ${SECRET}`);
    secrets.values[SECRET] = KEY;
    await p.propose({ text: 'x', tier: 'low' });

    expect(received.map((r) => r.headers.authorization)).toEqual([`Bearer ${KEY}`]);
    expect(secrets.reads).toEqual({ [SECRET]: 2 });
  });
});

describe('the versioned prompt', () => {
  it('is the prompts/propose-v1 file, recorded with its version', () => {
    expect(prompt.version).toBe('propose-v1');
    expect(PROMPT_VERSION).toBe(prompt.version);
    expect(SYSTEM_PROMPT).toBe(prompt.text);
    expect(SYSTEM_PROMPT.startsWith('[propose-v1]')).toBe(true);
  });
});
