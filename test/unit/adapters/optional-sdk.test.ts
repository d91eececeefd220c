type OptionalSdkModule = typeof import('../../../lambdas/shared/adapters/aws/optional-sdk');

/** A fresh copy of the module: each keeps what it loaded for the life of the process. */
function fresh(): OptionalSdkModule {
  let module!: OptionalSdkModule;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    module = require('../../../lambdas/shared/adapters/aws/optional-sdk') as OptionalSdkModule;
  });
  return module;
}

describe('loadOptionalSdk', () => {
  afterEach(() => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
  });

  it('outside a bundle loads the package itself, once', async () => {
    const { loadOptionalSdk } = fresh();
    const first = await loadOptionalSdk('@aws-sdk/client-ssm', () => import('@aws-sdk/client-ssm'));
    const again = await loadOptionalSdk('@aws-sdk/client-ssm', async () => ({ GetParameterCommand: undefined }));
    expect(first.GetParameterCommand.name).toBe('GetParameterCommand');
    expect(again).toBe(first);
  });

  it('in Lambda, without its file beside the bundle, refuses rather than answer with the runtime\'s own SDK', async () => {
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'warden-validation';
    const { loadOptionalSdk } = fresh();
    const fromPackage = jest.fn(() => import('@aws-sdk/client-lambda'));
    await expect(loadOptionalSdk('@aws-sdk/client-lambda', fromPackage)).rejects.toThrow('@aws-sdk/client-lambda: sdk/client-lambda.js is missing beside the bundle');
    expect(fromPackage).not.toHaveBeenCalled();
  });
});
