/**
 * What the adapters use of the S3 package, loaded by ./index on first use: the client and each
 * command from its own module. Reached through require(), the package's index would keep its
 * aggregated client and every command in the bundle (its `export *` is kept whole there):
 * about 22 kB each for S3, KMS and Step Functions. The packages have no exports map, so these paths
 * resolve; their modules import each other without file extensions, so they load through esbuild
 * (the bundles) or tsx (npm start, the bench), not plain Node. modules.d.ts types them; Jest maps
 * them to the package index.
 */
export { S3Client } from '@aws-sdk/client-s3/dist-es/S3Client.js';
export { GetObjectCommand } from '@aws-sdk/client-s3/dist-es/commands/GetObjectCommand.js';
export { PutObjectCommand } from '@aws-sdk/client-s3/dist-es/commands/PutObjectCommand.js';
