import fc from 'fast-check';
import { evaluatePolicy, isValidatedVendor, shippedPolicies, reasonCodes } from '../../../lambdas/shared/policy';
import type { PolicyFacts } from '../../../lambdas/shared/policy';
import { Proposal } from '../../../lambdas/shared/schemas/actions';
import { Decision } from '../../../lambdas/shared/schemas/workflow';
import type { ReasonCode } from '../../../lambdas/shared/schemas/workflow';
import { findUngroundedFields, validateProposal } from '../../../lambdas/shared/validation';
import { modelState, seedRecords, TODAY } from './seedRecords';

/**
 * Whatever a model returns, the validator never approves what policy alone would not, and
 * never approves a purchase order at or above the autonomous limit or to an unvalidated vendor.
 */

const weirdNumbers = fc.constantFrom(
  Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1e308, -1e308, Number.MIN_VALUE,
  0.01, 120, 450, 450.01, 900, 999.99, 1000, 2400, 4999.99, 4999.999, 5000, 49_999.99, 50_000, 1_000_000, 1_000_000.01,
);
const amountArb = fc.oneof(
  weirdNumbers,
  fc.double(),
  fc.double({ min: 0.01, max: 6000, noNaN: true }),
  fc.integer({ min: -10, max: 2_000_000 }),
  fc.constantFrom('7850', '900', '1e3', 'NaN', 'Infinity', ' 100 ', '$900', '0x10'),
  fc.constantFrom(undefined, null, true, [900], { value: 900 }),
);
const vendorArb = fc.oneof(
  fc.constantFrom('Alpha Tech Systems', 'Globex Corporation', 'Initech', 'Umbrella Supplies', ' alpha  tech SYSTEMS ', 'INITECH', 'Initech Inc', 'Umbrella'),
  fc.string(),
);
const idArb = (ids: string[]) => fc.oneof(fc.constantFrom(...ids), fc.string({ maxLength: 70 }));
const tierArb = fc.oneof(fc.constantFrom('basic', 'standard', 'premium', 'gold', 'Premium'), fc.string());
const dateArb = fc.oneof(fc.constantFrom('2027-01-01', '2026-11-15', '2026-11-14', '2020-01-01', '2026-02-30', '1 Jan 2027'), fc.string());
const textArb = fc.oneof(
  fc.constantFrom('workstations', 'printer paper', 'item arrived damaged', 'they outgrew their plan', 'x', ''),
  fc.string({ maxLength: 40 }),
);
const extraFields = fc.dictionary(
  fc.constantFrom('approved', 'approverRoles', 'tier', 'confidence', 'outcome', '__proto__', 'override'),
  fc.anything(),
  { maxKeys: 2 },
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 5 });

function withExtras(fields: fc.Arbitrary<Record<string, unknown>>) {
  return fc.tuple(fields, fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extraFields })).map(([f, extra]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(f)) if (v !== undefined) out[k] = v;
    for (const [k, v] of Object.entries(extra)) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
    return out;
  });
}

const purchaseOrderCandidate = fc.record({
  action: fc.constant('purchase_order'),
  fields: withExtras(
    fc.record({ vendor: maybe(vendorArb), amount: amountArb, currency: maybe(fc.constantFrom('USD', 'EUR', 'usd', '$')), description: maybe(textArb) }),
  ),
});
const tierUpgradeCandidate = fc.record({
  action: fc.constant('tier_upgrade'),
  fields: withExtras(
    fc.record({
      customerId: idArb(['C-1001', 'C-1002', 'C-1003', 'C-9999']),
      currentTier: tierArb,
      targetTier: tierArb,
      effectiveDate: dateArb,
      justification: textArb,
    }),
  ),
});
const refundCandidate = fc.record({
  action: fc.constant('refund'),
  fields: withExtras(
    fc.record({ customerId: idArb(['C-1002', 'C-1003', 'C-1001']), orderId: idArb(['O-5001', 'O-5002', 'O-9999']), amount: amountArb, reason: textArb }),
  ),
});
// Well-formed candidates over the seed vocabulary: these are the ones that could be approved.
const plausiblePurchaseOrder = fc.record({
  action: fc.constant('purchase_order'),
  fields: withExtras(
    fc.record({
      vendor: fc.constantFrom('Alpha Tech Systems', 'Initech', 'globex corporation', 'Umbrella Supplies', 'Initech Inc'),
      amount: fc.oneof(weirdNumbers, fc.double({ min: 0.01, max: 6000, noNaN: true }), fc.integer({ min: 1, max: 60_000 })),
      currency: maybe(fc.constant('USD')),
      description: fc.constantFrom('workstations', 'printer paper'),
    }),
  ),
});
const plausibleTierUpgrade = fc.record({
  action: fc.constant('tier_upgrade'),
  fields: withExtras(
    fc.record({
      customerId: fc.constantFrom('C-1001', 'C-1002', 'C-1003', 'C-9999'),
      currentTier: fc.constantFrom('basic', 'standard', 'premium'),
      targetTier: fc.constantFrom('basic', 'standard', 'premium'),
      effectiveDate: fc.constantFrom('2027-01-01', '2026-11-15', '2026-11-14'),
      justification: fc.constant('they outgrew their plan'),
    }),
  ),
});

