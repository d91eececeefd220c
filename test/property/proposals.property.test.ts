import { reasonCodes } from '../../lambdas/shared/policy';
import fc from 'fast-check';
import type { ActionName } from '../../lambdas/shared/schemas/actions';
import type { ReasonCode } from '../../lambdas/shared/schemas/workflow';
import { validateProposal, type ValidationResult } from '../../lambdas/shared/validation';
import { clientState, modelState, seedRecords, TODAY } from '../unit/validation/seedRecords';
import {
  amountArb,
  confidenceArb,
  currencyArb,
  freeTextArb,
  rolesArb,
  vendorArb,
  withExtras,
} from './support/arbitraries';
import {
  CONFIDENCE_THRESHOLD,
  POLICY_TIERS,
  purchaseOrderVerdict,
  refundVerdict,
  tierRank,
  tierUpgradeVerdict,
  type Verdict,
} from './support/oracle';

/**
 * Invariant (issue 4): for any proposal — any amount, vendor, currency, confidence, extra
 * fields and triage signals — the validator + policy never return `approved` for what the
 * policies say needs a human or must be rejected. The expected verdict comes from
 * `support/oracle.ts`, which reads each action's policy.json itself (and no Cedar); the validator runs as the workflow
 * runs it, over DESIGN.md's seed records.
 *
 * test/unit/validation/validate.property.test.ts checks the validator against the product's own
 * policy function (2,000 runs); this suite checks both against the oracle, 10,000 runs per action,
 * on both the model path and the client-fields path.
 */

const RUNS_PER_ACTION = 10_000;
const SEED = 20_261_115;

const HUMAN_SIGNALS: readonly string[] = ['suspected_prompt_injection', 'needs_human_triage'];

const signalsArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant<ReasonCode[]>([]) },
  { weight: 2, arbitrary: fc.subarray(reasonCodes(), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<ReasonCode[]>(['suspected_prompt_injection'], ['needs_human_triage']) },
);

/** How the proposal reached the validator: a model's candidate, or the client's own fields. */
const sourceArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('model' as const),
      route: fc.constantFrom('generative' as const, 'generative' as const, 'human' as const),
      // Mostly a text that states every value (else grounding alone would stop every approval).
      grounded: fc.constantFrom(true, true, true, false),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('client' as const), route: fc.constantFrom('deterministic' as const, 'deterministic' as const, 'human' as const), grounded: fc.constant(true) }) },
);

interface Case {
  fields: Record<string, unknown>;
  extras: string[];
  source: { kind: 'model' | 'client'; route: 'generative' | 'human' | 'deterministic'; grounded: boolean };
  confidence: unknown;
  signals: ReasonCode[];
  roles: string[];
  noise: string;
}

const caseArb = (fields: fc.Arbitrary<Record<string, unknown>>, usualRoles: readonly string[]): fc.Arbitrary<Case> =>
  fc
    .record({
      withExtras: withExtras(fields),
      source: sourceArb,
      confidence: confidenceArb,
      signals: signalsArb,
      roles: rolesArb(usualRoles),
      noise: fc.string({ maxLength: 60 }),
    })
    .map(({ withExtras: w, ...rest }) => ({ ...rest, fields: w.fields, extras: w.extras }));

/** A request text that contains every field value, so that grounding can pass and approvals happen. */
function groundedText(fields: Record<string, unknown>): string {
  return Object.values(fields)
    .map((v) => (typeof v === 'number' ? `$${v}` : typeof v === 'string' ? v : JSON.stringify(v) ?? ''))
    .join(' , ');
}

async function validate(action: ActionName, c: Case): Promise<ValidationResult> {
  const text = c.source.grounded ? groundedText(c.fields) : c.noise;
  const options = { signals: c.signals, roles: c.roles };
  const state =
    c.source.kind === 'model'
      ? modelState(text, { action, fields: c.fields }, { ...options, route: c.source.route as 'generative' | 'human' })
      : clientState(text, action, c.fields, { ...options, route: c.source.route });
  // Whatever the model reported, including no number at all (the helper would default it).
  if (state.inference) state.inference = { ...state.inference, confidence: c.confidence as number };
  return validateProposal({ state, records: seedRecords(), today: TODAY });
}


/** The actions the oracle knows independently of the policy engine. */
type OracleAction = keyof typeof POLICY_TIERS;

/** Outcome counts per verdict, so a property that never meets an approval (vacuous) fails. */
type Tally = Record<string, number>;

