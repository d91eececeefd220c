import fc from 'fast-check';
import purchaseOrderPolicy from '../../actions/purchase_order/policy.json';
import { CumulativeLedger } from '../../lambdas/shared/limits';
import { utcToday } from '../../lambdas/shared/policy';
import type { WorkflowState } from '../../lambdas/shared/schemas/workflow';
import { cumulativeSharesOf, validateProposal, type ValidationState } from '../../lambdas/shared/validation';
import { vendorKey } from '../../lambdas/shared/vendors';
import { useEmulatedStores } from '../support/stores';
import { seedRecords } from '../unit/validation/seedRecords';

/**
 * Invariant (issue 12): over any *sequence* of purchase orders — split, concurrent, spread over
 * days, by several requesters, under spellings of one vendor's name, some rejected or left
 * waiting by their approver — no vendor receives an autonomous limit's worth with no human
 * within the policy's window; and every order that waits goes to the tier the requester's
 * in-window total for that vendor calls for. Each decision goes through `validateProposal` with
 * the real ledger on the emulated record table, as the validation Lambda runs it; an approver's
 * rejection releases the order's share as finalize does (an approved one keeps it).
 */

const DAY = 24 * 60 * 60 * 1000;
const WINDOW_DAYS = 30;
const LIMIT = purchaseOrderPolicy.limits.autonomousLimitCents;
const FINANCE_FROM = purchaseOrderPolicy.limits.financeDirectorFromCents;
const REQUESTERS = ['seq-ann', 'seq-bob', 'seq-cy'];
// The same vendor as the system of record spells it and as requesters might.
const VENDORS: Record<string, readonly string[]> = {
  'Globex Corporation': ['Globex Corporation', 'GLOBEX CORPORATION', '  globex   corporation '],
  Initech: ['Initech', 'initech'],
};

interface Step {
  /** Minutes after the previous batch (up to ~40 days: windows open and close). */
  gapMinutes: number;
  /** Decided concurrently, as requests arriving together are. */
  batch: { requester: number; vendor: string; spelling: number; cents: number; then: 'approve' | 'reject' | 'wait' }[];
}

const centsArb = fc.oneof(
  fc.constantFrom(499_999, 500_000, 250_000, 100_000, 4_999_999, 2_500_000, 1),
  fc.integer({ min: 1, max: 600_000 }),
  fc.integer({ min: 1_000_000, max: 6_000_000 }),
);
const stepArb: fc.Arbitrary<Step> = fc.record({
  gapMinutes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 60 * 24, max: 60 * 24 * 40 })),
  batch: fc.array(
    fc.record({
      requester: fc.nat(REQUESTERS.length - 1),
      vendor: fc.constantFrom(...Object.keys(VENDORS)),
      spelling: fc.nat(2),
      cents: centsArb,
      then: fc.constantFrom('approve', 'reject', 'wait'),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

interface Outcome {
  at: number;
  vendor: string;
  requester: string;
  cents: number;
  outcome: string;
  tier?: string;
  /** Still counted: not rejected by policy, not rejected by its approver. */
  counts: boolean;
}

const stores = useEmulatedStores();
let run = 0;

it('no sequence of purchase orders moves an autonomous limit to one vendor in the window without a human', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 8 }), async (steps) => {
      const ledger = new CumulativeLedger(stores().records);
      // Each run starts two windows after the last one ended: its aggregates are its own.
      let now = Date.parse('2030-01-01T00:00:00.000Z') + run++ * 400 * DAY;
      const records = seedRecords();
      const outcomes: Outcome[] = [];
      let n = 0;
      for (const step of steps) {
        now += step.gapMinutes * 60_000;
        const at = new Date(now);
        const decided = await Promise.all(
          step.batch.map(async (order) => {
            const requestId = `r_seq${run}x${n++}`;
            const requester = REQUESTERS[order.requester];
            const vendor = VENDORS[order.vendor][order.spelling % VENDORS[order.vendor].length];
            const state: ValidationState = {
              requestId,
              requestedBy: { sub: requester, roles: [] },
              text: 'Create a purchase order',
              submitted: { action: 'purchase_order', fields: { vendor, amount: order.cents / 100, currency: 'USD', description: `part ${n}` } },
            } as ValidationState;
            const result = await validateProposal({ state, records, today: utcToday(at), now: at, ledger });
            return { order, requestId, requester, state, result };
          }),
        );
        for (const { order, requester, state, requestId, result } of decided) {
          const { outcome, tier } = result.decision;
          let counts = outcome !== 'rejected';
          const shares = cumulativeSharesOf(state as Pick<WorkflowState, 'submitted' | 'inference' | 'requestedBy'>);
          if (outcome === 'pending_approval' && order.then === 'reject') {
            await ledger.release(requestId, shares);
            counts = false;
          }
          outcomes.push({ at: now, vendor: vendorKey(order.vendor), requester, cents: order.cents, outcome, ...(tier ? { tier } : {}), counts });
        }
      }

      for (const [i, o] of outcomes.entries()) {
        const windowStart = o.at - WINDOW_DAYS * DAY;
        const before = outcomes.slice(0, i + 1).filter((p) => p.vendor === o.vendor && p.at >= windowStart);
        // Autonomy: what went to the vendor with no human in the window up to this order stays under the limit.
        const autonomous = before.filter((p) => p.outcome === 'approved').reduce((sum, p) => sum + p.cents, 0);
        expect(autonomous).toBeLessThan(LIMIT);
        // The tier: an order waits for a finance-director when this requester's total to the vendor
        // in the window reaches the threshold, counting every order decided up to its own batch
        // that still counts (a concurrent one may or may not have been seen: only the lower bound binds).
        if (o.outcome === 'pending_approval' && o.tier === 'procurement-manager') {
          const seenForSure = outcomes
            .slice(0, i)
            .filter((p) => p.vendor === o.vendor && p.requester === o.requester && p.at >= windowStart && p.at < o.at && p.counts)
            .reduce((sum, p) => sum + p.cents, 0);
          expect(seenForSure + o.cents).toBeLessThan(FINANCE_FROM);
        }
      }
    }),
    { numRuns: 40, seed: 12_2026 },
  );
});
