export {
  COMPLEXITY,
  CONDITIONAL_WORDS,
  DETECTION,
  ENCODED_PAYLOAD_PATTERNS,
  HIDDEN_CHARACTERS,
  INFORMATION_REQUESTS,
  INJECTION_PATTERNS,
  ROUTING_POLICY,
  asksForSeveral,
  classifierOf,
  complexityScore,
  correctActionWords,
  detectActions,
  detectInjection,
  fieldStrings,
  informationRequests,
  injectionSignals,
  readActions,
  triageRequest,
} from './triage';
export type { ActionReading, CuedAction, PatternFamily, RoutingPolicy, TriageInput } from './triage';
export { exampleClassifier, exampleTerms, leaveOneOutAccuracy, type ActionSimilarity, type ExampleAction, type ExampleClassifier, type ExampleReading } from './examples';
