import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Models from '../../../lambdas/shared/models';

const SDK = '@aws-sdk/client-bedrock-runtime';
const recorded = () => JSON.parse(readFileSync(join(__dirname, '../../fixtures/bedrock/purchase-order.tool-use.json'), 'utf8'));

/**
 * Each test loads the factory into a fresh module registry with the SDK module wrapped, so it
 * can tell whether (and when) the SDK was loaded at all.
 */
function load(fakeClient?: new (config: Record<string, unknown>) => { send(command: { input: unknown }): Promise<unknown> }) {
  const sdk = { loaded: false };
  jest.doMock(SDK, () => {
    sdk.loaded = true;
    const actual = jest.requireActual(SDK);
    return fakeClient ? { ...actual, BedrockRuntimeClient: fakeClient } : actual;
  });
  const models = require('../../../lambdas/shared/models') as typeof Models;
  return { ...models, sdk };
}

describe('createModelProvider', () => {
  beforeEach(() => jest.resetModules());
  afterEach(() => jest.dontMock(SDK));

  it('defaults to the rules provider and never loads the Bedrock SDK', async () => {
    const { createModelProvider, sdk } = load();

    const provider = createModelProvider({});
    const result = await provider.propose({ text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations', tier: 'low' });

    expect(provider.name).toBe('rules');
    expect(result.model.provider).toBe('rules');
    expect(sdk.loaded).toBe(false);
  });

  it('honours the local-mode variable name', () => {
    const { createModelProvider } = load();
    expect(createModelProvider({ WARDEN_MODEL_PROVIDER: 'rules' }).name).toBe('rules');
    expect(createModelProvider({ WARDEN_MODEL_PROVIDER: 'bedrock', MODEL_ID_LOW: 'm' }).name).toBe('bedrock');
  });

  it('builds the Bedrock client on first use, with the SDK retries off and the configured models and prices', async () => {
    const clients: Record<string, unknown>[] = [];
    const sent: Record<string, unknown>[] = [];
    class FakeBedrockClient {
      constructor(config: Record<string, unknown>) {
        clients.push(config);
      }
      async send(command: { input: unknown }) {
        sent.push(command.input as Record<string, unknown>);
        return recorded();
      }
    }
    const { createModelProvider, sdk } = load(FakeBedrockClient);

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
    expect(clients).toEqual([{ maxAttempts: 1 }]);
    expect(sent.map((input) => input.modelId)).toEqual(['strong-model', 'small-model']);
    expect(result.model).toMatchObject({ provider: 'bedrock', id: 'strong-model', inputTokens: 812, outputTokens: 96 });
    // 812/1000 * 0.003 + 96/1000 * 0.015
    expect(result.model.costUsd).toBeCloseTo(0.003876, 6);
  });

  it('uses the one configured model id for both tiers', async () => {
    const sent: Record<string, unknown>[] = [];
    class FakeBedrockClient {
      async send(command: { input: unknown }) {
        sent.push(command.input as Record<string, unknown>);
        return recorded();
      }
    }
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
