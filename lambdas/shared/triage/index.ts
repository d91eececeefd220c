export {
  ACTION_KEYWORDS,
  COMPLEXITY,
  CONDITIONAL_WORDS,
  ENCODED_PAYLOAD_PATTERNS,
  HIDDEN_CHARACTERS,
  INJECTION_PATTERNS,
  ROUTING_POLICY,
  complexityScore,
  detectActions,
  detectInjection,
  fieldStrings,
  injectionSignals,
  triageRequest,
} from './triage';
export type { PatternFamily, RoutingPolicy, TriageInput } from './triage';
