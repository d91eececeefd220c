import {
  ConverseCommand,
  type BedrockRuntimeClient,
  type ContentBlock,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  type ToolInputSchema,
} from '@aws-sdk/client-bedrock-runtime';
import { orList } from '../catalog/registry';
import { ModelAccessDenied, ModelCallFailed, ModelNotFound, ModelSettingError, ModelUnavailable } from '../errors';
import type { ModelProvider } from '../ports';
import { ACTIONS, type ActionName } from '../schemas/actions';
import type { InferenceResult, ModelTier } from '../schemas/workflow';
import {
  promptFor,
  clamp01,
  costUsd,
  isRecord,
  networkErrorCode,
  proposalInputSchema,
  requestMessage,
  retryPolicy,
  withRetries,
  type ModelPrice,
  type RetryOptions,
} from './proposal';

/**
 * The `bedrock` provider: one Converse call per request, with a single forced tool whose input
 * schema is generated from the actions' zod schemas (`proposalInputSchema`, shared with every
 * provider), so the model's structured output and the validator's first check come from one
 * source. This file is the only one in the domain that touches the Bedrock SDK (it is the
 * adapter behind the `ModelProvider` port).
 *
 * Nothing here logs: the prompt carries the (scrubbed) request text and the response echoes it.
 */

export { PROMPT_VERSION, promptFor, proposalInputSchema, type ModelPrice, type RetryOptions } from './proposal';
export const PROPOSAL_TOOL_NAME = 'submit_proposal';

export interface BedrockProviderOptions {
  /** Construct it with `maxAttempts: 1`: this provider does its own retries, and two layers multiply. */
  readonly client: Pick<BedrockRuntimeClient, 'send'>;
  /** Model (or inference profile) ids by triage's model tier. */
  readonly modelIds: { readonly low: string; readonly high: string };
  /** Prices by model id, for `costUsd`. A model without a price costs 0 (and says so in metrics). */
  readonly prices?: Readonly<Record<string, ModelPrice>>;
  readonly retry?: RetryOptions;
  /** Per attempt (within the retry budget). @default 20000 */
  readonly timeoutMs?: number;
  /** @default 1024 */
  readonly maxTokens?: number;
}

const INVALID_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidClientTokenId',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
]);
const THROTTLED = new Set(['ThrottlingException', 'ServiceQuotaExceededException', 'TooManyRequestsException']);
const SERVER_FAULTS = new Set(['InternalServerException', 'ServiceUnavailableException', 'ModelErrorException', 'ModelNotReadyException']);
// Bedrock says these in the message only, under more than one exception name (ResourceNotFound,
// Validation; a Legacy model's message even starts "Access denied."): matched, never quoted.
const END_OF_LIFE = /end of (its )?life|end-of-life|marked by provider as legacy/i;
const INVALID_MODEL_ID = /model identifier is invalid|invalid model identifier/i;
const NEEDS_PROFILE = /on-demand throughput isn.t supported|inference profile/i;

/**
 * What a failed Converse call means, as a named error: from the SDK error's name and HTTP status,
 * and its message matched against a few known phrasings. The message itself is never quoted:
 * Bedrock's can name the account and the role, and nothing here may carry the prompt.
 */
export function classifyBedrockError(error: unknown, modelId: string, timeout?: { ms: number }): ModelCallFailed {
  if (error instanceof ModelCallFailed) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const what = status === undefined ? name : `${name}, HTTP ${status}`;
  const model = `Bedrock model ${modelId}`;
  const options = { cause: error };

  if (timeout) return new ModelUnavailable('timeout', `no answer within ${timeout.ms} ms`, options);
  if (name === 'CredentialsProviderError') {
    return new ModelAccessDenied(
      'no_credentials',
      `${model}: no AWS credentials were found (${name}). Locally, set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; in Lambda the function's role provides them.`,
      options,
    );
  }
  if (message === 'Region is missing') {
    return new ModelSettingError('no_region', `${model}: no AWS region is configured. Set AWS_REGION (or a region in the AWS profile).`, options);
  }
  if (INVALID_CREDENTIALS.has(name) || status === 401) {
    return new ModelAccessDenied('invalid_credentials', `${model}: the AWS credentials were refused (${what}): expired or invalid; refresh them.`, options);
  }
  if (status !== undefined && status >= 400 && status < 500 && END_OF_LIFE.test(message)) {
    return new ModelNotFound('end_of_life', `${model} is past its end of life (${what}). Choose a current model or inference profile id.`, options);
  }
  if (name === 'AccessDeniedException' || status === 403) {
    return new ModelAccessDenied(
      'access_denied',
      `${model}: access denied (${what}). The role may not call bedrock:InvokeModel on it, or model access is not enabled for it in this account and region.`,
      options,
    );
  }
  if (name === 'ResourceNotFoundException' || status === 404 || (name === 'ValidationException' && INVALID_MODEL_ID.test(message))) {
    return new ModelNotFound('not_found', `${model} does not exist in this region (${what}). Check the model id and AWS_REGION.`, options);
  }
  if (name === 'ValidationException' && NEEDS_PROFILE.test(message)) {
    return new ModelSettingError(
      'inference_profile_required',
      `${model} can only be called through an inference profile (${what}). Use the profile id (for example us.${modelId}).`,
      options,
    );
  }
  if (THROTTLED.has(name) || (status === 429 && !SERVER_FAULTS.has(name))) return new ModelUnavailable('throttled', what, options);
  if (name === 'ModelTimeoutException' || status === 408) return new ModelUnavailable('timeout', what, options);
  if (SERVER_FAULTS.has(name) || (status !== undefined && status >= 500)) return new ModelUnavailable('server_error', what, options);
  const code = networkErrorCode(error);
  if (status === undefined && code) return new ModelUnavailable('network', `network error ${code}`, options);
  if (status !== undefined && status >= 400) {
    return new ModelSettingError('invalid_request', `${model} refused the request (${what}). Check the model's settings (maxTokens, tool use support).`, options);
  }
  // An error with no status and no socket code (an unreadable response, say): a service fault.
  return new ModelUnavailable('server_error', what, options);
}

