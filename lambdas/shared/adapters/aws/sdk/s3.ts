/** What the adapters use of the S3 package, loaded by ./index on first use (the rest is tree-shaken). */
export { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
