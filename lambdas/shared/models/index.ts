import * as z from '../schemas/zod';
import type { ModelProvider } from '../ports';
import type { ActionName } from '../schemas/actions';
import type { InferenceResult, ModelTier } from '../schemas/workflow';
import { OpenAiCompatibleProvider } from './openai-compatible';
import { RulesProvider } from './rules';
import { quietSdkClient } from '../adapters/aws/sdk-logger';
import {
  asIs,
  parseModelIdList,
  readApiKey,
  resolveModelIds,
  sdkGetParameter,
  sdkGetSecret,
  type CaptureClient,
  type GetParameter,
  type GetSecret,
  type TierModelIds,
} from './settings';

export { RULES_CONFIDENCE, RULES_MODEL, RulesProvider } from './rules';
// Types only: importing them costs nothing at run time, so the rules path loads no SDK.
export type { BedrockProviderOptions, ModelPrice, RetryOptions } from './bedrock';
export { OpenAiCompatibleProvider, type OpenAiCompatibleProviderOptions } from './openai-compatible';
export { ModelSettingError, type GetParameter, type GetSecret } from './settings';
export { ModelAccessDenied, ModelNotFound, ModelUnavailable } from '../errors';

/** Model configuration from the environment, parsed at the boundary like any other input. */
const ModelConfig = z.object({
  provider: z._default(z.enum(['rules', 'bedrock', 'openai-compatible']), 'rules'),
  /** openai-compatible: the API root including its version (`http://127.0.0.1:11434/v1`). */
  openAiBaseUrl: z.optional(z.url({ protocol: /^https?$/ })),
  /** openai-compatible, local use: the key itself. In Lambda the stack sets the secret instead. */
  openAiApiKey: z.optional(z.string().check(z.minLength(1))),
  /** openai-compatible: the Secrets Manager secret (name or ARN) whose SecretString is the key. */
  openAiApiKeySecret: z.optional(z.string().check(z.minLength(1))),
  modelIdLow: z.optional(z.string().check(z.minLength(1))),
  modelIdHigh: z.optional(z.string().check(z.minLength(1))),
  /** SSM String parameters whose value replaces a tier's model id (read on the first model call). */
  modelIdLowParameter: z.optional(z.string().check(z.minLength(1))),
  modelIdHighParameter: z.optional(z.string().check(z.minLength(1))),
  /** The model ids a parameter may name. @default the tiers' MODEL_ID_LOW and MODEL_ID_HIGH */
  allowedModelIds: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  /** JSON: `{"<modelId>": {"inputPer1k": 0.0008, "outputPer1k": 0.004}}` (USD per 1K tokens). */
  prices: z.optional(z.record(z.string(), z.object({ inputPer1k: z.number().check(z.gte(0)), outputPer1k: z.number().check(z.gte(0)) }))),
});
type ModelConfig = z.infer<typeof ModelConfig>;

function parsePrices(raw: string | undefined): unknown {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error('MODEL_PRICES must be JSON: {"<modelId>": {"inputPer1k": n, "outputPer1k": n}}');
  }
}

