import { ConnectorFailed } from '../errors';
import type { ConnectorConfig } from './config';
import { ConnectorErrorReply, type ConnectorEvent } from './events';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature';

/** Sends one event to a team's system and returns its (not yet validated) answer; throws ConnectorFailed. */
export type Transport = (event: ConnectorEvent) => Promise<unknown>;

export type HttpConfig = Extract<ConnectorConfig, { type: 'http' }>;
export type LambdaConfig = Extract<ConnectorConfig, { type: 'lambda' }>;

/** The signing secret's value; read once per container. */
export type SecretReader = (secret: HttpConfig['secret']) => Promise<string>;

export interface RetryTiming {
  /** First backoff ceiling, doubled per attempt (full jitter: a random wait up to it). @default 200 */
  baseDelayMs?: number;
  /** @default 2000 */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What one attempt came to: an answer, or a failure that is (or is not) worth another attempt. */
type Attempt = { ok: true; body: unknown } | { ok: false; retryable: boolean; reason: ConnectorFailed['reason']; detail: string };

/**
 * HTTPS POST of the event, signed (`Warden-Signature`) and keyed (`Idempotency-Key`, the same on
 * every attempt); a timeout per attempt; retries with exponential backoff and full jitter on
 * 429, 5xx and network errors only. Error messages carry the status, never the body or secret.
 */
export function httpTransport(name: string, config: HttpConfig, readSecret: SecretReader, timing: RetryTiming = {}): Transport {
  const baseDelayMs = timing.baseDelayMs ?? 200;
  const maxDelayMs = timing.maxDelayMs ?? 2000;
  const sleep = timing.sleep ?? sleepFor;

  async function attempt(body: string, idempotencyKey: string, secret: string): Promise<Attempt> {
    let response: Response;
    try {
      response = await fetch(config.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          [IDEMPOTENCY_HEADER]: idempotencyKey,
          // Signed per attempt: a retry after a long backoff is still fresh.
          [SIGNATURE_HEADER]: signatureHeader(secret, body),
        },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      // A DOMException, not always an Error of this realm: read its name.
      const errorName = (error as { name?: unknown } | null)?.name;
      const timedOut = errorName === 'TimeoutError' || errorName === 'AbortError';
      return timedOut
        ? { ok: false, retryable: true, reason: 'timeout', detail: `no answer within ${config.timeoutMs} ms` }
        : { ok: false, retryable: true, reason: 'network', detail: 'the endpoint could not be reached' };
    }
    let text: string;
    try {
      text = await response.text();
    } catch {
      return { ok: false, retryable: true, reason: 'network', detail: `the answer (HTTP ${response.status}) was cut off` };
    }
    if (response.status === 429) return { ok: false, retryable: true, reason: 'throttled', detail: 'HTTP 429' };
    if (response.status >= 500) return { ok: false, retryable: true, reason: 'http_status', detail: `HTTP ${response.status}` };
    if (response.status < 200 || response.status >= 300) return { ok: false, retryable: false, reason: 'http_status', detail: `HTTP ${response.status}` };
    try {
      return { ok: true, body: JSON.parse(text) };
    } catch {
      return { ok: false, retryable: false, reason: 'invalid_response', detail: `HTTP ${response.status} with a body that is not JSON` };
    }
  }

  return async (event) => {
    let secret: string;
    try {
      secret = await readSecret(config.secret);
    } catch (error) {
      throw new ConnectorFailed(name, 'secret_unavailable', 'the signing secret could not be read', { cause: error });
    }
    const body = JSON.stringify(event);
    let last: Extract<Attempt, { ok: false }> | undefined;
    for (let n = 1; n <= config.maxAttempts; n++) {
      if (n > 1) await sleep(Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 2)));
      const result = await attempt(body, event.idempotencyKey, secret);
      if (result.ok) return result.body;
      last = result;
      if (!result.retryable) throw new ConnectorFailed(name, result.reason, `${result.detail} (not retried)`);
    }
    throw new ConnectorFailed(name, last?.reason ?? 'network', `${last?.detail ?? 'failed'} after ${config.maxAttempts} attempts`);
  };
}

/** The one call a lambda connector makes: RequestResponse invoke of the function with the event. */
export type InvokeFunction = (
  functionArn: string,
  payload: string,
) => Promise<{ statusCode?: number; functionError?: string; payload?: string }>;

/**
 * Invokes the team's function with the event and reads back its receipt (or facts), or its
 * typed refusal `{ "error": { "code", "message" } }`. The SDK retries throttling and service
 * faults; an error the function itself raised is not retried.
 */
export function lambdaTransport(name: string, config: LambdaConfig, invoke: InvokeFunction): Transport {
  return async (event) => {
    let result: Awaited<ReturnType<InvokeFunction>>;
    try {
      result = await invoke(config.functionArn, JSON.stringify(event));
    } catch (error) {
      const errorName = error instanceof Error ? error.name : 'Error';
      throw new ConnectorFailed(name, 'network', `the function could not be invoked (${errorName})`, { cause: error });
    }
    if (result.functionError) throw new ConnectorFailed(name, 'function_error', `the function failed (${result.functionError === 'Handled' ? 'handled' : 'unhandled'} error)`);
    let body: unknown;
    try {
      body = JSON.parse(result.payload ?? '');
    } catch {
      throw new ConnectorFailed(name, 'invalid_response', 'the function returned something that is not JSON');
    }
    const refusal = ConnectorErrorReply.safeParse(body);
    // The code is the team's stable snake_case name; their message may quote records, so it stays out.
    if (refusal.success) throw new ConnectorFailed(name, 'remote_error', `the function refused: ${refusal.data.error.code}`);
    return body;
  };
}
