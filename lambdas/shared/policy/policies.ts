import { describeIssues } from '../schemas/actions';
import { PolicySet } from './schemas';
import purchaseOrder from '../../../policies/purchase_order.json';
import refund from '../../../policies/refund.json';
import routing from '../../../policies/routing.json';
import tierUpgrade from '../../../policies/tier_upgrade.json';

/** Parses raw policy files; throws with every problem's path (a bad policy must never half-load). */
export function parsePolicySet(raw: unknown): PolicySet {
  const parsed = PolicySet.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid policy files: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The shipped policies, bundled by esbuild and parsed once at module load: a bad file fails loudly. */
export const POLICIES: PolicySet = parsePolicySet({
  purchase_order: purchaseOrder,
  tier_upgrade: tierUpgrade,
  refund,
  routing,
});
