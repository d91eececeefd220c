import { createDocumentClient, createKmsClient, createS3Client, createSfnClient, requireEnv } from '../../../lambdas/shared/adapters/aws/clients';

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

  it('builds clients without the SDK logger middleware (they have no logger; it only copied every input and output)', () => {
    const clients = [createDocumentClient({ region: 'us-east-1' }), createS3Client({ region: 'us-east-1' }, {}), createSfnClient({ region: 'us-east-1' }), createKmsClient({ region: 'us-east-1' })];
    try {
      for (const client of clients) {
        const stack = client.middlewareStack.identify();
        // Still a whole stack: only the logger is gone.
        expect(stack.some((name) => name.startsWith('retryMiddleware'))).toBe(true);
        expect(stack.filter((name) => name.startsWith('loggerMiddleware'))).toEqual([]);
      }
    } finally {
      for (const client of clients) client.destroy();
    }
  });

  it('fails loudly on a missing setting', () => {
    expect(requireEnv('REQUESTS_TABLE', { REQUESTS_TABLE: 'warden-Requests' })).toBe('warden-Requests');
    expect(() => requireEnv('REQUESTS_TABLE', {})).toThrow('Missing required environment variable REQUESTS_TABLE');
  });
});