const candidateArb = fc.oneof(
  { weight: 4, arbitrary: plausiblePurchaseOrder },
  { weight: 2, arbitrary: plausibleTierUpgrade },
  { weight: 6, arbitrary: purchaseOrderCandidate },
  { weight: 2, arbitrary: tierUpgradeCandidate },
  { weight: 2, arbitrary: refundCandidate },
  { weight: 1, arbitrary: fc.record({ action: fc.string(), fields: fc.object() }) },
  { weight: 1, arbitrary: fc.anything() },
);

/** A text that contains every value of the candidate, so that grounding can pass. */
function groundedText(candidate: unknown): string {
  if (typeof candidate !== 'object' || candidate === null) return String(candidate);
  const fields = (candidate as { fields?: unknown }).fields;
  if (typeof fields !== 'object' || fields === null) return 'please';
  return Object.values(fields)
    .map((v) => (typeof v === 'number' ? `$${v}` : String(v)))
    .join(' , ');
}

async function policyAlone(proposal: Proposal, roles: string[]) {
  const records = seedRecords();
  const facts: PolicyFacts = { today: TODAY };
  if (proposal.action === 'purchase_order') facts.vendor = await records.findVendor(proposal.fields.vendor);
  if (proposal.action === 'tier_upgrade') facts.customer = await records.getCustomer(proposal.fields.customerId);
  if (proposal.action === 'refund') facts.order = await records.getOrder(proposal.fields.orderId);
  return { decision: evaluatePolicy(proposal, facts, roles), facts };
}

describe('validateProposal property: model output cannot buy an approval', () => {
  it('holds for 2,000 arbitrary candidates', async () => {
    let approvals = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        candidateArb,
        fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
        fc.string({ maxLength: 60 }),
        // Weighted towards what could be approved, so that the approval path is exercised often.
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(0.95, 0.99, 1) },
          { weight: 1, arbitrary: fc.oneof(fc.double(), fc.constantFrom(0, 0.9499, 1.5, Number.NaN, Number.POSITIVE_INFINITY)) },
        ),
        fc.oneof({ weight: 3, arbitrary: fc.constant<ReasonCode[]>([]) }, { weight: 1, arbitrary: fc.subarray(reasonCodes()) }),
        fc.oneof({ weight: 3, arbitrary: fc.constant('generative' as const) }, { weight: 1, arbitrary: fc.constant('human' as const) }),
        fc.oneof(
          { weight: 3, arbitrary: fc.constant<string[]>(['support-agent']) },
          { weight: 1, arbitrary: fc.subarray(['support-agent', 'account-manager', 'finance-director', 'auditor']) },
        ),
        async (candidate, grounded, noise, confidence, signals, route, roles) => {
          runs++;
          const text = grounded ? groundedText(candidate) : noise;
          const state = modelState(text, candidate, { confidence, signals, route, roles });
          const { proposal, decision } = await validateProposal({ state, records: seedRecords(), today: TODAY });

          // Always a well-formed decision.
          expect(Decision.safeParse(decision).success).toBe(true);

          const parsed = Proposal.safeParse(candidate);
          if (!parsed.success) {
            expect(proposal).toBeUndefined();
            expect(decision.outcome).toBe('rejected');
            return;
          }
          expect(proposal).toEqual(parsed.data);

          const alone = await policyAlone(parsed.data, roles);
          // Signals only escalate: a rejection stays one, and a pending tier is never lowered.
          if (alone.decision.outcome === 'rejected') expect(decision).toMatchObject({ outcome: 'rejected', reasons: alone.decision.reasons });
          if (alone.decision.outcome === 'pending_approval') expect(decision).toMatchObject({ outcome: 'pending_approval', tier: alone.decision.tier });

          if (decision.outcome !== 'approved') return;
          approvals++;
          expect(alone.decision.outcome).toBe('approved');
          expect(route).not.toBe('human');
          expect(findUngroundedFields(parsed.data, text)).toEqual([]);
          expect(confidence).toBeGreaterThanOrEqual(shippedPolicies().routing.confidenceThreshold);
          expect(signals).not.toContain('suspected_prompt_injection');
          expect(signals).not.toContain('needs_human_triage');
          expect(parsed.data.action).not.toBe('refund');
          if (parsed.data.action === 'purchase_order') {
            expect(parsed.data.fields.amount).toBeLessThan(5000);
            expect(isValidatedVendor(alone.facts.vendor, parsed.data.fields.vendor)).toBe(true);
          }
        },
      ),
      { numRuns: 2000, seed: 20261115 },
    );
    // The property would be vacuous if nothing were ever approved.
    expect(approvals).toBeGreaterThan(10);
    expect(runs).toBe(2000);
  });
});
