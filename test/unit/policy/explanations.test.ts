import * as fs from 'node:fs';
import * as path from 'node:path';
import routingJson from '../../../policies/routing.json';
import { compilePolicy, CORE_EXPLANATIONS, explainReasons, parsePolicySet, shippedPolicies, reasonCodes } from '../../../lambdas/shared/policy';
import { bundledPolicyFiles } from '../../../lambdas/shared/policy/policies';
import { ACTIONS } from '../../../lambdas/shared/schemas/actions';
import { CORE_REASON_CODES } from '../../../lambdas/shared/schemas/workflow';

/** Each reason code comes with a plain-language sentence (API.md `next.explanations`), taken from the policy. */

const ACTIONS_DIR = path.join(__dirname, '../../../actions');
const read = (action: string, file: string) => fs.readFileSync(path.join(ACTIONS_DIR, action, file), 'utf8');

function refundWith(policyText: (text: string) => string) {
  const actions = Object.fromEntries(
    ACTIONS.map((action) => [action, { policy: JSON.parse(read(action, 'policy.json')), source: { policy: read(action, 'policy.cedar'), schema: read(action, 'policy.cedarschema') } }]),
  );
  actions.refund!.source.policy = policyText(actions.refund!.source.policy);
  return parsePolicySet({ routing: structuredClone(routingJson), actions });
}

it("reads each forbid's sentence from its @explain annotation in policy.cedar", () => {
  const text = read('refund', 'policy.cedar');
  const sentence = /@explain\("([^"]+)"\)\n@id\("refund_exceeds_order"\)/.exec(text)?.[1];
  expect(sentence).toMatch(/exceed/);
  expect(compilePolicy(shippedPolicies().refund).explanations.refund_exceeds_order).toBe(sentence);
});

it('a changed @explain changes the sentence, with the same rule', () => {
  const policies = refundWith((t) => t.replace(/@explain\("[^"]*"\)\n(@id\("order_not_found"\))/, '@explain("We could not find that order.")\n$1'));
  expect(explainReasons(['order_not_found'], 'refund', policies)).toEqual({ order_not_found: 'We could not find that order.' });
});

it('refuses a forbid with no @explain, naming it, so an action cannot forget one', () => {
  const policies = refundWith((t) => t.replace(/@explain\("[^"]*"\)\n(@id\("refund_exceeds_order"\))/, '$1'));
  expect(() => compilePolicy(policies.refund)).toThrow(/refund policy refund@[^:]+: forbid refund_exceeds_order has no @explain/);
});

it('a permit needs no @explain (refund has three without one): only reason codes are explained', () => {
  expect(read('refund', 'policy.cedar')).not.toMatch(/@explain\("[^"]*"\)\n@id\("(requesters|support-lead|finance-director)"\)/);
  expect(Object.keys(compilePolicy(shippedPolicies().refund).explanations).sort()).toEqual(['action_not_permitted', 'high_risk_action', 'order_not_found', 'refund_exceeds_order']);
});

it('every reason code the catalog can give has a sentence, from its policy or the core table', () => {
  const explained = new Set<string>(Object.keys(CORE_EXPLANATIONS));
  for (const action of ACTIONS) for (const code of Object.keys(compilePolicy(shippedPolicies()[action]).explanations)) explained.add(code);
  expect(reasonCodes().filter((code) => !explained.has(code))).toEqual([]);
  expect(Object.keys(CORE_EXPLANATIONS).sort()).toEqual([...CORE_REASON_CODES].sort());
});

it("prefers the action's own sentence to the core's, and uses the core's for pipeline codes", () => {
  const explanations = explainReasons(['high_risk_action', 'low_confidence'], 'refund');
  expect(explanations.high_risk_action).toBe(compilePolicy(shippedPolicies().refund).explanations.high_risk_action);
  expect(explanations.high_risk_action).not.toBe(CORE_EXPLANATIONS.high_risk_action);
  expect(explanations.low_confidence).toBe(CORE_EXPLANATIONS.low_confidence);
  // No action known (free text no action was read from): the core's sentence.
  expect(explainReasons(['needs_human_triage'])).toEqual({ needs_human_triage: CORE_EXPLANATIONS.needs_human_triage });
});

it('leaves out a code no policy explains rather than inventing a sentence', () => {
  expect(explainReasons(['constructor', 'no_such_code', 'duplicate_proposal'], 'purchase_order')).toEqual({ duplicate_proposal: CORE_EXPLANATIONS.duplicate_proposal });
});

it('the bundled pack (what a Lambda loads) keeps the sentences', () => {
  const pack = JSON.parse(bundledPolicyFiles()[path.join('purchase_order', 'policy.pack.json')] as string) as { policies: Record<string, { annotations?: Record<string, string> }> };
  expect(pack.policies.unvalidated_vendor?.annotations?.explain).toBe(compilePolicy(shippedPolicies().purchase_order).explanations.unvalidated_vendor);
});
