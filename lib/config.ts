import { readFileSync } from 'node:fs';
import * as z from '../lambdas/shared/schemas/zod';
import { ConnectorsConfig } from '../lambdas/shared/connectors/config';

/**
 * The stack's configuration: the `warden` key of the CDK context (cdk.json, `-c warden='{...}'`
 * or `-c warden.<key>=<value>`; see `configFromContext`).
 * Every key has a default, so an empty object is a valid config; unknown keys are errors so a
 * typo cannot silently fall back to a default.
 */

/** Geographic / global cross-region inference profile prefixes Bedrock uses in model ids. */
export const INFERENCE_PROFILE_PREFIXES = ['us', 'us-gov', 'eu', 'apac', 'jp', 'au', 'ca', 'global'] as const;

const PROFILE_PREFIX = new RegExp(`^(?:${INFERENCE_PROFILE_PREFIXES.join('|')})\\.`);

/** `provider.model-name[:version]`, optionally behind an inference-profile prefix (`us.`, ...). */
const MODEL_ID = /^[a-z0-9-]+(?:\.[A-Za-z0-9_-]+)+(?::[A-Za-z0-9_-]+)*$/;

/**
 * Claude Haiku 4.5 and Claude Sonnet 4.6 through Bedrock's global cross-Region inference
 * profiles: Bedrock serves these models on demand only through an inference profile, and the
 * global one routes from any commercial source Region at the base price (a geographic profile,
 * `us.`/`eu.`/..., keeps requests in that geography and costs about 10% more). Both call Converse
 * with a forced tool and no extended thinking, which is what the bedrock provider sends.
 */
export const DEFAULT_MODEL_IDS = {
  low: 'global.anthropic.claude-haiku-4-5-20251001-v1:0',
  high: 'global.anthropic.claude-sonnet-4-6',
} as const;

const ModelId = z.string().check(z.maxLength(128), z.regex(MODEL_ID, 'must be a Bedrock model id (e.g. amazon.nova-lite-v1:0) or an inference-profile id (e.g. global.anthropic.claude-haiku-4-5-20251001-v1:0)'));

/** A model id as an OpenAI-compatible server names it (`qwen2.5:7b-instruct`, `Qwen/Qwen2.5-7B-Instruct`). */
const AnyModelId = z.string().check(z.minLength(1), z.maxLength(256), z.regex(/^[\x21-\x7e]+$/, 'must be a model id without spaces'));

/**
 * An SSM parameter name as GetParameter takes it: a hierarchy (`/warden/model/low`, at most 15
 * levels) or a plain name. Names under `aws` or `ssm` are AWS's own.
 */
const SsmParameterName = z.string().check(z.maxLength(1011), z.regex(/^(?:(?:\/[A-Za-z0-9_.-]+){1,15}|[A-Za-z0-9_.-]+)$/, 'must be an SSM parameter name such as /warden/model/low'), z.refine((name) => !/^\/?(?:aws|ssm)/i.test(name), { message: 'must not start with "aws" or "ssm" (reserved by AWS)' }));

/** A secret's complete ARN: the name, then the 6-character suffix Secrets Manager appends. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

const SecretId = z.string().check(z.refine((id) => SECRET_NAME.test(id) || SECRET_ARN.test(id), {
    message: 'must be a Secrets Manager secret name (e.g. warden/openai-api-key) or its complete ARN (with the 6-character suffix)',
  }));

/** True when a secret id is a complete ARN rather than a name. */
export function isSecretArn(secretId: string): boolean {
  return SECRET_ARN.test(secretId);
}

/**
 * The retention periods CloudWatch Logs accepts, in days (9999: never expire): the numeric values
 * of aws-cdk-lib's `RetentionDays`, which test/infra/config.test.ts holds this list to. Written
 * here so that reading a config (`npm start` reads cdk.json's) does not load aws-cdk-lib, which
 * wraps the process's `fs` and `child_process` functions in its own profiling when loaded.
 */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 9999];
const RETENTION_VALUES = new Set<number>(LOG_RETENTION_DAYS);

/** A Lambda's reserved concurrency, or `null` to leave it in the account's unreserved pool. */
const ReservedConcurrency = z.nullable(z.number().check(z.int(), z.gte(1), z.lte(1000)));

