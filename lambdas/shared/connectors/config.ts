import * as z from '../schemas/zod';
import { ACTIONS } from '../schemas/actions';
import { hasBuiltin } from './builtin';

/**
 * Which connector reads an action's facts and which applies its effect. Read from
 * `warden.connectors` in cdk.json (lib/config.ts) and handed to the Lambdas as the
 * `WARDEN_CONNECTORS` environment variable, by the CDK stack and by the local stack alike.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** HTTPS; plain http only to this machine (local mode and tests). */
const EndpointUrl = z.url().check(z.refine((value) => {
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}, 'must be https (http only to 127.0.0.1, localhost or [::1])'));

export const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]{1,128})?$/;
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

/**
 * The signing secret: a Secrets Manager secret (full ARN, so IAM can grant exactly it), and/or
 * an environment variable that, when set where the handler runs (local mode), is used instead.
 */
export const SigningSecret = z.strictObject({
    secretArn: z.optional(z.string().check(z.regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'))),
    env: z.optional(z.string().check(z.regex(ENV_NAME, 'must be an environment variable name'))),
  }).check(z.refine((s) => s.secretArn !== undefined || s.env !== undefined, 'needs secretArn or env'));
export type SigningSecret = z.infer<typeof SigningSecret>;

export const ConnectorConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('builtin') }),
  z.strictObject({
    type: z.literal('lambda'),
    functionArn: z.string().check(z.regex(LAMBDA_ARN, 'must be a Lambda function ARN')),
  }),
  z.strictObject({
    type: z.literal('http'),
    url: EndpointUrl,
    secret: SigningSecret,
    /** Per attempt. */
    timeoutMs: z._default(z.number().check(z.int(), z.gte(100), z.lte(30_000)), 5_000),
    /** Attempts in all, on 429, 5xx and network errors only. */
    maxAttempts: z._default(z.number().check(z.int(), z.gte(1), z.lte(6)), 3),
  }),
]);
export type ConnectorConfig = z.infer<typeof ConnectorConfig>;
export type ConnectorType = ConnectorConfig['type'];

const BUILTIN = { type: 'builtin' } as const;

export const ActionConnectors = z.strictObject({
  facts: z._default(ConnectorConfig, BUILTIN),
  effect: z._default(ConnectorConfig, BUILTIN),
});
export type ActionConnectors = z.infer<typeof ActionConnectors>;

/**
 * Per action; an action not named uses builtin for both. Unknown action names, and `builtin` named
 * for an action without one, are refused. An action with no builtin that is not named here is
 * left unconfigured rather than refused: only its own requests fail (`unconfiguredActions`), so
 * a deployment or a test that does not offer it needs no setting for it.
 */
export const ConnectorsConfig = z.record(z.string(), ActionConnectors).check(z.superRefine((config, ctx) => {
  for (const [action, connectors] of Object.entries(config)) {
    if (!(ACTIONS as readonly string[]).includes(action)) {
      ctx.addIssue({ code: 'custom', path: [action], message: `unknown action ${JSON.stringify(action)} (actions: ${ACTIONS.join(', ')})` });
      continue;
    }
    for (const kind of ['facts', 'effect'] as const) {
      if (connectors[kind].type === 'builtin' && !hasBuiltin(action as (typeof ACTIONS)[number])) {
        ctx.addIssue({ code: 'custom', path: [action, kind], message: `${action} has no builtin connector: configure lambda or http` });
      }
    }
  }
}));
export type ConnectorsConfig = z.infer<typeof ConnectorsConfig>;
/** As written in cdk.json: defaults not yet filled in. */
export type ConnectorsSetting = z.input<typeof ConnectorsConfig>;

export const CONNECTORS_ENV = 'WARDEN_CONNECTORS';

/** The connectors as the stack handed them over; none set: builtin everywhere. */
export function connectorsFromEnv(env: NodeJS.ProcessEnv = process.env): ConnectorsConfig {
  const raw = env[CONNECTORS_ENV];
  if (raw === undefined || raw === '') return ConnectorsConfig.parse({});
  return ConnectorsConfig.parse(JSON.parse(raw));
}

/** The catalog's actions that have no builtin and no connectors here: their requests fail `connector_failed`. */
export function unconfiguredActions(config: ConnectorsConfig): string[] {
  return ACTIONS.filter((action) => !(action in config) && !hasBuiltin(action));
}

/** The action's connectors with the defaults filled in. */
export function connectorsOf(config: ConnectorsConfig, action: string): ActionConnectors {
  return config[action] ?? ActionConnectors.parse({});
}
