export {
  COMPLEXITY,
  CONDITIONAL_WORDS,
  ENCODED_PAYLOAD_PATTERNS,
  HIDDEN_CHARACTERS,
  INJECTION_PATTERNS,
  ROUTING_POLICY,
  asksForSeveral,
  complexityScore,
  correctActionWords,
  detectActions,
  detectInjection,
  fieldStrings,
  injectionSignals,
  triageRequest,
} from './triage';
export type { CuedAction, PatternFamily, RoutingPolicy, TriageInput } from './triage';