/**
 * Reserved concurrency per function: a hard ceiling where a runaway costs money. Only the
 * inference function (each invocation may call Bedrock for up to its 30 s timeout) is capped by
 * default; the gateway and mcp are already capped by the stage's throttling and every workflow function
 * runs once per execution the gateway started. Reserving concurrency needs an account quota
 * that keeps 100 unreserved (new accounts may have 10 in total): `null` turns a cap off.
 */
const ReservedConcurrencyConfig = z.prefault(z.strictObject({
    gateway: z._default(ReservedConcurrency, null),
    triage: z._default(ReservedConcurrency, null),
    inference: z._default(ReservedConcurrency, 10),
    validation: z._default(ReservedConcurrency, null),
    dehydrate: z._default(ReservedConcurrency, null),
    approval: z._default(ReservedConcurrency, null),
    execution: z._default(ReservedConcurrency, null),
    finalize: z._default(ReservedConcurrency, null),
    mcp: z._default(ReservedConcurrency, null),
  }), {});

/**
 * Alarm thresholds (DESIGN.md §7). The rejection rate only alarms once a 15-minute window has
 * seen `minRequestsForRejectionRate` decisions, so one rejection at night does not page anyone.
 */
const AlarmsConfig = z.prefault(z.strictObject({
    /** Rejected decisions as a percentage of all decisions in 15 minutes, above which the alarm fires. */
    rejectionRatePercent: z._default(z.number().check(z.gt(0), z.lte(100)), 15),
    /** Decisions a 15-minute window needs before its rejection rate can alarm. */
    minRequestsForRejectionRate: z._default(z.number().check(z.int(), z.gte(1)), 20),
    /** p99 of ValidationLatency (ms) over 5 minutes above which the alarm fires. */
    validationP99Ms: z._default(z.number().check(z.int(), z.positive()), 2000),
  }), {});

