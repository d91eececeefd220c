import type { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamodbSdk, kmsSdk, s3Sdk, sfnSdk } from './sdk';
import { quietSdkClient } from './sdk-logger';

/**
 * SDK v3 clients, built once per process (a Lambda container reuses them across invocations).
 * Endpoints come from the standard AWS_ENDPOINT_URL_* variables, which the SDK reads itself:
 * nothing here knows whether it runs in AWS or against the local emulators. Each client's package
 * is loaded when the first one is built (sdk.ts).
 */

export interface ClientOptions {
  region?: string;
  /** An explicit endpoint; tests pass one so that they never depend on process.env. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

type Env = Readonly<Record<string, string | undefined>>;

function baseConfig(options: ClientOptions) {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

export function createDocumentClient(options: ClientOptions = {}): DynamoDBDocumentClient {
  // The document client runs on its base client's middleware stack.
  return dynamodbSdk().DynamoDBDocumentClient.from(quietSdkClient(dynamodbSdk().DynamoDBClient, baseConfig(options)), {
    marshallOptions: {
      // A patch or an optional field left undefined means "not set", not an error.
      removeUndefinedValues: true,
      // Only plain data is stored; a class instance reaching a store is a bug to surface.
      convertClassInstanceToMap: false,
    },
  });
}

export function createS3Client(options: ClientOptions = {}, env: Env = process.env): S3Client {
  const customEndpoint = options.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return quietSdkClient(s3Sdk().S3Client, {
    ...baseConfig(options),
    // Default (streamed, trailing) checksums make s3rver store corrupted objects; S3 itself is
    // just as safe with WHEN_REQUIRED because the transport is TLS and KMS-encrypted at rest.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // A custom endpoint (an emulator) has no per-bucket DNS names.
    ...(customEndpoint ? { forcePathStyle: true } : {}),
  });
}

export function createSfnClient(options: ClientOptions = {}): SFNClient {
  return quietSdkClient(sfnSdk().SFNClient, baseConfig(options));
}

export function createKmsClient(options: ClientOptions = {}): KMSClient {
  return quietSdkClient(kmsSdk().KMSClient, baseConfig(options));
}

let documentClientInstance: DynamoDBDocumentClient | undefined;
let s3ClientInstance: S3Client | undefined;
let sfnClientInstance: SFNClient | undefined;
let kmsClientInstance: KMSClient | undefined;

/** The process-wide DynamoDB document client. */
export function documentClient(): DynamoDBDocumentClient {
  documentClientInstance ??= createDocumentClient();
  return documentClientInstance;
}

/** The process-wide S3 client. */
export function s3Client(): S3Client {
  s3ClientInstance ??= createS3Client();
  return s3ClientInstance;
}

/** The process-wide Step Functions client. */
export function sfnClient(): SFNClient {
  sfnClientInstance ??= createSfnClient();
  return sfnClientInstance;
}

/** The process-wide KMS client. */
export function kmsClient(): KMSClient {
  kmsClientInstance ??= createKmsClient();
  return kmsClientInstance;
}

/** A required setting: missing configuration fails loudly at cold start, not on first use. */
export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}
