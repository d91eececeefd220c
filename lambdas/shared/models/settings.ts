// Types only: the SDKs themselves are imported on first use.
import type { GetSecretValueCommandOutput } from '@aws-sdk/client-secrets-manager';
import type { GetParameterCommandOutput } from '@aws-sdk/client-ssm';
import { loadOptionalSdk } from '../adapters/aws/optional-sdk';
import { quietSdkClient } from '../adapters/aws/sdk-logger';
import { ModelSettingError } from '../errors';
import type { ModelTier } from '../schemas/workflow';

/**
 * Model settings that live outside the deployment and are read once per container, on the
 * first model call: a tier's model id from an SSM String parameter (so swapping a model is a
 * parameter change, not a deploy) and the openai-compatible API key from Secrets Manager.
 *
 * The SSM value is untrusted input like any other: only a model id on the allowed list (set at
 * deploy time, the same list IAM grants InvokeModel on) is ever used. No message here quotes a
 * parameter's value or a secret.
 */

/** Model ids by triage's model tier. */
export type TierModelIds = Readonly<Record<ModelTier, string>>;

/** Reads an SSM String parameter's value. */
export type GetParameter = (name: string) => Promise<string>;
/** Reads a secret's SecretString. */
export type GetSecret = (secretId: string) => Promise<string>;

/** A setting that cannot be used: never retried, the request ends FAILED `model_misconfigured`. */
export { ModelSettingError };

/** An error's name, for our message (the SDK's own error is kept as the `cause`). */
function errorName(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : 'Error';
}

/** MODEL_IDS_ALLOWED: a JSON array of model ids (what the stack writes) or a comma-separated list. */
export function parseModelIdList(raw: string): string[] {
  const text = raw.trim();
  let ids: unknown;
  if (text.startsWith('[')) {
    try {
      ids = JSON.parse(text);
    } catch {
      ids = undefined;
    }
  } else {
    ids = text.split(',').map((id) => id.trim());
  }
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id.length > 0)) {
    throw new Error('MODEL_IDS_ALLOWED must be a JSON array of model ids or a comma-separated list');
  }
  return ids as string[];
}

/**
 * The value a tier's parameter holds, if it is an allowed model id. Refused otherwise, rather
 * than falling back to the deployed default: the parameter is how an operator says which model
 * decides, so a value that cannot be honoured must fail loudly (the first request a new
 * container serves fails, and the alarm fires) instead of leaving a model running that nobody
 * chose, with only a log line to tell. Both choices keep IAM exact and record the id that was
 * called; refusing also keeps "the parameter says X" meaning "X decides". The value is not
 * quoted: a parameter can hold anything, even a pasted secret.
 */
export function allowedModelId(parameter: string, tier: ModelTier, value: string, allowed: readonly string[]): string {
  const id = value.trim();
  if (allowed.includes(id)) return id;
  throw new ModelSettingError(
    'setting_refused',
    `SSM parameter ${parameter} (the ${tier} tier's model id) does not hold an allowed model id. ` +
      `Allowed: ${allowed.join(', ')}. Put one of them in the parameter, or add the model to allowedModelIds in cdk.json and deploy.`,
  );
}

/**
 * The model id per tier: a tier with a parameter gets the parameter's (allowed) value, any
 * other tier its deployed default. A parameter shared by both tiers is read once.
 */
export async function resolveModelIds(
  defaults: TierModelIds,
  parameters: Partial<Record<ModelTier, string>>,
  allowed: readonly string[],
  getParameter: GetParameter,
): Promise<TierModelIds> {
  const reads = new Map<string, Promise<string>>();
  const read = (name: string) => {
    let value = reads.get(name);
    if (!value) {
      value = getParameter(name);
      reads.set(name, value);
    }
    return value;
  };
  const resolve = async (tier: ModelTier): Promise<string> => {
    const parameter = parameters[tier];
    return parameter === undefined ? defaults[tier] : allowedModelId(parameter, tier, await read(parameter), allowed);
  };
  const [low, high] = await Promise.all([resolve('low'), resolve('high')]);
  return { low, high };
}

