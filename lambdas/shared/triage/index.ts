export {
  COMPLEXITY,
  CONDITIONAL_WORDS,
  ENCODED_PAYLOAD_PATTERNS,
  HIDDEN_CHARACTERS,
  INFORMATION_REQUESTS,
  INJECTION_PATTERNS,
  ROUTING_POLICY,
  asksForSeveral,
  complexityScore,
  correctActionWords,
  detectActions,
  detectInjection,
  fieldStrings,
  informationRequests,
  injectionSignals,
  triageRequest,
} from './triage';
export type { CuedAction, PatternFamily, RoutingPolicy, TriageInput } from './triage';
