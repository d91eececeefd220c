import { vendorKey } from '../../../lambdas/shared/vendors';
import type { Order, RecordReader } from '../../../lambdas/shared/ports';
import type { ValidationState } from '../../../lambdas/shared/validation';
import type { ActionName } from '../../../lambdas/shared/schemas/actions';
import type { ReasonCode, Route } from '../../../lambdas/shared/schemas/workflow';
import { seedItems } from '../../../lambdas/shared/adapters/aws/seed';
import { SEED } from '../../../lambdas/shared/tables';

/** A RecordReader over DESIGN.md §3's seed data, with per-test prior refunds and executed effects. */
export interface SeedRecords extends RecordReader {
  /** fingerprint → the request that executed it (a bare requestId: no `at` stored). */
  effects: Map<string, string | { requestId: string; at: string }>;
  /** orderId → amount already refunded. */
  refunded: Map<string, number>;
}

export function seedRecords(): SeedRecords {
  const effects: SeedRecords['effects'] = new Map();
  const refunded = new Map<string, number>();
  return {
    effects,
    refunded,
    async get(key) {
      const found = seedItems().find((item) => item.pk === key.pk && item.sk === key.sk);
      if (!found) return undefined;
      return found.pk.startsWith('ORDER#') ? { ...found, refundedTotal: refunded.get(String(found.orderId)) ?? 0 } : { ...found };
    },
    async findVendor(name) {
      const found = SEED.vendors.find((v) => vendorKey(v.name) === vendorKey(name));
      return found && { ...found };
    },
    async getCustomer(customerId) {
      const found = SEED.customers.find((c) => c.customerId === customerId);
      return found && { ...found };
    },
    async getOrder(orderId): Promise<Order | undefined> {
      const found = seedItems().find((item) => item.pk === `ORDER#${orderId}`);
      return found && { orderId, customerId: String(found.customerId), total: Number(found.total), currency: String(found.currency), refundedTotal: refunded.get(orderId) ?? 0 };
    },
    async findEffect(fingerprint) {
      const effect = effects.get(fingerprint);
      return typeof effect === 'string' ? { requestId: effect } : effect && { ...effect };
    },
  };
}

export const TODAY = '2026-11-15';

export interface ModelStateOptions {
  confidence?: number;
  roles?: string[];
  signals?: ReasonCode[];
  route?: Exclude<Route, 'deterministic'>;
  submittedAction?: ActionName;
  requestId?: string;
}

/** A request that went through a model: the proposal is the model's candidate. */
export function modelState(text: string, candidate: unknown, options: ModelStateOptions = {}): ValidationState {
  return {
    requestId: options.requestId ?? 'r_test1',
    requestedBy: { sub: 'user-1', roles: options.roles ?? ['support-agent'] },
    text,
    ...(options.submittedAction ? { submitted: { action: options.submittedAction } } : {}),
    triage: {
      route: options.route ?? 'generative',
      complexity: 0.2,
      modelTier: 'low',
      signals: options.signals ?? [],
      reason: 'free text',
    },
    inference: {
      candidate,
      confidence: options.confidence ?? 0.99,
      model: { provider: 'rules', id: 'rules-v1', inputTokens: 0, outputTokens: 0, costUsd: 0 },
    },
  };
}

/** A request whose client named the action and sent valid fields: no model, no grounding. */
export function clientState(
  text: string,
  action: ActionName,
  fields: Record<string, unknown>,
  options: { roles?: string[]; signals?: ReasonCode[]; requestId?: string; route?: Route } = {},
): ValidationState {
  return {
    requestId: options.requestId ?? 'r_test1',
    requestedBy: { sub: 'user-1', roles: options.roles ?? ['support-agent'] },
    text,
    submitted: { action, fields },
    triage: { route: options.route ?? 'deterministic', action, complexity: 0, modelTier: 'low', signals: options.signals ?? [], reason: 'structured' },
  };
}
