/** What the adapters use of the KMS package, loaded by ./index on first use (the rest is tree-shaken). */
export { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
