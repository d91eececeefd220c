import { ModelAccessDenied, ModelNotFound, ModelSettingError, ModelUnavailable } from '../errors';
import type { ModelProvider } from '../ports';
import type { ActionName } from '../schemas/actions';
import type { InferenceResult, ModelTier, ModelUsage } from '../schemas/workflow';
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
 * The `openai-compatible` provider: one `POST {baseUrl}/chat/completions` per request to any
 * server that speaks the OpenAI chat-completions protocol (vLLM, Ollama, LM Studio, ...), with a
 * JSON-schema response format generated from the actions' zod schemas — the same schema the
 * Bedrock provider gives its tool — and the same system prompt (a versioned file).
 *
 * No SDK: global `fetch` with a timeout. Nothing here logs, and no error message carries the
 * prompt, the response body or the API key.
 */

export const RESPONSE_FORMAT_NAME = 'proposal';

export interface OpenAiCompatibleProviderOptions {
  /** The API root including its version, as OpenAI clients take it: `http://127.0.0.1:11434/v1`. */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <key>` when set; local servers usually need none. */
  readonly apiKey?: string;
  /** Model ids by triage's model tier, as the server names them. */
  readonly modelIds: { readonly low: string; readonly high: string };
  /** Prices by model id, for `costUsd`. A model without a price costs 0 (self-hosted, say). */
  readonly prices?: Readonly<Record<string, ModelPrice>>;
  readonly retry?: RetryOptions;
  /** Per attempt (within the retry budget). @default 20000 */
  readonly timeoutMs?: number;
  /** @default 1024 */
  readonly maxTokens?: number;
  /** Injectable for tests. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
}

interface ChatCompletion {
  choices?: { message?: { content?: unknown } }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
}

function tokens(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

/** The JSON object in the message, tolerating a Markdown code fence around it; undefined if none. */
function parseContent(content: unknown): Record<string, unknown> | undefined {
  if (typeof content !== 'string') return undefined;
  const trimmed = content.trim();
  const fenced = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(trimmed);
  try {
    const value: unknown = JSON.parse(fenced?.[1] ?? trimmed);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export class OpenAiCompatibleProvider implements ModelProvider {
  readonly name = 'openai-compatible';
  private readonly retry: Required<RetryOptions>;
  private readonly endpoint: string;

  constructor(private readonly options: OpenAiCompatibleProviderOptions) {
    this.retry = retryPolicy(options.retry);
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async propose(input: { text: string; action?: ActionName; tier: ModelTier }): Promise<InferenceResult> {
    const modelId = this.options.modelIds[input.tier];
    const prompt = promptFor(input.action);
    const body = await this.complete(modelId, {
      model: modelId,
      messages: [
        { role: 'system', content: prompt.text },
        { role: 'user', content: requestMessage(input.text) },
      ],
      temperature: 0,
      max_tokens: this.options.maxTokens ?? 1024,
      response_format: {
        type: 'json_schema',
        json_schema: { name: RESPONSE_FORMAT_NAME, schema: proposalInputSchema(input.action), strict: true },
      },
    });

    const completion: ChatCompletion = isRecord(body) ? body : {};
    const inputTokens = tokens(completion.usage?.prompt_tokens);
    const outputTokens = tokens(completion.usage?.completion_tokens);
    const model: ModelUsage = {
      provider: this.name,
      id: modelId,
      inputTokens,
      outputTokens,
      costUsd: costUsd(this.options.prices, modelId, inputTokens, outputTokens),
      promptVersion: prompt.version,
    };

    const answer = parseContent(Array.isArray(completion.choices) ? completion.choices[0]?.message?.content : undefined);
    // Prose, a truncated object or an empty answer: nothing to propose.
    if (!answer) return { confidence: 0, model };
    const { confidence, ...candidate } = answer;
    return { candidate, confidence: clamp01(confidence), model };
  }

  /** Retries 429, 5xx, timeouts and network errors with backoff; anything else fails at once, by class. */
  private complete(modelId: string, request: Record<string, unknown>): Promise<unknown> {
    const payload = JSON.stringify(request);
    return withRetries(this.retry, this.options.timeoutMs ?? 20_000, `openai-compatible model ${modelId}`, (timeoutMs) =>
      this.attempt(modelId, payload, timeoutMs),
    );
  }

  /** One HTTP exchange: the parsed body (undefined when it is not JSON), or a named error. */
  private async attempt(modelId: string, payload: string, timeoutMs: number): Promise<unknown> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    let response: Response;
    try {
      response = await doFetch(this.endpoint, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      // Only the error's name or code: a fetch error's message can carry the URL, never the key or prompt.
      // (Duck-typed: a DOMException from another realm is not `instanceof Error`.)
      const name = typeof error === 'object' && error !== null && typeof (error as { name?: unknown }).name === 'string' ? (error as { name: string }).name : 'Error';
      if (name === 'TimeoutError') throw new ModelUnavailable('timeout', `no answer within ${timeoutMs} ms`);
      throw new ModelUnavailable('network', `network error ${networkErrorCode(error) ?? name}`);
    }
    // The body is read in every case, so the connection is released; error bodies are not
    // quoted because a server may echo the prompt in them.
    const raw = await response.text().catch(() => '');
    if (!response.ok) throw this.refusal(modelId, response.status);
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  }

  /** What an HTTP error status means, as a named error (only the status is quoted). */
  private refusal(modelId: string, status: number): Error {
    const model = `openai-compatible model ${modelId}`;
    if (status === 429) return new ModelUnavailable('throttled', `HTTP ${status}`);
    if (status === 408) return new ModelUnavailable('timeout', `HTTP ${status}`);
    if (status >= 500) return new ModelUnavailable('server_error', `HTTP ${status}`);
    if (status === 401) {
      return this.options.apiKey
        ? new ModelAccessDenied('invalid_credentials', `${model}: the server refused the API key (HTTP 401). Check OPENAI_API_KEY or its secret.`)
        : new ModelAccessDenied('no_credentials', `${model}: the server wants an API key (HTTP 401). Set OPENAI_API_KEY or OPENAI_API_KEY_SECRET.`);
    }
    if (status === 403) return new ModelAccessDenied('access_denied', `${model}: the API key may not use this model (HTTP 403).`);
    if (status === 404) {
      return new ModelNotFound('not_found', `${model}: not found (HTTP 404). Check the model id as the server names it, and that OPENAI_BASE_URL ends in its API version (/v1).`);
    }
    return new ModelSettingError('invalid_request', `${model} refused the request (HTTP ${status}). Check that the server supports JSON-schema response formats and the model's settings.`);
  }
}
