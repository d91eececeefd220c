import * as z from '../schemas/zod';

/**
 * What Warden sends a team's connector (lambda payload, or http body), versioned by `type`.
 * Documented in docs/connectors.md; a receiver parses these with the same schemas.
 */

const Base = {
  /** Warden's request id. */
  requestId: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The same on every retry of this request's facts read or effect: apply an effect once per key. */
  idempotencyKey: z.string().check(z.minLength(1), z.maxLength(128)),
  /** The catalog action, snake_case. */
  action: z.string().check(z.minLength(1), z.maxLength(64)),
  /** The action's fields as validated (for an effect: as approved). */
  fields: z.record(z.string(), z.unknown()),
};

/** Read the records the action's policy needs; answer with the action's facts shape. */
export const FactsEvent = z.strictObject({ type: z.literal('warden.facts.v1'), ...Base });
export type FactsEvent = z.infer<typeof FactsEvent>;

/** Apply the approved effect once per idempotency key; answer with the action's receipt. */
export const EffectEvent = z.strictObject({
  type: z.literal('warden.effect.v1'),
  ...Base,
  /** The approver's principal id, or `policy` when policy approved it with no human. */
  approvedBy: z.string().check(z.minLength(1), z.maxLength(256)),
});
export type EffectEvent = z.infer<typeof EffectEvent>;

export const ConnectorEvent = z.discriminatedUnion('type', [FactsEvent, EffectEvent]);
export type ConnectorEvent = z.infer<typeof ConnectorEvent>;

/** A lambda connector's typed refusal (an http receiver answers 4xx instead). */
export const ConnectorErrorReply = z.strictObject({
  error: z.strictObject({ code: z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/)), message: z.string().check(z.maxLength(1000)) }),
});

/** The idempotency key of a request's facts read or effect: derived, so every retry sends the same. */
export function idempotencyKeyFor(requestId: string, kind: 'facts' | 'effect'): string {
  return `${requestId}.${kind}`;
}
