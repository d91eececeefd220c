import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Models from '../../../lambdas/shared/models';
import type * as Settings from '../../../lambdas/shared/models/settings';

const SDK = '@aws-sdk/client-bedrock-runtime';
const SSM_SDK = '@aws-sdk/client-ssm';
const SECRETS_SDK = '@aws-sdk/client-secrets-manager';
const recorded = () => JSON.parse(readFileSync(join(__dirname, '../../fixtures/bedrock/purchase-order.tool-use.json'), 'utf8'));

/** A Bedrock client's resolved region and credentials, as `checkAwsSetup` reads them before the first call. */
const AWS_READY = { region: async () => 'us-east-1', credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'test' }) };

type FakeClient = new (config: Record<string, unknown>) => { send(command: { input: unknown }): Promise<unknown> };

/** What Warden asks of an SDK client besides `send`: the middleware stack it takes the SDK's logger out of (quietSdkClient). */
class FakeSdkClient {
  readonly removed: string[] = [];
  readonly middlewareStack = { remove: (name: string) => this.removed.push(name) > 0 };
}

/** Wraps an SDK module so a test can tell whether (and when) it was loaded, optionally swapping its client. */
function track(module: string, clientName: string, fakeClient?: FakeClient): { loaded: boolean } {
  const sdk = { loaded: false };
  jest.doMock(module, () => {
    sdk.loaded = true;
    const actual = jest.requireActual(module);
    return fakeClient ? { ...actual, [clientName]: fakeClient } : actual;
  });
  return sdk;
}

/**
 * Each test loads the factory into a fresh module registry with the SDK modules wrapped, so it
 * can tell whether (and when) an SDK was loaded at all.
 */
function load(fakeClient?: FakeClient, fakes: { ssm?: FakeClient; secrets?: FakeClient } = {}) {
  const sdk = track(SDK, 'BedrockRuntimeClient', fakeClient);
  const ssm = track(SSM_SDK, 'SSMClient', fakes.ssm);
  const secrets = track(SECRETS_SDK, 'SecretsManagerClient', fakes.secrets);
  const models = require('../../../lambdas/shared/models') as typeof Models;
  const settings = require('../../../lambdas/shared/models/settings') as typeof Settings;
  return { ...models, settings, sdk, ssm, secrets };
}

/** A Bedrock client that answers every Converse with the recorded tool use, keeping what it was sent. */
function recordingBedrock() {
  const sent: Record<string, unknown>[] = [];
  class FakeBedrockClient extends FakeSdkClient {
    config = AWS_READY;
    async send(command: { input: unknown }) {
      sent.push(command.input as Record<string, unknown>);
      return recorded();
    }
  }
  return { sent, FakeBedrockClient };
}

/** SSM as a map of parameter values, counting the reads each parameter gets. */
function fakeParameters(values: Record<string, string>) {
  const reads: Record<string, number> = {};
  const getParameter = async (name: string) => {
    reads[name] = (reads[name] ?? 0) + 1;
    const value = values[name];
    if (value === undefined) throw new Error(`no parameter ${name}`);
    return value;
  };
  return { values, reads, getParameter };
}

const TEXT = 'Create a PO for Alpha Tech Systems for $7,850 of workstations';