/**
 * The API key a secret holds, as plain text. A JSON secret (the console's key/value default)
 * is refused rather than sent as a bearer token. Messages name the secret, never its value.
 */
export async function readApiKey(secretId: string, getSecret: GetSecret): Promise<string> {
  const key = (await getSecret(secretId)).trim();
  if (key.length === 0) throw new ModelSettingError('setting_refused', `Secret ${secretId} (the OpenAI-compatible API key) is empty.`);
  if (key.startsWith('{')) {
    throw new ModelSettingError('setting_refused', `Secret ${secretId} (the OpenAI-compatible API key) must hold the key as plain text, not JSON key/value pairs.`);
  }
  if (/\s/.test(key)) throw new ModelSettingError('setting_refused', `Secret ${secretId} (the OpenAI-compatible API key) must be one token without whitespace.`);
  return key;
}

/** Wraps an SDK client built here (the Lambdas pass X-Ray capture). */
export type CaptureClient = <T>(client: T) => T;
/** No capture: the client as built (tests, local mode). */
export const asIs: CaptureClient = (client) => client;

/**
 * GetParameter through @aws-sdk/client-ssm, loaded and built on first use so that a provider
 * without parameters (and the rules provider) never loads it.
 */
export function sdkGetParameter(capture: CaptureClient = asIs): GetParameter {
  let send: Promise<(name: string) => Promise<GetParameterCommandOutput>> | undefined;
  const client = () =>
    (send ??= loadOptionalSdk('@aws-sdk/client-ssm', () => import('@aws-sdk/client-ssm')).then(({ SSMClient, GetParameterCommand }) => {
      const ssm = capture(quietSdkClient(SSMClient, {}));
      return (name: string) => ssm.send(new GetParameterCommand({ Name: name }));
    }));
  return async (name) => {
    let parameter: GetParameterCommandOutput['Parameter'];
    try {
      parameter = (await (await client())(name)).Parameter;
    } catch (error) {
      const reason = errorName(error) === 'ParameterNotFound' ? 'does not exist' : `could not be read (${errorName(error)})`;
      throw new ModelSettingError('setting_refused', `SSM parameter ${name} ${reason}.`, { cause: error });
    }
    // A SecureString would come back encrypted (no WithDecryption, and no kms:Decrypt granted).
    if (parameter?.Type !== 'String' || parameter.Value === undefined) {
      throw new ModelSettingError('setting_refused', `SSM parameter ${name} must be a String parameter holding a model id.`);
    }
    return parameter.Value;
  };
}

/** GetSecretValue through @aws-sdk/client-secrets-manager, loaded and built on first use. */
export function sdkGetSecret(capture: CaptureClient = asIs): GetSecret {
  let send: Promise<(secretId: string) => Promise<GetSecretValueCommandOutput>> | undefined;
  const client = () =>
    (send ??= loadOptionalSdk('@aws-sdk/client-secrets-manager', () => import('@aws-sdk/client-secrets-manager')).then(({ SecretsManagerClient, GetSecretValueCommand }) => {
      const secrets = capture(quietSdkClient(SecretsManagerClient, {}));
      return (secretId: string) => secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    }));
  return async (secretId) => {
    let secret: GetSecretValueCommandOutput;
    try {
      secret = await (await client())(secretId);
    } catch (error) {
      // A failed read carries no secret value: the SDK error is safe to keep as the cause.
      throw new ModelSettingError('setting_refused', `Secret ${secretId} (the OpenAI-compatible API key) could not be read (${errorName(error)}).`, { cause: error });
    }
    if (secret.SecretString === undefined) {
      throw new ModelSettingError('setting_refused', `Secret ${secretId} (the OpenAI-compatible API key) has no SecretString (a binary secret cannot be used).`);
    }
    return secret.SecretString;
  };
}
