import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The http connector's request signature: `Warden-Signature: t=<unix seconds>,v1=<hex>`, where
 * v1 = HMAC-SHA256(secret, `${t}.${body}`) over the exact body bytes. Receivers verify it with
 * `verifySignature` (docs/connectors.md shows the same in a few lines).
 */
export const SIGNATURE_HEADER = 'Warden-Signature';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Older than this, a signed request is a replay. */
export const MAX_SIGNATURE_AGE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

export function signatureHeader(secret: string, body: string, nowSeconds: number = Math.floor(Date.now() / 1000)): string {
  return `t=${nowSeconds},v1=${hmac(secret, nowSeconds, body)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'mismatch' | 'too_old' | 'in_future' };

/**
 * Checks a `Warden-Signature` header against the raw body: the HMAC (constant time), and a
 * timestamp no older than five minutes (nor more than five in the future) so a captured request
 * cannot be replayed later.
 */
export function verifySignature(
  secret: string,
  body: string,
  header: string | undefined,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing' };
  const parts = new Map(header.split(',').map((part) => part.trim().split('=', 2) as [string, string]));
  const t = parts.get('t');
  const v1 = parts.get('v1');
  if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(t);
  const expected = Buffer.from(hmac(secret, timestamp, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(v1, 'hex'))) return { ok: false, reason: 'mismatch' };
  if (nowSeconds - timestamp > MAX_SIGNATURE_AGE_SECONDS) return { ok: false, reason: 'too_old' };
  if (timestamp - nowSeconds > MAX_SIGNATURE_AGE_SECONDS) return { ok: false, reason: 'in_future' };
  return { ok: true };
}
