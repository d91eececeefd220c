import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createDocumentClient, createKmsClient, createS3Client, createSfnClient, requireEnv } from '../../../lambdas/shared/adapters/aws/clients';
import { sdkInvokeFunction } from '../../../lambdas/shared/adapters/aws/connectors';
import { quietSdkClient, sdkLogger } from '../../../lambdas/shared/adapters/aws/sdk-logger';
import { sdkGetParameter, sdkGetSecret } from '../../../lambdas/shared/models/settings';

/** A client's middleware stack still whole (its retries), with the SDK's logger middleware gone. */
function expectQuiet(client: { middlewareStack: { identify(): string[] } }): void {
  const stack = client.middlewareStack.identify();
  expect(stack.some((name) => name.startsWith('retryMiddleware'))).toBe(true);
  expect(stack.filter((name) => name.startsWith('loggerMiddleware'))).toEqual([]);
}

describe('SDK client factories', () => {
  it('builds S3 clients that only checksum when required', async () => {
    const s3 = createS3Client({ region: 'us-east-1' }, {});
    try {
      expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
      expect(await s3.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
      expect(s3.config.forcePathStyle).toBeFalsy();
    } finally {
      s3.destroy();
    }
  });

  it.each([
    ['an explicit endpoint', { endpoint: 'http://127.0.0.1:4569' }, {}],
    ['AWS_ENDPOINT_URL_S3', {}, { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4569' }],
    ['AWS_ENDPOINT_URL', {}, { AWS_ENDPOINT_URL: 'http://127.0.0.1:4569' }],
  ])('uses path-style addressing with %s', (_what, options, env) => {
    const s3 = createS3Client({ region: 'us-east-1', ...options }, env);
    try {
      expect(s3.config.forcePathStyle).toBe(true);
    } finally {
      s3.destroy();
    }
  });

  it('marshals documents without undefined values and refuses class instances', () => {
    const doc = createDocumentClient({ region: 'us-east-1' });
    try {
      expect(doc.config.translateConfig?.marshallOptions).toMatchObject({
        removeUndefinedValues: true,
        convertClassInstanceToMap: false,
      });
    } finally {
      doc.destroy();
    }
  });

  it('builds the adapter clients with Warden\'s SDK logger and without the SDK logger middleware (it only copied every input and output)', () => {
    const clients = [createDocumentClient({ region: 'us-east-1' }), createS3Client({ region: 'us-east-1' }, {}), createSfnClient({ region: 'us-east-1' }), createKmsClient({ region: 'us-east-1' })];
    try {
      for (const client of clients) {
        expectQuiet(client);
        expect(client.config.logger).toBe(sdkLogger);
      }
    } finally {
      for (const client of clients) client.destroy();
    }
  });

  it('builds the model and connector clients the same way, keeping their own settings', async () => {
    const bedrock = quietSdkClient(BedrockRuntimeClient, { region: 'us-east-1', maxAttempts: 1 });
    try {
      expectQuiet(bedrock);
      expect(bedrock.config.logger).toBe(sdkLogger);
      expect(await bedrock.config.maxAttempts()).toBe(1);
    } finally {
      bedrock.destroy();
    }
    // The clients the SSM, Secrets Manager and Lambda readers build on their first call, as built there.
    const built: { middlewareStack: { identify(): string[] }; config: { logger: unknown }; destroy(): void }[] = [];
    const keep = <T>(client: T): T => {
      built.push(client as (typeof built)[number]);
      throw new Error('built; no call is made');
    };
    await expect(sdkGetParameter(keep)('/warden/model')).rejects.toThrow('SSM parameter /warden/model could not be read');
    await expect(sdkGetSecret(keep)('warden/key')).rejects.toThrow('Secret warden/key (the OpenAI-compatible API key) could not be read');
    await expect(sdkInvokeFunction(keep)('arn:aws:lambda:us-east-1:123456789012:function:f', '{}')).rejects.toThrow('built; no call is made');
    try {
      expect(built.map((client) => client.constructor)).toEqual([SSMClient, SecretsManagerClient, LambdaClient]);
      for (const client of built) {
        expectQuiet(client);
        expect(client.config.logger).toBe(sdkLogger);
      }
    } finally {
      for (const client of built) client.destroy();
    }
  });

  it('fails loudly on a missing setting', () => {
    expect(requireEnv('REQUESTS_TABLE', { REQUESTS_TABLE: 'warden-Requests' })).toBe('warden-Requests');
    expect(() => requireEnv('REQUESTS_TABLE', {})).toThrow('Missing required environment variable REQUESTS_TABLE');
  });
});
