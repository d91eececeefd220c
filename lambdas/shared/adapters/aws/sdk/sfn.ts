/** What the adapters use of the Step Functions package, loaded by ./index on first use (the rest is tree-shaken). */
export { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
