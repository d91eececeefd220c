import * as z from './zod';
import { CumulativeFigure } from '../limits/shares';
import { Id, SNAKE_CASE } from '../ids';
import { ActionName, Proposal } from './actions';

/**
 * The payload that flows through statemachines/governed-request.asl.json. Every Lambda that
 * Step Functions invokes parses its input with these schemas and returns the next state.
 */

/**
 * Reason codes the pipeline assigns outside any action's policy (triage, grounding, the
 * validator, duplicates). A policy may not use them as its own: each means one thing in the audit.
 */
export const PIPELINE_REASON_CODES = [
  'low_confidence',
  'ungrounded_value',
  'suspected_prompt_injection',
  'needs_human_triage',
  'duplicate_proposal',
] as const;

/**
 * The core's reason codes: the pipeline's, and those core code reads or assigns in a policy's
 * name (`action_not_permitted`, `amount_out_of_range` for a schema-invalid amount, and
 * `high_risk_action`, what a high-risk action's policy names when every request goes to a human).
 * Every other code is an action's own: a forbid id of its `policy.cedar` (the policy loader
 * checks them, and `reasonCodes()` in `policy/` lists the catalog's).
 */
export const CORE_REASON_CODES = ['action_not_permitted', 'amount_out_of_range', 'high_risk_action', ...PIPELINE_REASON_CODES] as const;

/**
 * Open, because a stored decision is read by code that does not load the catalog's policies:
 * any snake_case code, as API.md promises them.
 */
export const ReasonCode = z.string().check(z.maxLength(64), z.regex(SNAKE_CASE, 'must be a snake_case reason code'));
export type ReasonCode = z.infer<typeof ReasonCode>;

/** A reason code's plain-language sentence, from the policy that decided (API.md `next.explanations`). */
export const Explanations = z.record(ReasonCode, z.string());

export const Principal = z.strictObject({
  sub: z.string().check(z.minLength(1), z.maxLength(256)),
  roles: z.array(z.string().check(z.minLength(1), z.maxLength(128))).check(z.maxLength(100)),
});
export type Principal = z.infer<typeof Principal>;

export const ROUTES = ['deterministic', 'generative', 'human'] as const;
export const Route = z.enum(ROUTES);
export type Route = z.infer<typeof Route>;

export const ModelTier = z.enum(['low', 'high']);
export type ModelTier = z.infer<typeof ModelTier>;

/**
 * Families of prompt-injection signal (the patterns are data in `triage/injection.ts`). They only
 * ever route a request to a human; policy never reads them.
 */
export const INJECTION_SIGNALS = [
  'instruction_override',
  'role_play',
  'role_marker',
  'policy_restatement',
  'hidden_characters',
  'encoded_payload',
] as const;
export const InjectionSignal = z.enum(INJECTION_SIGNALS);
export type InjectionSignal = z.infer<typeof InjectionSignal>;

/**
 * What the inbound shield (gateway) saw before it normalised and scrubbed the request: the
 * scrubbing removes evidence triage needs (a base64 payload becomes `[TOKEN_1]`, invisible
 * characters are dropped), so the gateway hands its observations on. Types and counts only,
 * never values.
 */
export const InboundShield = z.strictObject({
  pii: z.array(z.strictObject({ type: z.string().check(z.minLength(1), z.maxLength(32)), count: z.number().check(z.int(), z.gte(1)) })).check(z.maxLength(32)),
  signals: z.array(InjectionSignal).check(z.maxLength(INJECTION_SIGNALS.length)),
  /** The originals of the PII placeholders are kept in the request's encrypted vault. */
  vaulted: z.boolean(),
});
export type InboundShield = z.infer<typeof InboundShield>;

/** What triage decided and why (risk signals inform routing only; policy never reads them). */
export const TriageResult = z.strictObject({
  route: Route,
  action: z.optional(ActionName),
  complexity: z.number().check(z.gte(0), z.lte(1)),
  modelTier: ModelTier,
  signals: z.array(ReasonCode),
  reason: z.string().check(z.maxLength(500)),
});
export type TriageResult = z.infer<typeof TriageResult>;

