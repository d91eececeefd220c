/**
 * The SDK modules ./s3, ./kms and ./sfn import one by one (the client, each command), typed as
 * their package exports them: the packages ship no declarations beside their dist-es files.
 */
declare module '@aws-sdk/client-s3/dist-es/S3Client.js' {
  export { S3Client } from '@aws-sdk/client-s3';
}
declare module '@aws-sdk/client-s3/dist-es/commands/GetObjectCommand.js' {
  export { GetObjectCommand } from '@aws-sdk/client-s3';
}
declare module '@aws-sdk/client-s3/dist-es/commands/PutObjectCommand.js' {
  export { PutObjectCommand } from '@aws-sdk/client-s3';
}
declare module '@aws-sdk/client-kms/dist-es/KMSClient.js' {
  export { KMSClient } from '@aws-sdk/client-kms';
}
declare module '@aws-sdk/client-kms/dist-es/commands/SignCommand.js' {
  export { SignCommand } from '@aws-sdk/client-kms';
}
declare module '@aws-sdk/client-kms/dist-es/commands/GetPublicKeyCommand.js' {
  export { GetPublicKeyCommand } from '@aws-sdk/client-kms';
}
declare module '@aws-sdk/client-sfn/dist-es/SFNClient.js' {
  export { SFNClient } from '@aws-sdk/client-sfn';
}
declare module '@aws-sdk/client-sfn/dist-es/commands/StartExecutionCommand.js' {
  export { StartExecutionCommand } from '@aws-sdk/client-sfn';
}
declare module '@aws-sdk/client-sfn/dist-es/commands/SendTaskSuccessCommand.js' {
  export { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
}
