import type { ActionName } from '../schemas/actions';
import type { CORE_REASON_CODES, ReasonCode } from '../schemas/workflow';
import { compilePolicy, shippedPolicies, type PolicySet } from './policies';

/**
 * The sentences of the core's reason codes (API.md `next.explanations`): those the pipeline
 * assigns and those core code assigns in a policy's name. An action's own codes take their
 * sentence from their forbid's `@explain` in its `policy.cedar`, which wins when both say one.
 */
export const CORE_EXPLANATIONS: Readonly<Record<(typeof CORE_REASON_CODES)[number], string>> = {
  action_not_permitted: 'Your roles do not allow you to request this action.',
  amount_out_of_range: 'The amount is not one this action accepts: it must be more than zero, within the policy\'s range, and written in the currency\'s units.',
  high_risk_action: 'This action is high risk, so every request for it is decided by an approver.',
  low_confidence: 'The model was not sure enough of what it read in the request, so an approver checks the proposal.',
  ungrounded_value: 'A value in the proposal does not appear in the request\'s own words, so an approver checks it.',
  suspected_prompt_injection: 'The request holds text that looks like instructions to the system, so a person handles it.',
  needs_human_triage: 'Warden could not read the request as one complete proposal it can check; send it again with every value stated, or as structured fields.',
  duplicate_proposal: 'The same request was already carried out recently; Warden does not run it twice.',
};

/**
 * One sentence per reason code, as the policy that decided says it: the action's forbid first,
 * then the core table. A code neither knows (a stored decision of a policy since changed) is
 * left out rather than explained wrongly.
 */
export function explainReasons(reasons: readonly ReasonCode[], action?: ActionName, policies: PolicySet = shippedPolicies()): Record<string, string> {
  const own = action ? compilePolicy(policies[action]).explanations : {};
  const core: Readonly<Record<string, string>> = CORE_EXPLANATIONS;
  return Object.fromEntries(
    reasons.flatMap((code) => {
      // Own properties only: a stored code such as `constructor` is no sentence.
      const sentence = Object.hasOwn(own, code) ? own[code] : Object.hasOwn(core, code) ? core[code] : undefined;
      return sentence === undefined ? [] : [[code, sentence]];
    }),
  );
}