function parseModelConfig(env: NodeJS.ProcessEnv): ModelConfig {
  const parsed = ModelConfig.safeParse({
    provider: env.MODEL_PROVIDER || env.WARDEN_MODEL_PROVIDER || undefined,
    modelIdLow: env.MODEL_ID_LOW || undefined,
    modelIdHigh: env.MODEL_ID_HIGH || undefined,
    modelIdLowParameter: env.MODEL_ID_LOW_PARAMETER || undefined,
    modelIdHighParameter: env.MODEL_ID_HIGH_PARAMETER || undefined,
    allowedModelIds: env.MODEL_IDS_ALLOWED ? parseModelIdList(env.MODEL_IDS_ALLOWED) : undefined,
    prices: parsePrices(env.MODEL_PRICES),
    openAiBaseUrl: env.OPENAI_BASE_URL || undefined,
    openAiApiKey: env.OPENAI_API_KEY || undefined,
    openAiApiKeySecret: env.OPENAI_API_KEY_SECRET || undefined,
  });
  if (!parsed.success) {
    // Path and message only: zod's messages for these fields do not quote the value (the key).
    throw new Error(`invalid model configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Where the settings read at run time come from: the SDKs by default, fakes in tests. */
export interface ModelProviderSources {
  /** @default GetParameter via @aws-sdk/client-ssm, loaded on first use */
  readonly getParameter?: GetParameter;
  /** @default GetSecretValue via @aws-sdk/client-secrets-manager, loaded on first use */
  readonly getSecret?: GetSecret;
  /** Wraps the Bedrock, SSM and Secrets Manager clients built here (X-Ray capture in Lambda). */
  readonly captureClient?: CaptureClient;
}

/**
 * The configured model provider: MODEL_PROVIDER (or WARDEN_MODEL_PROVIDER, the local-mode
 * name) = `rules` (default) | `bedrock` | `openai-compatible`, with MODEL_ID_LOW /
 * MODEL_ID_HIGH and optional MODEL_PRICES; `openai-compatible` also takes OPENAI_BASE_URL
 * (required) and OPENAI_API_KEY or OPENAI_API_KEY_SECRET (optional). MODEL_ID_LOW_PARAMETER /
 * MODEL_ID_HIGH_PARAMETER name SSM parameters that override a tier's model id with one of
 * MODEL_IDS_ALLOWED. A bad configuration throws here, at cold start, not on the first request;
 * the parameters and the secret are read on the first model call (once per container).
 */
export function createModelProvider(env: NodeJS.ProcessEnv = process.env, sources: ModelProviderSources = {}): ModelProvider {
  const config = parseModelConfig(env);
  if (config.provider === 'rules') return new RulesProvider();

  const low = config.modelIdLow ?? config.modelIdHigh;
  const high = config.modelIdHigh ?? config.modelIdLow;
  if (!low || !high) throw new Error(`MODEL_PROVIDER=${config.provider} needs MODEL_ID_LOW and/or MODEL_ID_HIGH`);
  const parameters = {
    ...(config.modelIdLowParameter ? { low: config.modelIdLowParameter } : {}),
    ...(config.modelIdHighParameter ? { high: config.modelIdHighParameter } : {}),
  };
  const allowed = config.allowedModelIds ?? [...new Set([low, high])];
  const getParameter = sources.getParameter ?? sdkGetParameter(sources.captureClient);
  const modelIds = (): Promise<TierModelIds> =>
    Object.keys(parameters).length === 0 ? Promise.resolve({ low, high }) : resolveModelIds({ low, high }, parameters, allowed, getParameter);
  const prices = config.prices ? { prices: config.prices } : {};

  if (config.provider === 'openai-compatible') {
    const { openAiBaseUrl: baseUrl, openAiApiKey, openAiApiKeySecret } = config;
    if (!baseUrl) throw new Error('MODEL_PROVIDER=openai-compatible needs OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1)');
    if (openAiApiKey && openAiApiKeySecret) throw new Error('set OPENAI_API_KEY or OPENAI_API_KEY_SECRET, not both');
    const getSecret = sources.getSecret ?? sdkGetSecret(sources.captureClient);
    const apiKey = (): Promise<string | undefined> => (openAiApiKeySecret ? readApiKey(openAiApiKeySecret, getSecret) : Promise.resolve(openAiApiKey));
    return new DeferredProvider('openai-compatible', async () => {
      const [ids, key] = await Promise.all([modelIds(), apiKey()]);
      return new OpenAiCompatibleProvider({ baseUrl, modelIds: ids, ...(key ? { apiKey: key } : {}), ...prices });
    });
  }
  return new DeferredProvider('bedrock', async () => {
    const [ids, [{ BedrockRuntimeClient }, { BedrockProvider, checkAwsSetup }]] = await Promise.all([
      modelIds(),
      Promise.all([import('@aws-sdk/client-bedrock-runtime'), import('./bedrock')]),
    ]);
    // One retry layer only: BedrockProvider backs off on throttling itself. Captured like every
    // other client, so that a model call is its own X-Ray subsegment.
    const client = (sources.captureClient ?? asIs)(quietSdkClient(BedrockRuntimeClient, { maxAttempts: 1 }));
    await checkAwsSetup(client.config, ids.low);
    return new BedrockProvider({ client, modelIds: ids, ...prices });
  });
}

/**
 * A provider built on its first call, then reused for the life of the container: the Bedrock
 * SDK, the SSM parameters and the API key secret are loaded then, so that a Lambda configured
 * for `rules` (or one that never reaches inference) pays nothing for them at cold start. The
 * provider the load builds carries the resolved model ids, so `model.id` in every result (what
 * the audit trail records) is the id that was actually called.
 */
class DeferredProvider implements ModelProvider {
  private provider?: Promise<ModelProvider>;

  constructor(
    readonly name: string,
    private readonly load: () => Promise<ModelProvider>,
  ) {}

  propose(input: { text: string; action?: ActionName; tier: ModelTier }): Promise<InferenceResult> {
    // A failed load is not cached: the next request tries again (a fixed parameter heals it).
    this.provider ??= this.load().catch((error: unknown) => {
      this.provider = undefined;
      throw error;
    });
    return this.provider.then((p) => p.propose(input));
  }
}
