export { missingFieldsOf, validateProposal } from './validate';
export { cumulativeSharesOf } from './shares';
export type { ValidateProposalInput, ValidationResult, ValidationState } from './validate';
export { canonicalProposalJson, fingerprintProposal } from './fingerprint';
export { findUngroundedFields } from './grounding';
