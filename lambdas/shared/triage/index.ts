export {
  COMPLEXITY,
  CONDITIONAL_WORDS,
  DETECTION,
  catalogInformationRequests,
  asksForSeveral,
  classifierOf,
  complexityScore,
  correctActionWords,
  detectActions,
  informationRequests,
  readActions,
  routingPolicy,
  triageRequest,
} from './triage';
export type { ActionReading, CuedAction, RoutingPolicy, TriageInput } from './triage';
export { detectInjection, ENCODED_PAYLOAD_PATTERNS, fieldStrings, HIDDEN_CHARACTERS, INJECTION_PATTERNS, injectionSignals, type PatternFamily } from './injection';
export { exampleClassifier, exampleTerms, leaveOneOutAccuracy, type ActionSimilarity, type ExampleAction, type ExampleClassifier, type ExampleReading } from './examples';