export const WardenConfigSchema = z.strictObject({
  /**
   * Which model provider the inference Lambda uses: Bedrock Converse, any OpenAI-compatible
   * `/v1/chat/completions` server (with `openAiBaseUrl`), or deterministic rules.
   */
  modelProvider: z._default(z.enum(['bedrock', 'openai-compatible', 'rules']), 'bedrock'),
  /** Model ids per complexity tier (Bedrock model or inference-profile ids with `bedrock`; see DEFAULT_MODEL_IDS). */
  modelIds: z.prefault(z.strictObject({
      low: z._default(AnyModelId, DEFAULT_MODEL_IDS.low),
      high: z._default(AnyModelId, DEFAULT_MODEL_IDS.high),
    }), {}),
  /**
   * SSM String parameters (operator-owned, not created by the stack) whose value replaces a
   * tier's model id, read by the inference Lambda on its first model call: swapping a model is
   * a parameter change, not a deploy. A value outside `allowedModelIds` fails the request.
   * Ignored with the `rules` provider.
   */
  modelIdParameters: z.optional(z.strictObject({ low: z.optional(SsmParameterName), high: z.optional(SsmParameterName) }).check(z.refine((parameters) => parameters.low !== undefined || parameters.high !== undefined, {
      message: 'name a parameter for low and/or high (or drop the key)',
    }))),
  /**
   * The model ids `modelIdParameters` may name; IAM grants InvokeModel on each. Must include
   * `modelIds.low` and `modelIds.high`. @default just those two
   */
  allowedModelIds: z.optional(z.array(AnyModelId).check(z.minLength(1), z.maxLength(20))),
  /**
   * `openai-compatible` only: the server's API root including its version
   * (`https://llm.internal.example.com/v1`).
   */
  openAiBaseUrl: z.optional(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  /**
   * `openai-compatible` only: the Secrets Manager secret (name or complete ARN) whose plain-text
   * SecretString is the server's API key, read on the first model call. The key itself is never
   * stack config: it would land in the template.
   */
  openAiApiKeySecret: z.optional(SecretId),
  /** The approval wait's TimeoutSeconds: at least a minute, at most Step Functions' one year. */
  approvalTimeoutSeconds: z._default(z.number().check(z.int(), z.gte(60), z.lte(31_536_000)), 604_800),
  auth: z.prefault(z.strictObject({
      /** An external OIDC issuer; without one the stack creates a Cognito user pool. */
      issuer: z.optional(z.url({ protocol: /^https$/, error: 'must be an https URL' })),
      audience: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
      /** The JWT claim that carries the caller's roles. */
      roleClaim: z._default(z.string().check(z.minLength(1)), 'cognito:groups'),
    }).check(z.refine((auth) => (auth.issuer === undefined) === (auth.audience === undefined), {
      message: 'issuer and audience must be given together (or neither, to create a Cognito user pool)',
    })), {}),
  logRetentionDays: z._default(z.number().check(z.int(), z.refine((days) => RETENTION_VALUES.has(days), {
      message: `must be one of the CloudWatch Logs retention values: ${[...RETENTION_VALUES].sort((a, b) => a - b).join(', ')}`,
    })), 30),
  /** `retain` keeps data stores (and turns on deletion protection) when the stack is deleted. */
  removalPolicy: z._default(z.enum(['retain', 'destroy']), 'retain'),
  /** Below this model confidence a proposal goes to a human. */
  confidenceThreshold: z._default(z.number().check(z.gte(0), z.lte(1)), 0.95),
  /** The HTTP API's default-stage throttling (requests per second, burst). */
  throttling: z.prefault(z.strictObject({
      rateLimit: z._default(z.number().check(z.positive()), 50),
      burstLimit: z._default(z.number().check(z.int(), z.positive()), 100),
    }), {}),
  /** Lambda reserved concurrency per function (see ReservedConcurrencyConfig). */
  reservedConcurrency: ReservedConcurrencyConfig,
  /** Alarm thresholds (see AlarmsConfig). */
  alarms: AlarmsConfig,
  /**
   * Each action's facts and effect connectors (docs/connectors.md), the schema the Lambdas
   * read WARDEN_CONNECTORS with. @default none: builtin for every action
   */
  connectors: z.prefault(ConnectorsConfig, {}),
}).check(z.superRefine((config, ctx) => {
  if (config.modelProvider === 'bedrock') {
    for (const tier of ['low', 'high'] as const) {
      const result = ModelId.safeParse(config.modelIds[tier]);
      if (!result.success) ctx.addIssue({ code: 'custom', path: ['modelIds', tier], message: result.error.issues[0]?.message ?? 'invalid' });
    }
    config.allowedModelIds?.forEach((id, index) => {
      const result = ModelId.safeParse(id);
      if (!result.success) ctx.addIssue({ code: 'custom', path: ['allowedModelIds', index], message: result.error.issues[0]?.message ?? 'invalid' });
    });
  }
  if (config.allowedModelIds !== undefined) {
    // Without parameters the list could change nothing but IAM: refuse it rather than grant more.
    if (config.modelIdParameters === undefined) {
      ctx.addIssue({ code: 'custom', path: ['allowedModelIds'], message: 'only applies to modelIdParameters: set those too, or drop this key' });
    }
    for (const tier of ['low', 'high'] as const) {
      if (!config.allowedModelIds.includes(config.modelIds[tier])) {
        ctx.addIssue({ code: 'custom', path: ['allowedModelIds'], message: `must include modelIds.${tier} (${config.modelIds[tier]})` });
      }
    }
  }
  if (config.modelProvider === 'openai-compatible' && config.openAiBaseUrl === undefined) {
    ctx.addIssue({ code: 'custom', path: ['openAiBaseUrl'], message: 'is required with modelProvider "openai-compatible"' });
  }
}));

export type WardenConfig = z.infer<typeof WardenConfigSchema>;

/** A `warden` context that does not parse: the message names every bad key by its path. */
export class WardenConfigError extends Error {
  override readonly name = 'WardenConfigError';

  /** One per bad key, each `warden.<path>: <what is wrong>`. */
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Warden config (context "warden": cdk.json and -c):\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

function configError(problems: string[]): WardenConfigError {
  return new WardenConfigError(problems);
}

const keyPath = (path: readonly PropertyKey[]) => ['warden', ...path.map(String)].join('.');

/** One line per bad key; a typo'd key is named in full, with the keys its parent does take. */
function zodProblems(error: z.core.$ZodError): string[] {
  return error.issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return [`${keyPath(issue.path)}: ${issue.message}`];
    return issue.keys.map((key) => `${keyPath([...issue.path, key])}: ${unknownKey(issue.path.map(String))}`);
  });
}

