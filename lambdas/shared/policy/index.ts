export { POLICIES, parsePolicySet } from './policies';
export {
  approvalTierFor,
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
export { AUDITOR_ROLE, knownRoles } from './roles';
export {
  ApprovalTier,
  PolicySet,
  PurchaseOrderPolicy,
  RefundPolicy,
  RoutingPolicy,
  TierUpgradePolicy,
} from './schemas';
export type { ActionPolicy, RawPolicySet } from './schemas';
