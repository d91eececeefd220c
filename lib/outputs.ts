/**
 * Names that tools outside CDK look up in a deployed stack (`npm run seed` reads the table from
 * the stack's outputs). Plain strings, so such a tool need not load aws-cdk-lib.
 */

/** The stack `bin/warden.ts` deploys. */
export const WARDEN_STACK_NAME = 'Warden';

/** Output keys of the stack: a CfnOutput at the stack's root keeps its id as its key. */
export const STACK_OUTPUTS = {
  recordsTable: 'SystemOfRecordTableName',
} as const;
