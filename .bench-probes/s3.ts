import { S3Client } from '@aws-sdk/client-s3';
export const d = new S3Client({});
export const handler = async () => 1;
