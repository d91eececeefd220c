export { cumulativeSharesOf, missingFieldsOf, validateProposal } from './validate';
export type { ValidateProposalInput, ValidationResult, ValidationState } from './validate';
export { canonicalProposalJson, fingerprintProposal } from './fingerprint';
export { findUngroundedFields } from './grounding';
