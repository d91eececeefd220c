import * as z from 'zod';
import type { ModelProvider } from '../ports';
import type { ActionName } from '../schemas/actions';
import type { InferenceResult, ModelTier } from '../schemas/workflow';
import { OpenAiCompatibleProvider } from './openai-compatible';
import { RulesProvider } from './rules';

export { RULES_CONFIDENCE, RULES_MODEL, RulesProvider } from './rules';
// Types only: importing them costs nothing at run time, so the rules path loads no SDK.
export type { BedrockProviderOptions, ModelPrice, RetryOptions } from './bedrock';
export { OpenAiCompatibleProvider, type OpenAiCompatibleProviderOptions } from './openai-compatible';

/** Model configuration from the environment, parsed at the boundary like any other input. */
const ModelConfig = z.object({
  provider: z.enum(['rules', 'bedrock', 'openai-compatible']).default('rules'),
  /** openai-compatible: the API root including its version (`http://127.0.0.1:11434/v1`). */
  openAiBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
  openAiApiKey: z.string().min(1).optional(),
  modelIdLow: z.string().min(1).optional(),
  modelIdHigh: z.string().min(1).optional(),
  /** JSON: `{"<modelId>": {"inputPer1k": 0.0008, "outputPer1k": 0.004}}` (USD per 1K tokens). */
  prices: z
    .record(z.string(), z.object({ inputPer1k: z.number().min(0), outputPer1k: z.number().min(0) }))
    .optional(),
});

function parsePrices(raw: string | undefined): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error('MODEL_PRICES must be JSON: {"<modelId>": {"inputPer1k": n, "outputPer1k": n}}');
  }
}

/**
 * The configured model provider: MODEL_PROVIDER (or WARDEN_MODEL_PROVIDER, the local-mode
 * name) = `rules` (default) | `bedrock` | `openai-compatible`, with MODEL_ID_LOW /
 * MODEL_ID_HIGH and optional MODEL_PRICES; `openai-compatible` also takes OPENAI_BASE_URL
 * (required) and OPENAI_API_KEY (optional). A bad configuration throws here, at cold start, not on the first request.
 */
export function createModelProvider(env: NodeJS.ProcessEnv = process.env): ModelProvider {
  const parsed = ModelConfig.safeParse({
    provider: env.MODEL_PROVIDER || env.WARDEN_MODEL_PROVIDER || undefined,
    modelIdLow: env.MODEL_ID_LOW || undefined,
    modelIdHigh: env.MODEL_ID_HIGH || undefined,
    prices: parsePrices(env.MODEL_PRICES),
    openAiBaseUrl: env.OPENAI_BASE_URL || undefined,
    openAiApiKey: env.OPENAI_API_KEY || undefined,
  });
  if (!parsed.success) {
    // Path and message only: zod's messages for these fields do not quote the value (the key).
    throw new Error(`invalid model configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  if (config.provider === 'rules') return new RulesProvider();

  const low = config.modelIdLow ?? config.modelIdHigh;
  const high = config.modelIdHigh ?? config.modelIdLow;
  if (!low || !high) throw new Error(`MODEL_PROVIDER=${config.provider} needs MODEL_ID_LOW and/or MODEL_ID_HIGH`);
  if (config.provider === 'openai-compatible') {
    if (!config.openAiBaseUrl) throw new Error('MODEL_PROVIDER=openai-compatible needs OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1)');
    return new OpenAiCompatibleProvider({
      baseUrl: config.openAiBaseUrl,
      modelIds: { low, high },
      ...(config.openAiApiKey ? { apiKey: config.openAiApiKey } : {}),
      ...(config.prices ? { prices: config.prices } : {}),
    });
  }
  return new LazyBedrockProvider({ low, high }, config.prices);
}

/**
 * Loads the Bedrock SDK and builds the client on first use, so that a Lambda configured for
 * `rules` (or one that never reaches inference) pays nothing for it at cold start.
 */
class LazyBedrockProvider implements ModelProvider {
  readonly name = 'bedrock';
  private provider?: Promise<ModelProvider>;

  constructor(
    private readonly modelIds: { low: string; high: string },
    private readonly prices?: Record<string, { inputPer1k: number; outputPer1k: number }>,
  ) {}

  propose(input: { text: string; action?: ActionName; tier: ModelTier }): Promise<InferenceResult> {
    // A failed load is not cached: the next request tries again.
    this.provider ??= this.load().catch((error: unknown) => {
      this.provider = undefined;
      throw error;
    });
    return this.provider.then((p) => p.propose(input));
  }

  private async load(): Promise<ModelProvider> {
    const [{ BedrockRuntimeClient }, { BedrockProvider }] = await Promise.all([
      import('@aws-sdk/client-bedrock-runtime'),
      import('./bedrock'),
    ]);
    // One retry layer only: BedrockProvider backs off on throttling itself.
    const client = new BedrockRuntimeClient({ maxAttempts: 1 });
    return new BedrockProvider({ client, modelIds: this.modelIds, ...(this.prices ? { prices: this.prices } : {}) });
  }
}
