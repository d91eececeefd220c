export { compilePolicy, parsePolicySet, reasonCodes, routingPolicy, shippedPolicies } from './policies';
export { CORE_EXPLANATIONS, explainReasons } from './explanations';
export type { LoadedActionPolicy, PolicySet, RawPolicySet, RawActionPolicy } from './policies';
export {
  canRequest,
  duplicateWindowStart,
  evaluatePolicy,
  highestApprovalTier,
  isValidatedVendor,
  isWithinDuplicateWindow,
  lowestApprovalTier,
  policyRef,
  utcToday,
  vendorKey,
} from './evaluate';
export type { PolicyFacts } from './evaluate';
export { PolicyEngineError, moneyToCents } from './cedar';
export { AUDITOR_ROLE, knownRoles } from './roles';
export { ActionPolicy, ApprovalTier, RoutingPolicy } from './schemas';
