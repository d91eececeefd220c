import {
  ConverseCommand,
  type BedrockRuntimeClient,
  type ContentBlock,
  type ConverseCommandInput,
  type ConverseCommandOutput,
  type ToolInputSchema,
} from '@aws-sdk/client-bedrock-runtime';
import { ModelUnavailable } from '../errors';
import type { ModelProvider } from '../ports';
import type { ActionName } from '../schemas/actions';
import type { InferenceResult, ModelTier } from '../schemas/workflow';
import {
  PROMPT,
  backoffMs,
  clamp01,
  costUsd,
  isRecord,
  proposalInputSchema,
  requestMessage,
  retryPolicy,
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

export { PROMPT_VERSION, SYSTEM_PROMPT, proposalInputSchema, type ModelPrice, type RetryOptions } from './proposal';
export const PROPOSAL_TOOL_NAME = 'submit_proposal';

export interface BedrockProviderOptions {
  /** Construct it with `maxAttempts: 1`: this provider does its own retries, and two layers multiply. */
  readonly client: Pick<BedrockRuntimeClient, 'send'>;
  /** Model (or inference profile) ids by triage's model tier. */
  readonly modelIds: { readonly low: string; readonly high: string };
  /** Prices by model id, for `costUsd`. A model without a price costs 0 (and says so in metrics). */
  readonly prices?: Readonly<Record<string, ModelPrice>>;
  readonly retry?: RetryOptions;
  /** @default 1024 */
  readonly maxTokens?: number;
}

/** Errors worth another attempt: capacity and transient service faults, never a bad request. */
const RETRYABLE_ERRORS = new Set(['ThrottlingException', 'ServiceUnavailableException', 'ModelNotReadyException']);

export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof e.name === 'string' && RETRYABLE_ERRORS.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  return typeof status === 'number' && status >= 500;
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
    const response = await this.converse(this.request(modelId, input.text, input.action));
    const inputTokens = response.usage?.inputTokens ?? 0;
    const outputTokens = response.usage?.outputTokens ?? 0;
    const model = {
      provider: this.name,
      id: modelId,
      inputTokens,
      outputTokens,
      costUsd: costUsd(this.options.prices, modelId, inputTokens, outputTokens),
      promptVersion: PROMPT.version,
    };

    const toolUse = toolUseOf(response);
    // No tool call (the model answered in prose, or was cut off): nothing to propose.
    if (!toolUse || !isRecord(toolUse.input)) return { confidence: 0, model };
    const { confidence, ...candidate } = toolUse.input;
    return { candidate, confidence: clamp01(confidence), model };
  }

  private request(modelId: string, text: string, action?: ActionName): ConverseCommandInput {
    return {
      modelId,
      system: [{ text: PROMPT.text }],
      messages: [{ role: 'user', content: [{ text: requestMessage(text) }] }],
      inferenceConfig: { maxTokens: this.options.maxTokens ?? 1024, temperature: 0 },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: PROPOSAL_TOOL_NAME,
              description: action
                ? `Submit the ${action} proposal extracted from the request.`
                : 'Submit the proposal extracted from the request: purchase_order, tier_upgrade or refund.',
              inputSchema: { json: proposalInputSchema(action) as ToolInputSchema.JsonMember['json'] },
            },
          },
        ],
        toolChoice: { tool: { name: PROPOSAL_TOOL_NAME } },
      },
    };
  }

  /** Retries capacity and 5xx errors with exponential backoff and full jitter, then gives up. */
  private async converse(input: ConverseCommandInput): Promise<ConverseCommandOutput> {
    const { maxAttempts, sleep } = this.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.options.client.send(new ConverseCommand(input));
      } catch (error) {
        // A non-retryable error (validation, access denied) is a bug or misconfiguration:
        // let it surface as itself rather than as a transient outage.
        if (!isRetryable(error)) throw error;
        const name = (error as { name?: string }).name ?? 'Error';
        if (attempt >= maxAttempts) {
          throw new ModelUnavailable(`Bedrock ${input.modelId} still failing after ${attempt} attempts (${name}).`);
        }
        await sleep(backoffMs(this.retry, attempt));
      }
    }
  }
}
