/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // The adapters import SDK clients and commands module by module (adapters/aws/sdk/s3.ts); under
  // Jest, which loads CommonJS, each comes from its package's index, which exports the same.
  moduleNameMapper: { '^@aws-sdk/(client-[a-z0-9-]+)/dist-es/.+$': '@aws-sdk/$1' },
  testTimeout: 30000,
};