export const ModelUsage = z.strictObject({
  provider: z.string().check(z.minLength(1), z.maxLength(64)),
  id: z.string().check(z.minLength(1), z.maxLength(256)),
  inputTokens: z.number().check(z.int(), z.gte(0)),
  outputTokens: z.number().check(z.int(), z.gte(0)),
  costUsd: z.number().check(z.gte(0)),
  /** The versioned prompt (`prompts/<version>.ts`) the model was given; absent for the rules extractor. */
  promptVersion: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

/**
 * What a model provider returned. `candidate` is the raw, untrusted proposal (it may fail the
 * schema: that is the validator's job to find out), `confidence` the provider's own estimate.
 */
export const InferenceResult = z.strictObject({
  candidate: z.optional(z.unknown()),
  confidence: z.number().check(z.gte(0), z.lte(1)),
  model: ModelUsage,
});
export type InferenceResult = z.infer<typeof InferenceResult>;

export const Outcome = z.enum(['approved', 'rejected', 'pending_approval']);
export type Outcome = z.infer<typeof Outcome>;

export const PolicyRef = z.strictObject({ id: z.string(), version: z.string() });
export type PolicyRef = z.infer<typeof PolicyRef>;

/**
 * The dry run of a pending proposal, computed before approval so the approver sees the effect.
 * Its shape is the action's (`dryRun.schema` in its definition, checked when it is computed).
 */
export const DryRun = z.record(z.string(), z.unknown());
export type DryRun = z.infer<typeof DryRun>;

export const Decision = z.strictObject({
  outcome: Outcome,
  reasons: z.array(ReasonCode),
  policy: PolicyRef,
  /** The approval tier's name (e.g. `procurement-manager`) when outcome is pending_approval. */
  tier: z.optional(z.string()),
  /** Roles that may decide, from the policy tier of this proposal. */
  approverRoles: z.optional(z.array(z.string())),
  /** Stable hash of the proposal: the key that stops the same effect running twice. */
  fingerprint: z.optional(z.string()),
  dryRun: z.optional(DryRun),
  /** The cumulative figures the policy read, this request included: what the approver sees beside the proposal. */
  cumulative: z.optional(z.array(CumulativeFigure)),
});
export type Decision = z.infer<typeof Decision>;

export const ApprovalStatus = z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

export const ApprovalOutcome = z.strictObject({
  taskId: Id,
  status: ApprovalStatus,
  decidedBy: z.optional(z.string()),
  decidedAt: z.optional(z.string()),
  comment: z.optional(z.string().check(z.maxLength(1000))),
});
export type ApprovalOutcome = z.infer<typeof ApprovalOutcome>;

/** The receipt of an executed effect: what was written, under which key. */
export const EffectReceipt = z.record(z.string(), z.unknown());
export type EffectReceipt = z.infer<typeof EffectReceipt>;

/** What a Catch puts at `$.error`. */
export const CaughtError = z.object({ Error: z.string(), Cause: z.optional(z.string()) });
export type CaughtError = z.infer<typeof CaughtError>;

/**
 * The audit chain's last entry as the step before wrote it: the next step appends after it with
 * no read (DESIGN.md §6). Carried in the workflow state, which only Warden's steps write.
 */
export const ChainHead = z.strictObject({ seq: z.number().check(z.int(), z.gte(1)), hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)) });
export type ChainHead = z.infer<typeof ChainHead>;

export const WorkflowState = z.object({
  requestId: Id,
  traceId: z.optional(z.string().check(z.maxLength(128))),
  requestedBy: Principal,
  submittedAt: z.string(),
  /**
   * The request text after the inbound shield (PII replaced by placeholders). The API caps the
   * text at 4,000 characters; placeholders can be longer than what they replace, hence more room.
   */
  text: z.string().check(z.maxLength(16384)),
  /** Present when the client named the action; `fields` then skip grounding. */
  submitted: z.optional(z.strictObject({ action: z.optional(ActionName), fields: z.optional(z.record(z.string(), z.unknown())) })),
  /** The approval wait's TimeoutSeconds (the ASL reads it with TimeoutSecondsPath). */
  approvalTimeoutSeconds: z.number().check(z.int(), z.positive()),
  shield: z.optional(InboundShield),
  triage: z.optional(TriageResult),
  inference: z.optional(InferenceResult),
  proposal: z.optional(Proposal),
  decision: z.optional(Decision),
  approval: z.optional(ApprovalOutcome),
  result: z.optional(EffectReceipt),
  error: z.optional(CaughtError),
  /** Where the request's audit chain ends; absent in states written before it travelled here (then an append reads it). */
  audit: z.optional(ChainHead),
  /**
   * What Validate leaves to AwaitApproval's record write when it sends the request to an
   * approver (one write, not two): the parts of its record the state does not hold otherwise.
   */
  validated: z.optional(z.strictObject({ action: z.optional(ActionName), explanations: z.optional(Explanations), missingFields: z.optional(z.array(z.string())) })),
});
export type WorkflowState = z.infer<typeof WorkflowState>;

/** The dehydrate Lambda's input: built by the AwaitApproval state's Parameters. */
export const DehydrateInput = z.strictObject({
  taskToken: z.string().check(z.minLength(1)),
  /**
   * `$$.State.EnteredTime` of AwaitApproval: when the wait's TimeoutSeconds began. The task's
   * deadline counts from it, not from when this Lambda runs (a cold start later).
   */
  waitEnteredAt: z.iso.datetime({ offset: true }),
  state: WorkflowState,
});
export type DehydrateInput = z.infer<typeof DehydrateInput>;
