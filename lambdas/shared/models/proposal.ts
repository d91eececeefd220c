import { createHash } from 'node:crypto';
import * as z from '../schemas/zod';
import * as PROPOSE_V2 from '../../../prompts/propose-v2';
import { actionDefinition } from '../catalog/registry';
import { ModelUnavailable } from '../errors';
import { ACTIONS, ActionName, FIELDS_SCHEMA } from '../schemas/actions';

/**
 * What every model provider shares, with no SDK import: the prompt, the proposal's JSON schema
 * (generated from the actions' zod schemas, the one source the validator also checks against),
 * cost, confidence clamping and the retry policy.
 */

/** The versioned prompt file (`prompts/`) every model provider renders. */
export const PROMPT_VERSION = PROPOSE_V2.version;

const Confidence = z.number().check(z.gte(0), z.lte(1), z.describe('Probability (0..1) that every field is exactly what the requester meant.'));

/** The structured output for one action: `{action, fields, confidence}` with that action's fields. */
function proposalSchema(action: ActionName) {
  return z.strictObject({
    action: z.literal(action).check(z.describe('The action being proposed.')),
    fields: FIELDS_SCHEMA[action],
    confidence: Confidence,
  });
}

/** When triage could not name the action: any of the catalog's (fields as anyOf of theirs, in catalog order). */
function anyProposalSchema() {
  return z.strictObject({
    action: ActionName.check(z.describe('The action being proposed.')),
    fields: z.union(ACTIONS.map((action) => FIELDS_SCHEMA[action])),
    confidence: Confidence,
  });
}

export type JsonSchema = Record<string, unknown>;

/** JSON schema as the model should fill it: `io: 'input'` so defaulted fields are optional. */
function toJsonSchema(schema: z.core.$ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema;
  return json;
}

/** Built on first use: the rules provider never needs them, so they stay off its cold start. */
const schemas = new Map<ActionName | 'any', JsonSchema>();
const prompts = new Map<ActionName | 'any', Prompt>();

/** The system prompt for one call, and the version recorded with its answer. */
export interface Prompt {
  readonly text: string;
  /** `propose-v2+<12 hex>`: the file's version, and a digest of the text and output schema sent. */
  readonly version: string;
}

/**
 * The prompt offering the named action, or every action: the catalog's descriptions and examples
 * rendered by the versioned prompt file. Adding or changing an action changes the digest, so the
 * recorded version always names exactly what the model was given.
 */
export function promptFor(action?: ActionName): Prompt {
  const key = action ?? 'any';
  let prompt = prompts.get(key);
  if (!prompt) {
    const text = PROPOSE_V2.render((action ? [action] : ACTIONS).map((name) => actionDefinition(name)));
    const digest = createHash('sha256').update(text).update('\n').update(JSON.stringify(proposalInputSchema(action))).digest('hex');
    prompt = { text, version: `${PROPOSE_V2.version}+${digest.slice(0, 12)}` };
    prompts.set(key, prompt);
  }
  return prompt;
}

/** The proposal's JSON schema for a known action, or for any action. */
export function proposalInputSchema(action?: ActionName): JsonSchema {
  const key = action ?? 'any';
  let schema = schemas.get(key);
  if (!schema) {
    schema = toJsonSchema(action ? proposalSchema(action) : anyProposalSchema());
    schemas.set(key, schema);
  }
  return schema;
}

/** The request text as the user message: fenced, so the prompt can call it data. */
export function requestMessage(text: string): string {
  return `<request>\n${text}\n</request>`;
}

/** USD per 1,000 tokens. */
export interface ModelPrice {
  readonly inputPer1k: number;
  readonly outputPer1k: number;
}

/** Cost in USD, rounded to micro-dollars; 0 for a model without a price. */
export function costUsd(prices: Readonly<Record<string, ModelPrice>> | undefined, modelId: string, inputTokens: number, outputTokens: number): number {
  const price = prices?.[modelId];
  if (!price) return 0;
  const usd = (inputTokens / 1000) * price.inputPer1k + (outputTokens / 1000) * price.outputPer1k;
  // Micro-dollars: enough for per-request cost, without float noise in the read model.
  return Math.round(usd * 1e6) / 1e6;
}

