import { fieldsOf } from '../catalog/registry';
import { sharesOf, type CumulativeShare } from '../limits/shares';
import { shippedPolicies, type PolicySet } from '../policy/policies';
import { Proposal } from '../schemas/actions';
import type { WorkflowState } from '../schemas/workflow';

/**
 * A request's shares of its action's cumulative limits, as Validate reserved them: apart from the
 * rest of validation so that Execute and Finalize, which commit and release them, load only this.
 */

/** What the shares are derived from. */
type ShareState = Pick<WorkflowState, 'submitted' | 'inference' | 'requestedBy'>;

/**
 * The client's own `action` + `fields` when they pass the action's schema: then they are the
 * proposal, on whatever route triage chose (a structured request whose text trips the
 * injection checks goes to a human, but it is still the client's proposal, not a model's).
 */
export function clientProposal(state: Pick<ShareState, 'submitted'>): Proposal | undefined {
  const submitted = state.submitted;
  if (submitted?.action === undefined || submitted.fields === undefined) return undefined;
  const parsed = Proposal.safeParse({ action: submitted.action, fields: submitted.fields });
  return parsed.success ? parsed.data : undefined;
}

/**
 * The proposal validation decides on, as it derives it from the state: the client's valid
 * fields, else the model's candidate if it passes the schema. Deterministic, so that the steps
 * after validation find the same cumulative shares it reserved.
 */
function proposalOf(state: Pick<ShareState, 'submitted' | 'inference'>): Proposal | undefined {
  const fromClient = clientProposal(state);
  if (fromClient) return fromClient;
  const parsed = Proposal.safeParse(state.inference?.candidate);
  return parsed.success ? parsed.data : undefined;
}

/** The request's shares of its action's cumulative limits (none when it has no proposal, or the policy counts none). */
export function cumulativeSharesOf(
  state: ShareState,
  policies: PolicySet = shippedPolicies(),
): CumulativeShare[] {
  const proposal = proposalOf(state);
  if (!proposal) return [];
  const policy = policies[proposal.action];
  if (policy.cumulative.length === 0) return [];
  return sharesOf({ action: proposal.action, cumulative: policy.cumulative, ranks: policy.ranks }, fieldsOf(proposal.action), proposal.fields, state.requestedBy.sub);
}
