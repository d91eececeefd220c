/**
 * Warden's Lambda functions by name, without aws-cdk-lib: lib/constructs/functions.ts builds them,
 * and the bench's local-stack phases name them without loading the CDK.
 */
export const FUNCTION_NAMES = [
  'gateway',
  'triage',
  'inference',
  'validation',
  'dehydrate',
  'approval',
  'execution',
  'finalize',
  'mcp',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** The Lambdas the state machine invokes (the gateway, approval and mcp Lambdas sit behind the API). */
export const WORKFLOW_FUNCTIONS = ['triage', 'inference', 'validation', 'dehydrate', 'execution', 'finalize'] as const;
export type WorkflowFunctionName = (typeof WORKFLOW_FUNCTIONS)[number];