export interface RetryOptions {
  /** Total attempts including the first. @default 4 */
  readonly maxAttempts?: number;
  /** @default 250 */
  readonly baseDelayMs?: number;
  /** @default 8000 */
  readonly maxDelayMs?: number;
  /** Injectable so tests do not wait. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injectable so tests can pin the jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * Every attempt and backoff together stay within it, so a slow or hanging model ends as
   * ModelUnavailable (`timeout`) the state machine can name and retry, not as the inference
   * function's own timeout (30 s), which carries no cause. @default 25000
   */
  readonly budgetMs?: number;
  /** Injectable clock for the budget. @default Date.now */
  readonly now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function retryPolicy(options: RetryOptions | undefined): Required<RetryOptions> {
  return {
    maxAttempts: options?.maxAttempts ?? 4,
    baseDelayMs: options?.baseDelayMs ?? 250,
    maxDelayMs: options?.maxDelayMs ?? 8000,
    sleep: options?.sleep ?? defaultSleep,
    random: options?.random ?? Math.random,
    budgetMs: options?.budgetMs ?? 25_000,
    now: options?.now ?? Date.now,
  };
}

const SOCKET_CODE = /^(E[A-Z]+|ERR_[A-Z0-9_]+|UND_ERR_[A-Z_]+)$/;
// Only these tokens are taken from a message, never the rest of it (it can hold a host name).
const SOCKET_CODE_IN_TEXT = /\b(?:ECONNREFUSED|ECONNRESET|ECONNABORTED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EPIPE|ERR_HTTP2_[A-Z_]+|UND_ERR_[A-Z_]+)\b/g;

/**
 * A socket-level failure: a system error code on the error or its causes, or named in a message
 * when the SDK re-wrapped the error as text. The root cause (`ECONNREFUSED`) wins over a
 * protocol layer's code (`ERR_HTTP2_STREAM_CANCEL`).
 */
export function networkErrorCode(error: unknown): string | undefined {
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && SOCKET_CODE.test(code)) codes.push(code);
    if (typeof message === 'string') codes.push(...(message.match(SOCKET_CODE_IN_TEXT) ?? []));
  }
  return codes.find((code) => /^E[A-Z]+$/.test(code)) ?? codes[0];
}

/** An attempt shorter than this is not started: it could not finish, and only delays the failure. */
const MIN_ATTEMPT_MS = 1000;

/**
 * Runs `attempt` until it succeeds, retrying ModelUnavailable only (throttled, timed out, a
 * server fault, unreachable) with backoff, within the policy's attempts and time budget; each
 * attempt gets the time it may take. Any other error (access denied, not found, a refused
 * setting) is thrown at once: another attempt would get the same answer.
 */
export async function withRetries<T>(
  policy: Required<RetryOptions>,
  attemptTimeoutMs: number,
  describe: string,
  attempt: (timeoutMs: number) => Promise<T>,
): Promise<T> {
  const deadline = policy.now() + policy.budgetMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt(Math.max(1, Math.min(attemptTimeoutMs, deadline - policy.now())));
    } catch (error) {
      if (!(error instanceof ModelUnavailable)) throw error;
      const delay = backoffMs(policy, n);
      if (n >= policy.maxAttempts || deadline - policy.now() - delay < MIN_ATTEMPT_MS) {
        throw new ModelUnavailable(error.modelCause, `${describe} still failing after ${n} attempt${n === 1 ? '' : 's'} (${error.detail}).`, { cause: error });
      }
      await policy.sleep(delay);
    }
  }
}

/** Exponential backoff with full jitter before attempt `attempt + 1`. */
export function backoffMs(policy: Required<RetryOptions>, attempt: number): number {
  return Math.floor(policy.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
}

export function clamp01(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

export { isRecord } from '../is-record';