/**
 * The invariant, one case at a time. Also the converse where it must hold exactly: on the
 * deterministic path with no signal and no extra field, the decision is the JSON's verdict.
 */
function checkCase(action: OracleAction, c: Case, verdict: Verdict, result: ValidationResult, tally: Tally): void {
  const { decision } = result;
  tally[`${verdict.kind}->${decision.outcome}`] = (tally[`${verdict.kind}->${decision.outcome}`] ?? 0) + 1;
  const humanSignal = c.signals.some((s) => HUMAN_SIGNALS.includes(s)) || c.source.route === 'human';

  if (decision.outcome === 'approved') {
    expect(verdict).toEqual({ kind: 'approve' });
    expect(humanSignal).toBe(false);
    if (c.source.kind === 'model') {
      expect(typeof c.confidence === 'number' && c.confidence >= CONFIDENCE_THRESHOLD).toBe(true);
    }
  }
  if (verdict.kind === 'reject') expect(decision.outcome).toBe('rejected');
  if (verdict.kind === 'human') expect(decision.outcome).not.toBe('approved');
  if (decision.outcome === 'pending_approval') {
    // Never a lower tier than the policy's, and exactly the approver roles the JSON names for it.
    expect(tierRank(action, decision.tier)).toBeGreaterThanOrEqual(verdict.kind === 'human' ? verdict.rank : 0);
    const tier = POLICY_TIERS[action].find((t) => t.name === decision.tier);
    expect(decision.approverRoles).toEqual(tier?.approverRoles);
  }

  // Where the schema took the client's fields (its length limits are stricter than the oracle's).
  const exact =
    c.source.kind === 'client' && c.source.route === 'deterministic' && c.extras.length === 0 && c.signals.length === 0 && result.proposal !== undefined;
  if (exact && verdict.kind === 'approve') expect(decision.outcome).toBe('approved');
  if (exact && verdict.kind === 'human') expect({ outcome: decision.outcome, tier: decision.tier }).toEqual({ outcome: 'pending_approval', tier: verdict.tier });
}

async function runProperty(action: OracleAction, arb: fc.Arbitrary<Case>, oracle: (c: Case) => Verdict): Promise<Tally> {
  const tally: Tally = {};
  await fc.assert(
    fc.asyncProperty(arb, async (c) => {
      const known = Object.fromEntries(Object.entries(c.fields).filter(([k]) => !c.extras.includes(k)));
      checkCase(action, c, oracle({ ...c, fields: known }), await validate(action, c), tally);
    }),
    { numRuns: RUNS_PER_ACTION, seed: SEED, endOnFailure: true },
  );
  return tally;
}

/** Fields with every key most of the time, and any subset of them sometimes. */
function someFields(model: { [key: string]: fc.Arbitrary<unknown> }): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof({ weight: 6, arbitrary: fc.record(model) }, { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) });
}

const count = (tally: Tally, prefix: string) => Object.entries(tally).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);

