import type { InvokeFunction, SecretReader } from '../../connectors';
import { asIs, sdkGetSecret, type CaptureClient } from '../../models/settings';
import { loadOptionalSdk } from './optional-sdk';
import { quietSdkClient } from './sdk-logger';

/**
 * The AWS side of the connectors: Lambda Invoke for `lambda`, Secrets Manager for the `http`
 * signing secret. Both SDK clients are loaded on first use: a deployment that configures no
 * such connector never loads them.
 */

/** RequestResponse invoke; the endpoint comes from AWS_ENDPOINT_URL_LAMBDA when set (local mode, tests). */
export function sdkInvokeFunction(capture: CaptureClient = asIs): InvokeFunction {
  let send: Promise<InvokeFunction> | undefined;
  const client = () =>
    (send ??= loadOptionalSdk('@aws-sdk/client-lambda', () => import('@aws-sdk/client-lambda')).then(({ LambdaClient, InvokeCommand }) => {
      const lambda = capture(quietSdkClient(LambdaClient, {}));
      return async (functionArn: string, payload: string) => {
        const out = await lambda.send(new InvokeCommand({ FunctionName: functionArn, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(payload) }));
        return {
          statusCode: out.StatusCode,
          ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
          ...(out.Payload ? { payload: new TextDecoder().decode(out.Payload) } : {}),
        };
      };
    }));
  return async (functionArn, payload) => (await client())(functionArn, payload);
}

/**
 * The signing secret: the environment variable named in config when it is set where the handler
 * runs (local mode), else the Secrets Manager secret, read once per container and ARN.
 */
export function cachedSecretReader(env: NodeJS.ProcessEnv = process.env, getSecret = sdkGetSecret()): SecretReader {
  const cache = new Map<string, Promise<string>>();
  return async (secret) => {
    const fromEnv = secret.env === undefined ? undefined : env[secret.env];
    if (fromEnv) return fromEnv;
    if (secret.secretArn === undefined) throw new Error(`environment variable ${secret.env ?? ''} is not set`);
    const arn = secret.secretArn;
    let value = cache.get(arn);
    if (!value) {
      value = getSecret(arn);
      cache.set(arn, value);
      // A failed read is not cached: the next request tries again.
      value.catch(() => cache.delete(arn));
    }
    return value;
  };
}
