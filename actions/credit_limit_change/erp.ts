import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as z from 'zod/mini';
import { EffectEvent, FactsEvent, IDEMPOTENCY_HEADER, verifySignature, type SignatureCheck } from '../../lambdas/shared/connectors';
import type { StandInOptions, StartStandIn } from '../../local/stand-ins';
import { creditLimitChange, type CreditLimitReceipt } from './action';

/**
 * A stand-in for the team's ERP, which holds customers' credit limits: what `npm start` and the
 * tests run in its place (cdk.json `wardenLocal.standIns`). Like the real receiver it verifies
 * every `Warden-Signature` before reading the body (401 for a bad or older than five minutes
 * one), answers `POST /warden/facts` with the customer's current limit (an unknown customer left
 * out) and applies `POST /warden/effect` once per Idempotency-Key (a repeated key gets the first
 * receipt back, and nothing changes twice). State is in memory: each start begins from SEED.
 */

/** Current limits in USD (issue 11). */
export const SEED_LIMITS: Readonly<Record<string, number>> = { 'C-1001': 5000, 'C-1002': 20000, 'C-1003': 50000 };

type Receipt = z.output<typeof CreditLimitReceipt>;

/** A change the ERP applied: its receipt, under the key it came with. */
export interface AppliedChange {
  idempotencyKey: string;
  requestId: string;
  approvedBy: string;
  receipt: Receipt;
}

export interface StandInErp {
  url: string;
  /** Every change applied, in order: one per idempotency key. */
  changes(): readonly AppliedChange[];
  /** The customer's limit now. */
  limitOf(customerId: string): { creditLimit: number; currency: string } | undefined;
  /** Requests refused for their signature, by reason. */
  refusals(): readonly Exclude<SignatureCheck, { ok: true }>['reason'][];
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

export async function startErp({ host, port, secret }: StandInOptions): Promise<StandInErp> {
  if (!secret) throw new Error('the stand-in ERP needs the signing secret (wardenLocal.standIns.<name>.secretEnv)');
  const limits = new Map(Object.entries(SEED_LIMITS).map(([id, creditLimit]) => [id, { creditLimit, currency: 'USD' }]));
  const byKey = new Map<string, AppliedChange>();
  const applied: AppliedChange[] = [];
  const refused: Exclude<SignatureCheck, { ok: true }>['reason'][] = [];

  const reply = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const check = verifySignature(secret as string, body, req.headers['warden-signature'] as string | undefined);
    if (!check.ok) {
      refused.push(check.reason);
      return reply(res, 401, { code: 'invalid_signature', reason: check.reason });
    }
    const schema = req.url === '/warden/facts' ? FactsEvent : req.url === '/warden/effect' ? EffectEvent : undefined;
    if (req.method !== 'POST' || !schema) return reply(res, 404, { code: 'not_found' });
    let event: FactsEvent | EffectEvent;
    try {
      event = schema.parse(JSON.parse(body));
    } catch {
      return reply(res, 400, { code: 'invalid_event' });
    }
    if (req.headers[IDEMPOTENCY_HEADER.toLowerCase()] !== event.idempotencyKey) return reply(res, 400, { code: 'idempotency_key_mismatch' });
    if (event.action !== creditLimitChange.name) return reply(res, 422, { code: 'unknown_action' });
    const fields = creditLimitChange.fields.safeParse(event.fields);
    if (!fields.success) return reply(res, 422, { code: 'invalid_fields' });
    const { customerId, newLimit, currency } = fields.data;

    if (event.type === 'warden.facts.v1') {
      const current = limits.get(customerId);
      return reply(res, 200, current ? { customer: { customerId, ...current } } : {});
    }
    const first = byKey.get(event.idempotencyKey);
    if (first) return reply(res, 200, first.receipt);
    const current = limits.get(customerId);
    if (!current) return reply(res, 404, { code: 'customer_not_found' });
    const change: AppliedChange = {
      idempotencyKey: event.idempotencyKey,
      requestId: event.requestId,
      approvedBy: event.approvedBy,
      receipt: { changeId: `CL-${String(applied.length + 1).padStart(6, '0')}`, customerId, previousLimit: current.creditLimit, newLimit, currency },
    };
    limits.set(customerId, { creditLimit: newLimit, currency });
    byKey.set(event.idempotencyKey, change);
    applied.push(change);
    return reply(res, 200, change.receipt);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reply(res, 413, { code: 'too_large' });
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`,
    changes: () => [...applied],
    limitOf: (customerId) => limits.get(customerId),
    refusals: () => [...refused],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What cdk.json's `wardenLocal.standIns` starts. */
export const startStandIn: StartStandIn = startErp;
