/** What the adapters use of the Step Functions package, loaded by ./index on first use, module by module (see ./s3). */
export { SFNClient } from '@aws-sdk/client-sfn/dist-es/SFNClient.js';
export { SendTaskSuccessCommand } from '@aws-sdk/client-sfn/dist-es/commands/SendTaskSuccessCommand.js';
export { StartExecutionCommand } from '@aws-sdk/client-sfn/dist-es/commands/StartExecutionCommand.js';