/** "not a Warden setting", and the keys that are at that level. */
function unknownKey(parent: string[]): string {
  const found = schemaAt(parent);
  const known = 'schema' in found ? Object.keys(shapeOf(leafOf(found.schema).def)) : [];
  return `not a Warden setting${known.length > 0 ? `; known here: ${known.join(', ')}` : ' (its parent takes no keys)'}`;
}

/** Parses the `warden` context value; throws one error that names every bad key. */
export function parseConfig(raw: unknown): WardenConfig {
  const result = WardenConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  throw configError(zodProblems(result.error));
}

/**
 * The `warden` object of a cdk.json file, as written (undefined without the file or the key):
 * what `-c warden='{...}'` is merged over, and what `npm start` reads its connectors from.
 */
export function cdkJsonWarden(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return (JSON.parse(text) as { context?: { warden?: unknown } }).context?.warden;
  } catch (error) {
    throw configError([`warden: ${file} is not valid JSON (${(error as Error).message})`]);
  }
}

type Json = unknown;
const isPlainObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Objects merge key by key; anything else (arrays, scalars, null) replaces. */
function mergeOver(base: Json, override: Json): Json {
  if (!isPlainObject(base) || !isPlainObject(override)) return override;
  const merged: Record<string, Json> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeOver(base[key], value);
  return merged;
}

/** The parts of a zod schema's definition this file walks (zod 4 keeps them on `def`). */
interface SchemaDef {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  /** A record's values (`connectors.<action>`). */
  valueType?: z.core.$ZodType;
  /** A union's options (a connector's `builtin` / `lambda` / `http`). */
  options?: z.core.$ZodType[];
}
const defOf = (schema: z.core.$ZodType): SchemaDef => (schema as unknown as { def: SchemaDef }).def;

/** What a key's schema holds under its default/optional/nullable wrappers. */
function leafOf(schema: z.core.$ZodType): { def: SchemaDef; nullable: boolean } {
  let nullable = false;
  for (let current = schema; ; ) {
    const def = defOf(current);
    if (def.type === 'nullable') nullable = true;
    const next = def.type === 'pipe' ? def.in : ['default', 'prefault', 'optional', 'nullable', 'readonly'].includes(def.type) ? def.innerType : undefined;
    if (!next) return { def, nullable };
    current = next;
  }
}

/** The keys an object takes; for a union, the keys any of its options takes. */
function shapeOf(def: SchemaDef): Record<string, z.core.$ZodType> {
  if (def.type === 'union') return Object.assign({}, ...(def.options ?? []).map((option) => shapeOf(leafOf(option).def))) as Record<string, z.core.$ZodType>;
  return def.shape ?? {};
}

/** The schema of `key` under `schema`: a record takes any key (its own refinement names a bad one). */
function childOf(schema: z.core.$ZodType, key: string): z.core.$ZodType | undefined {
  const { def } = leafOf(schema);
  if (def.type === 'record') return key === '' ? undefined : def.valueType;
  const shape = shapeOf(def);
  return Object.hasOwn(shape, key) ? shape[key] : undefined;
}

/**
 * A `-c` value is always a string: turn it into what the schema expects at that key (a number,
 * `null`, a boolean, a JSON array or object) so the schema, not a second list of types, decides.
 * A string that does not convert stays a string, and the schema names the key.
 */
function fromCommandLine(value: string, leaf: { def: SchemaDef; nullable: boolean }): Json {
  if (leaf.nullable && value === 'null') return null;
  switch (leaf.def.type) {
    case 'number': {
      const n = Number(value);
      return value.trim() !== '' && Number.isFinite(n) ? n : value;
    }
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'object':
    case 'array':
    case 'record':
      try {
        return JSON.parse(value) as Json;
      } catch {
        return value;
      }
    case 'union': {
      // A connector: `-c warden.connectors.<action>.effect='{"type":"lambda",...}'`.
      try {
        const parsed = JSON.parse(value) as Json;
        return isPlainObject(parsed) ? parsed : value;
      } catch {
        return value;
      }
    }
    default:
      return value;
  }
}

