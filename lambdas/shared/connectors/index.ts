import * as z from '../schemas/zod';
import { actionDefinition } from '../catalog/registry';
import { ConnectorFailed } from '../errors';
import type { ApplyEffect, RecordReader, RecordTable } from '../ports';
import type { Proposal } from '../schemas/actions';
import type { EffectReceipt } from '../schemas/workflow';
import { applyBuiltinEffect, readBuiltinFacts } from './builtin';
import { connectorsOf, type ConnectorConfig, type ConnectorsConfig } from './config';
import { idempotencyKeyFor } from './events';
import { httpTransport, lambdaTransport, type InvokeFunction, type RetryTiming, type SecretReader, type Transport } from './transports';

export { CONNECTORS_ENV, ConnectorConfig, ConnectorsConfig, connectorsFromEnv, connectorsOf, LAMBDA_ARN, SECRET_ARN, unconfiguredActions } from './config';
export { ConnectorEvent, ConnectorErrorReply, EffectEvent, FactsEvent, idempotencyKeyFor } from './events';
export { IDEMPOTENCY_HEADER, MAX_SIGNATURE_AGE_SECONDS, SIGNATURE_HEADER, signatureHeader, verifySignature, type SignatureCheck } from './signature';
export type { InvokeFunction, RetryTiming, SecretReader } from './transports';

export interface ConnectorDeps {
  /** For http connectors. */
  readSecret?: SecretReader;
  /** For lambda connectors. */
  invoke?: InvokeFunction;
  timing?: RetryTiming;
}

/** `<action> effect http`: how messages and logs name a connector. */
export function connectorName(action: string, kind: 'facts' | 'effect', config: ConnectorConfig): string {
  return `${action} ${kind} ${config.type}`;
}

/**
 * The facts and effect connectors of every action, as configured. Every answer, the builtin's
 * too, is checked against the action's declared facts or receipt schema before anything uses it.
 */
export class Connectors {
  constructor(
    private readonly config: ConnectorsConfig,
    private readonly deps: ConnectorDeps = {},
  ) {}

  /**
   * The records the action's policy reads (without `today`, which the validator adds), as of
   * `today` (UTC, `YYYY-MM-DD`) for the builtin; the `warden.facts.v1` event does not carry it.
   */
  async readFacts(args: { requestId: string; proposal: Proposal; records: RecordReader; today?: string }): Promise<Record<string, unknown>> {
    const { requestId, proposal, records, today } = args;
    const config = connectorsOf(this.config, proposal.action).facts;
    const name = connectorName(proposal.action, 'facts', config);
    const answer =
      config.type === 'builtin'
        ? await readBuiltinFacts(proposal, records, today === undefined ? undefined : { today }, name)
        : await this.transport(name, config)({ type: 'warden.facts.v1', requestId, idempotencyKey: idempotencyKeyFor(requestId, 'facts'), action: proposal.action, fields: proposal.fields });
    return checked(name, actionDefinition(proposal.action).facts, answer, 'facts');
  }

  /** The effect, for SystemOfRecord.execute to apply once it holds the proposal's claim. */
  effect(args: { requestId: string; at: string; approvedBy: string; records: RecordTable }): ApplyEffect {
    const { requestId, at, approvedBy, records } = args;
    return async (proposal) => {
      const config = connectorsOf(this.config, proposal.action).effect;
      const name = connectorName(proposal.action, 'effect', config);
      const answer =
        config.type === 'builtin'
          ? await applyBuiltinEffect(proposal, records, { requestId, at }, name)
          : await this.transport(name, config)({
              type: 'warden.effect.v1',
              requestId,
              idempotencyKey: idempotencyKeyFor(requestId, 'effect'),
              action: proposal.action,
              fields: proposal.fields,
              approvedBy,
            });
      return checked(name, actionDefinition(proposal.action).receipt, answer, 'receipt') as EffectReceipt;
    };
  }

  private transport(name: string, config: Exclude<ConnectorConfig, { type: 'builtin' }>): Transport {
    if (config.type === 'http') {
      if (!this.deps.readSecret) throw new ConnectorFailed(name, 'misconfigured', 'no secret reader is wired');
      return httpTransport(name, config, this.deps.readSecret, this.deps.timing);
    }
    if (!this.deps.invoke) throw new ConnectorFailed(name, 'misconfigured', 'no Lambda client is wired');
    return lambdaTransport(name, config, this.deps.invoke);
  }
}

/** The answer as the action declared it; anything else is the connector's failure, never retried. */
function checked(name: string, schema: z.core.$ZodType, answer: unknown, what: 'facts' | 'receipt'): Record<string, unknown> {
  const parsed = z.safeParse(schema, answer);
  if (!parsed.success) {
    // Paths only: the values are the team's data.
    const paths = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].slice(0, 5).join(', ');
    throw new ConnectorFailed(name, 'invalid_response', `the ${what} does not match the action's ${what} schema (at ${paths}); not retried`);
  }
  return parsed.data as Record<string, unknown>;
}