describe(`validator + Cedar policy vs the oracle: ${RUNS_PER_ACTION.toLocaleString('en-US')} proposals per action`, () => {
  it('purchase_order: never approved at or above the limit, to an unvalidated vendor, in another currency, or on a human signal', async () => {
    const hostile = someFields({
      vendor: vendorArb,
      amount: amountArb,
      currency: currencyArb,
      description: freeTextArb(['workstations', 'printer paper', 'office chairs']),
    });
    // Well-formed orders around the limit: the ones that could be approved.
    const plausible = fc.record({
      vendor: fc.constantFrom('Alpha Tech Systems', 'Initech', 'globex corporation', 'Umbrella Supplies', 'INITECH'),
      // Mostly whole cents; a double with more decimals than a currency has is refused (issue 12).
      amount: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 600_000 }).map((cents) => cents / 100) },
        { weight: 1, arbitrary: fc.double({ min: 0.01, max: 6000, noNaN: true }) },
        { weight: 1, arbitrary: fc.constantFrom(4999.99, 5000, 4999.999, 49_999.99, 49_999.995, 50_000) },
      ),
      currency: fc.constantFrom(undefined, 'USD', 'USD', 'EUR'),
      description: fc.constantFrom('workstations', 'printer paper'),
    });
    const fields = fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: hostile });
    const tally = await runProperty('purchase_order', caseArb(fields, ['support-agent']), (c) => purchaseOrderVerdict(c.fields, c.roles));
    expect(tally['approve->approved']).toBeGreaterThan(300);
    expect(count(tally, 'human->')).toBeGreaterThan(1000);
    expect(count(tally, 'reject->')).toBeGreaterThan(300);
  });

  it('tier_upgrade: never approved for a missing customer, a wrong current tier, a downgrade, a past date or a multi-step jump', async () => {
    // Mostly the customer's real tier and a date to come: then the transition decides.
    const plausible = fc
      .record({
        customer: fc.constantFrom<[string, string]>(['C-1001', 'basic'], ['C-1002', 'standard'], ['C-1003', 'premium']),
        targetTier: fc.constantFrom('basic', 'standard', 'premium'),
        effectiveDate: fc.constantFrom('2027-01-01', TODAY, '2026-11-14'),
        justification: fc.constant('they outgrew their plan'),
      })
      .map(({ customer: [customerId, currentTier], ...rest }) => ({ customerId, currentTier, ...rest }));
    const hostile = someFields({
        customerId: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('C-1001', 'C-1002', 'C-1003', 'C-9999') },
          { weight: 1, arbitrary: fc.constantFrom<unknown>('c-1001', 'C-1001 ', 'C-1001\u0000', '../C-1001', '', 'C\u20131001', 'X'.repeat(65), 1001) },
          { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
        ),
        currentTier: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('basic', 'standard', 'premium') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('Premium', 'gold', '', 'basic ', null) }),
        targetTier: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('basic', 'standard', 'premium') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('Premium', 'gold', '', 'premium\u200B', 2) }),
        effectiveDate: fc.oneof(
          { weight: 5, arbitrary: fc.constantFrom('2027-01-01', TODAY, '2026-11-14', '2020-01-01', '2028-02-29', '9999-12-31') },
          { weight: 1, arbitrary: fc.constantFrom<unknown>('2026-02-29', '2026-13-01', '1 Jan 2027', '2027-1-1', '0000-01-01', '２０２７-01-01', 20270101) },
          { weight: 1, arbitrary: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) },
        ),
        justification: freeTextArb(['they outgrew their plan', 'customer asked for more seats', 'renewal negotiated with sales']),
    });
    const fields = fc.oneof({ weight: 2, arbitrary: plausible }, { weight: 3, arbitrary: hostile });
    const tally = await runProperty('tier_upgrade', caseArb(fields, ['support-agent']), (c) => tierUpgradeVerdict(c.fields, c.roles, TODAY));
    expect(tally['approve->approved']).toBeGreaterThan(100);
    expect(count(tally, 'human->')).toBeGreaterThan(100);
    expect(count(tally, 'reject->')).toBeGreaterThan(1000);
  });

  it('refund: never approved at all (always a human), and never for an order that is not the customer\'s or over its total', async () => {
    const order = fc.oneof(
      // Mostly an order with its own customer, so that the amount decides.
      { weight: 4, arbitrary: fc.constantFrom({ customerId: 'C-1002', orderId: 'O-5001' }, { customerId: 'C-1003', orderId: 'O-5002' }) },
      {
        weight: 2,
        arbitrary: fc.record({
          customerId: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('C-1002', 'C-1003', 'C-1001') }, { weight: 1, arbitrary: fc.string({ maxLength: 70 }) }),
          orderId: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('O-5001', 'O-5002', 'O-9999') }, { weight: 1, arbitrary: fc.constantFrom<unknown>('o-5001', 'O-5001/../O-5002', '', 5001) }),
        }),
      },
    );
    const refundAmount = fc.oneof(
      { weight: 2, arbitrary: fc.integer({ min: 1, max: 250_000 }).map((cents) => cents / 100) },
      { weight: 1, arbitrary: fc.double({ min: 0.01, max: 2500, noNaN: true }) },
      { weight: 3, arbitrary: amountArb },
    );
    const fields = fc
      .tuple(order, someFields({ amount: refundAmount, reason: freeTextArb(['item arrived damaged', 'wrong size', 'never delivered']) }))
      .map(([ids, rest]) => ({ ...ids, ...rest }));
    const tally = await runProperty('refund', caseArb(fields, ['support-agent']), (c) => refundVerdict(c.fields, c.roles));
    expect(count(tally, 'human->pending_approval')).toBeGreaterThan(500);
    expect(count(tally, 'reject->')).toBeGreaterThan(1000);
    expect(count(tally, 'approve->')).toBe(0);
  });
});
