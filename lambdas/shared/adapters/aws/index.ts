/** The AWS adapters of the ports (ports.ts), one file per port. */
export * from './clients';
export { DynamoAuditLog, type DynamoAuditLogOptions } from './auditLog';
export { DynamoIdempotencyStore } from './idempotencyStore';
export { SfnOrchestrator } from './orchestrator';
export { DynamoRequestStore } from './requestStore';
export { seedSystemOfRecord, type SeedData } from './seed';
export { S3StateStore, type S3StateStoreOptions } from './stateStore';
export {
  DynamoSystemOfRecord,
  normalizeVendorName,
  purchaseOrderNumber,
  recordKeys,
  refundIdFor,
} from './systemOfRecord';
export { DynamoTaskIndex, MAX_TASK_PAGE } from './taskIndex';
