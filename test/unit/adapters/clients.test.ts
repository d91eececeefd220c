import { createDocumentClient, createS3Client, requireEnv } from '../../../lambdas/shared/adapters/aws/clients';

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

  it('fails loudly on a missing setting', () => {
    expect(requireEnv('REQUESTS_TABLE', { REQUESTS_TABLE: 'warden-Requests' })).toBe('warden-Requests');
    expect(() => requireEnv('REQUESTS_TABLE', {})).toThrow('Missing required environment variable REQUESTS_TABLE');
  });
});
