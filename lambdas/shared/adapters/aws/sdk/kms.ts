/** What the adapters use of the KMS package, loaded by ./index on first use, module by module (see ./s3). */
export { KMSClient } from '@aws-sdk/client-kms/dist-es/KMSClient.js';
export { GetPublicKeyCommand } from '@aws-sdk/client-kms/dist-es/commands/GetPublicKeyCommand.js';
export { SignCommand } from '@aws-sdk/client-kms/dist-es/commands/SignCommand.js';