/** The schema at a dotted path, or the first segment that names no setting. */
function schemaAt(path: string[]): { schema: z.core.$ZodType } | { unknownAt: number } {
  let schema: z.core.$ZodType = WardenConfigSchema;
  for (const [index, key] of path.entries()) {
    const child = childOf(schema, key);
    if (!child) return { unknownAt: index };
    schema = child;
  }
  return { schema };
}

function setAt(target: Record<string, Json>, path: string[], value: Json): void {
  const [key, ...rest] = path;
  if (rest.length === 0) {
    target[key] = value;
    return;
  }
  if (!isPlainObject(target[key])) target[key] = {};
  setAt(target[key] as Record<string, Json>, rest, value);
}

/** The `warden` context as an object: cdk.json's, or a `-c` JSON string merged over it. */
function wardenObject(value: unknown, cdkJsonWarden: () => unknown, problems: string[]): Record<string, Json> {
  if (value === undefined) return {};
  if (isPlainObject(value)) return value;
  if (typeof value !== 'string') {
    problems.push(...zodProblems(WardenConfigSchema.safeParse(value).error ?? new z.core.$ZodError([])));
    return {};
  }
  let given: Json;
  try {
    given = JSON.parse(value) as Json;
  } catch (error) {
    problems.push(`warden: -c warden=... is not valid JSON (${(error as Error).message})`);
    return {};
  }
  if (!isPlainObject(given)) {
    problems.push(`warden: -c warden=... must be a JSON object, such as '{"modelProvider":"rules"}'`);
    return {};
  }
  const merged = mergeOver(cdkJsonWarden() ?? {}, given);
  return isPlainObject(merged) ? merged : given;
}

/**
 * The config from the whole CDK context, as `cdk synth` sees it: the `warden` object (cdk.json),
 * or a JSON string given with `-c warden='{...}'` merged over cdk.json's object (the CLI replaces
 * the key, so `cdkJsonWarden` is read from the file), then every `-c warden.<path>=<value>` set on
 * top, shallower keys first. Unknown keys, bad JSON and bad values are all named in one error.
 */
export function configFromContext(context: Record<string, unknown>, cdkJsonWarden: () => unknown): WardenConfig {
  const problems: string[] = [];
  const base = wardenObject(context.warden, cdkJsonWarden, problems);
  const config: Record<string, Json> = structuredClone(base);

  const dotted = Object.keys(context)
    .filter((key) => key.startsWith('warden.'))
    .map((key) => ({ key, path: key.split('.').slice(1) }))
    .sort((a, b) => a.path.length - b.path.length);
  for (const { key, path } of dotted) {
    const found = schemaAt(path);
    if ('unknownAt' in found) {
      problems.push(`${keyPath(path.slice(0, found.unknownAt + 1))}: ${unknownKey(path.slice(0, found.unknownAt))} (-c ${key}=...)`);
      continue;
    }
    const value = context[key];
    setAt(config, path, typeof value === 'string' ? fromCommandLine(value, leafOf(found.schema)) : value);
  }

  const result = WardenConfigSchema.safeParse(config);
  if (result.success && problems.length === 0) return result.data;
  throw configError([...problems, ...(result.success ? [] : zodProblems(result.error))]);
}

/**
 * Every model id the inference Lambda may call: the tiers' ids, plus, when SSM parameters can
 * swap them, the allowed list. IAM and the Lambda's check both come from this one list.
 */
export function usableModelIds(config: WardenConfig): string[] {
  const extra = config.modelIdParameters ? (config.allowedModelIds ?? []) : [];
  return [...new Set([config.modelIds.low, config.modelIds.high, ...extra])];
}

/** True for ids like `us.anthropic.claude-...` that name a cross-region inference profile. */
export function isInferenceProfileId(modelId: string): boolean {
  return PROFILE_PREFIX.test(modelId);
}

/** The foundation model behind a model id (the id itself unless it is an inference profile). */
export function foundationModelId(modelId: string): string {
  return modelId.replace(PROFILE_PREFIX, '');
}
