export {
  ACTION_KEYWORDS,
  COMPLEXITY,
  CONDITIONAL_WORDS,
  HIDDEN_CHARACTERS,
  INJECTION_PATTERNS,
  ROUTING_POLICY,
  complexityScore,
  detectActions,
  detectInjection,
  triageRequest,
} from './triage';
export type { RoutingPolicy, TriageInput } from './triage';
