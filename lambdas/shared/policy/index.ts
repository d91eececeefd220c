export { POLICIES, parsePolicySet } from './policies';
export {
  approvalTierFor,
  canRequest,
  evaluatePolicy,
  isValidatedVendor,
  lowestApprovalTier,
  policyRef,
  utcToday,
  vendorKey,
} from './evaluate';
export type { PolicyFacts } from './evaluate';
export {
  ApprovalTier,
  PolicySet,
  PurchaseOrderPolicy,
  RefundPolicy,
  RoutingPolicy,
  TierUpgradePolicy,
} from './schemas';
export type { ActionPolicy, RawPolicySet } from './schemas';