/**
 * Before the first call: a region and credentials, each failure by class. With neither (an empty
 * environment) the missing credentials are named, not only the region the SDK would stop at:
 * setting a region would just reveal the next problem.
 */
export async function checkAwsSetup(
  config: { region: () => Promise<string>; credentials: () => Promise<unknown> },
  modelId: string,
): Promise<void> {
  const noRegion = await config.region().then(
    () => undefined,
    (error: unknown) => error,
  );
  try {
    await config.credentials();
  } catch (error) {
    throw classifyBedrockError(error, modelId);
  }
  if (noRegion) throw classifyBedrockError(noRegion, modelId);
}

function toolUseOf(response: ConverseCommandOutput): ContentBlock.ToolUseMember['toolUse'] | undefined {
  const blocks = response.output?.message?.content ?? [];
  return blocks.find((b) => b.toolUse?.name === PROPOSAL_TOOL_NAME)?.toolUse;
}

export class BedrockProvider implements ModelProvider {
  readonly name = 'bedrock';
  private readonly retry: Required<RetryOptions>;

  constructor(private readonly options: BedrockProviderOptions) {
    this.retry = retryPolicy(options.retry);
  }

  async propose(input: { text: string; action?: ActionName; tier: ModelTier }): Promise<InferenceResult> {
    const modelId = this.options.modelIds[input.tier];
    const prompt = promptFor(input.action);
    const response = await this.converse(this.request(modelId, prompt.text, input.text, input.action));
    const inputTokens = response.usage?.inputTokens ?? 0;
    const outputTokens = response.usage?.outputTokens ?? 0;
    const model = {
      provider: this.name,
      id: modelId,
      inputTokens,
      outputTokens,
      costUsd: costUsd(this.options.prices, modelId, inputTokens, outputTokens),
      promptVersion: prompt.version,
    };

    const toolUse = toolUseOf(response);
    // No tool call (the model answered in prose, or was cut off): nothing to propose.
    if (!toolUse || !isRecord(toolUse.input)) return { confidence: 0, model };
    const { confidence, ...candidate } = toolUse.input;
    return { candidate, confidence: clamp01(confidence), model };
  }

  private request(modelId: string, system: string, text: string, action?: ActionName): ConverseCommandInput {
    return {
      modelId,
      system: [{ text: system }],
      messages: [{ role: 'user', content: [{ text: requestMessage(text) }] }],
      inferenceConfig: { maxTokens: this.options.maxTokens ?? 1024, temperature: 0 },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: PROPOSAL_TOOL_NAME,
              description: action
                ? `Submit the ${action} proposal extracted from the request.`
                : `Submit the proposal extracted from the request: ${orList(ACTIONS)}.`,
              inputSchema: { json: proposalInputSchema(action) as ToolInputSchema.JsonMember['json'] },
            },
          },
        ],
        toolChoice: { tool: { name: PROPOSAL_TOOL_NAME } },
      },
    };
  }

  /** Retries throttling, timeouts, 5xx and network errors with backoff; anything else fails at once, by class. */
  private converse(input: ConverseCommandInput): Promise<ConverseCommandOutput> {
    const modelId = input.modelId ?? '';
    return withRetries(this.retry, this.options.timeoutMs ?? 20_000, `Bedrock model ${modelId}`, async (timeoutMs) => {
      const abortSignal = AbortSignal.timeout(timeoutMs);
      try {
        return await this.options.client.send(new ConverseCommand(input), { abortSignal });
      } catch (error) {
        throw classifyBedrockError(error, modelId, abortSignal.aborted ? { ms: timeoutMs } : undefined);
      }
    });
  }
}