describe('createModelProvider', () => {
  beforeEach(() => jest.resetModules());
  afterEach(() => [SDK, SSM_SDK, SECRETS_SDK].forEach((module) => jest.dontMock(module)));

  it('defaults to the rules provider and never loads the Bedrock SDK', async () => {
    const { createModelProvider, sdk } = load();

    const provider = createModelProvider({});
    const result = await provider.propose({ text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations', tier: 'low' });

    expect(provider.name).toBe('rules');
    expect(result.model.provider).toBe('rules');
    expect(sdk.loaded).toBe(false);
  });

  it('loads no SSM or Secrets Manager SDK with the rules provider, even with parameters and a secret set', async () => {
    const { createModelProvider, sdk, ssm, secrets } = load();

    const provider = createModelProvider({
      MODEL_PROVIDER: 'rules',
      MODEL_ID_LOW: 'small-model',
      MODEL_ID_LOW_PARAMETER: '/warden/model/low',
      OPENAI_API_KEY_SECRET: 'warden/openai-api-key',
    });
    const result = await provider.propose({ text: TEXT, tier: 'low' });

    expect(result.model.id).toBe('rules-v1');
    expect([sdk.loaded, ssm.loaded, secrets.loaded]).toEqual([false, false, false]);
  });

  it('sends model calls through the client capture it is given (X-Ray in Lambda)', async () => {
    const { sent, FakeBedrockClient } = recordingBedrock();
    const { createModelProvider } = load(FakeBedrockClient);
    const captured: unknown[] = [];
    const capture = <T>(client: T): T => {
      captured.push(client);
      // As X-Ray's capture does, the client comes back instrumented: here its calls are counted.
      const instrumented = client as unknown as { send(command: unknown): Promise<unknown>; calls: number };
      const send = instrumented.send.bind(instrumented);
      instrumented.calls = 0;
      instrumented.send = (command) => {
        instrumented.calls++;
        return send(command);
      };
      return client;
    };

    const provider = createModelProvider({ MODEL_PROVIDER: 'bedrock', MODEL_ID_LOW: 'small-model' }, { captureClient: capture });
    await provider.propose({ text: TEXT, action: 'purchase_order', tier: 'low' });

    expect(captured).toHaveLength(1);
    expect(captured[0]).toBeInstanceOf(FakeBedrockClient);
    expect((captured[0] as { calls: number }).calls).toBe(1);
    expect(sent).toHaveLength(1);
  });

  it('honours the local-mode variable name', () => {
    const { createModelProvider } = load();
    expect(createModelProvider({ WARDEN_MODEL_PROVIDER: 'rules' }).name).toBe('rules');
    expect(createModelProvider({ WARDEN_MODEL_PROVIDER: 'bedrock', MODEL_ID_LOW: 'm' }).name).toBe('bedrock');
  });

  it('builds the Bedrock client on first use, with the SDK retries off and the configured models and prices', async () => {
    const clients: Record<string, unknown>[] = [];
    const removed: string[][] = [];
    const sent: Record<string, unknown>[] = [];
    class FakeBedrockClient extends FakeSdkClient {
      config = AWS_READY;
      constructor(config: Record<string, unknown>) {
        super();
        clients.push(config);
        removed.push(this.removed);
      }
      async send(command: { input: unknown }) {
        sent.push(command.input as Record<string, unknown>);
        return recorded();
      }
    }
    const { createModelProvider, sdk, ssm } = load(FakeBedrockClient);

    const provider = createModelProvider({
      MODEL_PROVIDER: 'bedrock',
      MODEL_ID_LOW: 'small-model',
      MODEL_ID_HIGH: 'strong-model',
      MODEL_PRICES: JSON.stringify({ 'strong-model': { inputPer1k: 0.003, outputPer1k: 0.015 } }),
    });
    expect(provider.name).toBe('bedrock');
    expect(sdk.loaded).toBe(false);

    const result = await provider.propose({ text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations', action: 'purchase_order', tier: 'high' });
    await provider.propose({ text: 'again', action: 'purchase_order', tier: 'low' });

    expect(sdk.loaded).toBe(true);
    expect(ssm.loaded).toBe(false);
    // The SDK retries off, and Warden's logger (sdk-logger.ts), whose module jest loads afresh per test.
    expect(clients).toEqual([{ maxAttempts: 1, logger: expect.objectContaining({ warn: expect.any(Function), error: expect.any(Function) }) }]);
    // Built by quietSdkClient (its own test builds the real client): the SDK's logger middleware taken out.
    expect(removed).toEqual([['loggerMiddleware']]);
    expect(sent.map((input) => input.modelId)).toEqual(['strong-model', 'small-model']);
    expect(result.model).toMatchObject({ provider: 'bedrock', id: 'strong-model', inputTokens: 812, outputTokens: 96 });
    // 812/1000 * 0.003 + 96/1000 * 0.015
    expect(result.model.costUsd).toBeCloseTo(0.003876, 6);
  });

  it('uses the one configured model id for both tiers', async () => {
    const { sent, FakeBedrockClient } = recordingBedrock();
    const { createModelProvider } = load(FakeBedrockClient);

    await createModelProvider({ MODEL_PROVIDER: 'bedrock', MODEL_ID_HIGH: 'only-model' }).propose({ text: 'x', tier: 'low' });

    expect(sent[0]?.modelId).toBe('only-model');
  });

  it.each([
    [{ MODEL_PROVIDER: 'gpt-at-home' }, /invalid model configuration/],
    [{ MODEL_PROVIDER: 'bedrock' }, /MODEL_ID_LOW/],
    [{ MODEL_PROVIDER: 'bedrock', MODEL_ID_LOW: 'm', MODEL_PRICES: '{not json' }, /MODEL_PRICES must be JSON/],
    [{ MODEL_PROVIDER: 'bedrock', MODEL_ID_LOW: 'm', MODEL_PRICES: '{"m": {"inputPer1k": -1, "outputPer1k": 0}}' }, /invalid model configuration/],
  ])('rejects a bad configuration at construction: %j', (env, message) => {
    const { createModelProvider } = load();
    expect(() => createModelProvider(env)).toThrow(message);
  });
});

describe('a tier’s model id from an SSM parameter', () => {
  beforeEach(() => jest.resetModules());
  afterEach(() => [SDK, SSM_SDK, SECRETS_SDK].forEach((module) => jest.dontMock(module)));

  const BEDROCK = { MODEL_PROVIDER: 'bedrock', MODEL_ID_LOW: 'small-model', MODEL_ID_HIGH: 'strong-model' };

  it('reads the parameter once, on the first model call, and calls and records the model it names', async () => {
    const { sent, FakeBedrockClient } = recordingBedrock();
    const { createModelProvider } = load(FakeBedrockClient);
    const ssm = fakeParameters({ '/warden/model/low': 'strong-model' });

    const provider = createModelProvider({ ...BEDROCK, MODEL_ID_LOW_PARAMETER: '/warden/model/low' }, { getParameter: ssm.getParameter });
    expect(ssm.reads).toEqual({});

    const first = await provider.propose({ text: TEXT, action: 'purchase_order', tier: 'low' });
    const second = await provider.propose({ text: TEXT, action: 'purchase_order', tier: 'low' });
    const high = await provider.propose({ text: TEXT, action: 'purchase_order', tier: 'high' });

    // The low tier now runs the model the parameter names; the high tier keeps its deployed id.
    expect(sent.map((input) => input.modelId)).toEqual(['strong-model', 'strong-model', 'strong-model']);
    expect([first.model.id, second.model.id, high.model.id]).toEqual(['strong-model', 'strong-model', 'strong-model']);
    expect(ssm.reads).toEqual({ '/warden/model/low': 1 });

    // Once per container: a later change is seen by the next cold start, not this one.
    ssm.values['/warden/model/low'] = 'small-model';
    expect((await provider.propose({ text: TEXT, tier: 'low' })).model.id).toBe('strong-model');
  });

  it('takes any id on MODEL_IDS_ALLOWED (a JSON array or a comma list), and reads a parameter both tiers share once', async () => {
    for (const allowed of ['["small-model","strong-model","us.amazon.nova-lite-v1:0"]', 'small-model, strong-model ,us.amazon.nova-lite-v1:0']) {
      const { sent, FakeBedrockClient } = recordingBedrock();
      const { createModelProvider } = load(FakeBedrockClient);
      // A trailing newline (a value written from a file) is not part of the id.
      const ssm = fakeParameters({ '/warden/model': 'us.amazon.nova-lite-v1:0\n' });

      const provider = createModelProvider(
        { ...BEDROCK, MODEL_ID_LOW_PARAMETER: '/warden/model', MODEL_ID_HIGH_PARAMETER: '/warden/model', MODEL_IDS_ALLOWED: allowed },
        { getParameter: ssm.getParameter },
      );
      const low = await provider.propose({ text: TEXT, tier: 'low' });
      const high = await provider.propose({ text: TEXT, tier: 'high' });

      expect(sent.map((input) => input.modelId)).toEqual(['us.amazon.nova-lite-v1:0', 'us.amazon.nova-lite-v1:0']);
      expect([low.model.id, high.model.id]).toEqual(['us.amazon.nova-lite-v1:0', 'us.amazon.nova-lite-v1:0']);
      expect(ssm.reads).toEqual({ '/warden/model': 1 });
      jest.resetModules();
    }
  });

  it('refuses a model id outside the allowed list (by default the deployed two), naming the parameter, not its value; calls no model', async () => {
    const { sent, FakeBedrockClient } = recordingBedrock();
    const { createModelProvider, ModelSettingError } = load(FakeBedrockClient);
    const value = 'anthropic.claude-3-opus-20240229-v1:0';
    const ssm = fakeParameters({ '/warden/model/high': value });

    const provider = createModelProvider({ ...BEDROCK, MODEL_ID_HIGH_PARAMETER: '/warden/model/high' }, { getParameter: ssm.getParameter });
    const failure = await provider.propose({ text: TEXT, tier: 'high' }).catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ModelSettingError);
    expect((failure as Error).name).toBe('ModelSettingError');
    const message = (failure as Error).message;
    expect(message).toContain('/warden/model/high');
    expect(message).toContain('Allowed: small-model, strong-model');
    expect(message).not.toContain(value);
    expect(message).not.toContain('opus');
    // No fall-back to the deployed id: nothing was called at all.
    expect(sent).toEqual([]);
    // Even the tier without a parameter fails: the provider is built whole or not at all.
    await expect(provider.propose({ text: TEXT, tier: 'low' })).rejects.toBeInstanceOf(ModelSettingError);

    // A failure is not cached: once the operator fixes the parameter, the next request uses it.
    ssm.values['/warden/model/high'] = 'small-model';
    expect((await provider.propose({ text: TEXT, tier: 'high' })).model.id).toBe('small-model');
    expect(sent.map((input) => input.modelId)).toEqual(['small-model']);
  });

  it('reads the parameter with GetParameter through the SSM SDK, loaded only on the first model call', async () => {
    const names: unknown[] = [];
    const values: Record<string, { Type: string; Value: string }> = { '/warden/model/low': { Type: 'String', Value: 'strong-model' } };
    class FakeSsmClient extends FakeSdkClient {
      async send(command: { input: unknown }) {
        const { Name } = command.input as { Name: string };
        names.push(Name);
        const parameter = values[Name];
        if (!parameter) throw Object.assign(new Error(`Parameter ${Name} not found.`), { name: 'ParameterNotFound' });
        return { Parameter: { Name, ...parameter } };
      }
    }
    const { sent, FakeBedrockClient } = recordingBedrock();
    const { createModelProvider, ssm } = load(FakeBedrockClient, { ssm: FakeSsmClient });

    const provider = createModelProvider({ ...BEDROCK, MODEL_ID_LOW_PARAMETER: '/warden/model/low' });
    expect(ssm.loaded).toBe(false);
    const result = await provider.propose({ text: TEXT, tier: 'low' });

    expect(ssm.loaded).toBe(true);
    expect(names).toEqual(['/warden/model/low']);
    expect(sent[0]?.modelId).toBe('strong-model');
    expect(result.model.id).toBe('strong-model');
  });

  it.each([
    ['a parameter that does not exist', '/warden/model/missing', /SSM parameter \/warden\/model\/missing does not exist/],
    ['a SecureString (it would come back encrypted)', '/warden/model/secure', /SSM parameter \/warden\/model\/secure must be a String parameter/],
    ['access denied', '/warden/model/denied', /SSM parameter \/warden\/model\/denied could not be read \(AccessDeniedException\)/],
  ])('fails the model call on %s, naming the parameter', async (_label, name, message) => {
    class FakeSsmClient extends FakeSdkClient {
      async send(command: { input: unknown }) {
        const { Name } = command.input as { Name: string };
        if (Name.endsWith('/secure')) return { Parameter: { Name, Type: 'SecureString', Value: 'AQICAHh-ciphertext' } };
        if (Name.endsWith('/denied')) throw Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
        throw Object.assign(new Error('not found'), { name: 'ParameterNotFound' });
      }
    }
    const { createModelProvider, ModelSettingError } = load(undefined, { ssm: FakeSsmClient });

    const failure = await createModelProvider({ ...BEDROCK, MODEL_ID_LOW_PARAMETER: name })
      .propose({ text: TEXT, tier: 'low' })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(ModelSettingError);
    expect((failure as Error).message).toMatch(message);
    expect((failure as Error).message).not.toContain('ciphertext');
  });

  it('reads a secret with GetSecretValue through the Secrets Manager SDK, and names the secret (only) when it cannot', async () => {
    const ids: unknown[] = [];
    class FakeSecretsClient extends FakeSdkClient {
      async send(command: { input: unknown }) {
        const { SecretId } = command.input as { SecretId: string };
        ids.push(SecretId);
        if (SecretId === 'warden/missing') throw Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' });
        if (SecretId === 'warden/binary') return { SecretBinary: new Uint8Array([1, 2]) };
        return { SecretString: 'sk-from-secrets-manager' };
      }
    }
    const { settings, secrets } = load(undefined, { secrets: FakeSecretsClient });

    const getSecret = settings.sdkGetSecret();
    expect(secrets.loaded).toBe(false);
    await expect(getSecret('warden/openai-api-key')).resolves.toBe('sk-from-secrets-manager');
    expect(secrets.loaded).toBe(true);
    await expect(getSecret('warden/missing')).rejects.toThrow('Secret warden/missing (the OpenAI-compatible API key) could not be read (ResourceNotFoundException).');
    await expect(getSecret('warden/binary')).rejects.toThrow(/warden\/binary .*has no SecretString/);
    expect(ids).toEqual(['warden/openai-api-key', 'warden/missing', 'warden/binary']);
  });

  it.each([
    [{ ...BEDROCK, MODEL_ID_LOW_PARAMETER: '/p', MODEL_IDS_ALLOWED: '[not json' }, /MODEL_IDS_ALLOWED must be/],
    [{ ...BEDROCK, MODEL_ID_LOW_PARAMETER: '/p', MODEL_IDS_ALLOWED: '[1, 2]' }, /MODEL_IDS_ALLOWED must be/],
    [{ ...BEDROCK, MODEL_ID_LOW_PARAMETER: '/p', MODEL_IDS_ALLOWED: 'a,,b' }, /MODEL_IDS_ALLOWED must be/],
    [{ MODEL_PROVIDER: 'openai-compatible', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1', MODEL_ID_LOW: 'm', OPENAI_API_KEY: 'k', OPENAI_API_KEY_SECRET: 's' }, /OPENAI_API_KEY or OPENAI_API_KEY_SECRET, not both/],
  ])('rejects a bad configuration at construction: %j', (env, message) => {
    const { createModelProvider } = load();
    expect(() => createModelProvider(env)).toThrow(message);
  });
});
