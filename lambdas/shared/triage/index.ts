export {
  COMPLEXITY,
  CONDITIONAL_WORDS,
  DETECTION,
  ENCODED_PAYLOAD_PATTERNS,
  HIDDEN_CHARACTERS,
  catalogInformationRequests,
  INJECTION_PATTERNS,
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
  routingPolicy,
  triageRequest,
} from './triage';
export type { ActionReading, CuedAction, PatternFamily, RoutingPolicy, TriageInput } from './triage';
export { exampleClassifier, exampleTerms, leaveOneOutAccuracy, type ActionSimilarity, type ExampleAction, type ExampleClassifier, type ExampleReading } from './examples';
