/** The AWS adapters of the ports (ports.ts), one file per port. */
export * from './clients';
export { DynamoAuditLog, type DynamoAuditLogOptions } from './auditLog';
export { DynamoIdempotencyStore } from './idempotencyStore';
export { SfnOrchestrator } from './orchestrator';
export { DynamoRequestStore } from './requestStore';
export { catalogSeed, seedItems, seedSystemOfRecord, type SeedData, type SeedItem, type SeedOutcome, type SeedResult } from './seed';
export { S3StateStore, type S3StateStoreOptions } from './stateStore';
export { DynamoSystemOfRecord, normalizeVendorName, recordKeys } from './systemOfRecord';
export { DynamoTaskIndex, MAX_TASK_PAGE } from './taskIndex';
