import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, normalize, resolve } from 'node:path';
import * as z from 'zod';
import { ConnectorConfig, ConnectorsConfig, SigningSecret, type ConnectorsSetting } from '../lambdas/shared/connectors/config';

/**
 * Local stand-ins for a team's own systems (an ERP an `http` connector reaches), declared in
 * cdk.json under `wardenLocal`, a key `cdk synth` never reads: `standIns` are servers `npm start`
 * starts beside the stack, `connectors` replace `warden.connectors` entries for local runs only,
 * so the deployed config keeps its https endpoints and Secrets Manager ARNs.
 */

/** The repository: stand-in modules are code in it, wherever the cdk.json that names them is. */
const REPO = resolve(__dirname, '..');
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

const ModulePath = z
  .string()
  .regex(/^[A-Za-z0-9_./-]+\.ts$/, 'must be a .ts module path in the repository, e.g. actions/<name>/erp.ts')
  .refine((path) => !isAbsolute(path) && !normalize(path).startsWith('..'), 'must stay inside the repository');

export const StandInConfig = z.strictObject({
  /** Relative to the repository root; exports `startStandIn` (StartStandIn). */
  module: ModulePath,
  /** @default 0: any free port (a connector names the stand-in, not its port) */
  port: z.number().int().min(0).max(65535).default(0),
  /** The variable holding the signing secret it verifies (the connector's `secret.env`). */
  secretEnv: z.string().regex(ENV_NAME, 'must be an environment variable name').optional(),
});
export type StandInConfig = z.infer<typeof StandInConfig>;

const StandInName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a short lower-case name');

/** An http connector to a stand-in: its URL is known once the stand-in listens. */
const StandInConnector = z.strictObject({
  type: z.literal('http'),
  standIn: StandInName,
  /** Appended to the stand-in's URL. */
  path: z.string().regex(/^\/[A-Za-z0-9/_.-]*$/, 'must be a path such as /warden/facts'),
  secret: SigningSecret,
  timeoutMs: z.number().int().optional(),
  maxAttempts: z.number().int().optional(),
});
type StandInConnector = z.infer<typeof StandInConnector>;
const LocalConnector = z.union([StandInConnector, ConnectorConfig]);

export const WardenLocalConfig = z
  .strictObject({
    standIns: z.record(StandInName, StandInConfig).default({}),
    /** Per action and kind, replacing `warden.connectors`' entry for local runs. */
    connectors: z.record(z.string(), z.strictObject({ facts: LocalConnector.optional(), effect: LocalConnector.optional() })).default({}),
  })
  .superRefine((config, ctx) => {
    for (const [action, pair] of Object.entries(config.connectors)) {
      for (const kind of ['facts', 'effect'] as const) {
        const connector = pair[kind];
        if (connector && 'standIn' in connector && !(connector.standIn in config.standIns)) {
          ctx.addIssue({ code: 'custom', path: ['connectors', action, kind, 'standIn'], message: `names no stand-in (standIns: ${Object.keys(config.standIns).join(', ') || 'none'})` });
        }
      }
    }
  });
export type WardenLocalConfig = z.infer<typeof WardenLocalConfig>;

/** What a stand-in module's `startStandIn` is given and gives back. */
export interface StandInOptions {
  host: string;
  port: number;
  /** The signing secret, when the stand-in declares `secretEnv`. */
  secret?: string;
}
export interface RunningStandIn {
  /** e.g. `http://127.0.0.1:4010`. */
  url: string;
  stop(): Promise<void>;
}
export type StartStandIn = (options: StandInOptions) => Promise<RunningStandIn>;

export class InvalidLocalConfig extends Error {
  override readonly name = 'InvalidLocalConfig';
}

/** `wardenLocal` of a cdk.json, parsed; no file or no key: nothing local. */
export function readWardenLocal(cdkJson: string): WardenLocalConfig {
  let raw: unknown;
  try {
    raw = (JSON.parse(readFileSync(cdkJson, 'utf8')) as { context?: { wardenLocal?: unknown } }).context?.wardenLocal;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return WardenLocalConfig.parse({});
    throw new InvalidLocalConfig(`Invalid wardenLocal in ${cdkJson}: ${(error as Error).message}`);
  }
  const parsed = WardenLocalConfig.safeParse(raw ?? {});
  if (!parsed.success) throw new InvalidLocalConfig(`Invalid wardenLocal in ${cdkJson}: ${issuesOf(parsed.error, 'wardenLocal')}`);
  return parsed.data;
}

function issuesOf(error: z.core.$ZodError, root: string): string {
  return error.issues.map((issue) => `${[root, ...issue.path.map(String)].join('.')}: ${issue.message}`).join(' | ');
}

/**
 * `warden.connectors` with `wardenLocal.connectors` over it (an action's facts or effect replaced
 * whole), a stand-in's connector pointed at where it listens; checked again as a whole.
 */
export function localConnectors(deployed: ConnectorsSetting, local: Pick<WardenLocalConfig, 'connectors'>, standInUrls: Readonly<Record<string, string>>): ConnectorsConfig {
  const merged: Record<string, Record<string, unknown>> = structuredClone(deployed) as Record<string, Record<string, unknown>>;
  for (const [action, pair] of Object.entries(local.connectors)) {
    for (const kind of ['facts', 'effect'] as const) {
      const connector = pair[kind];
      if (connector) merged[action] = { ...merged[action], [kind]: 'standIn' in connector ? toStandIn(connector, standInUrls) : connector };
    }
  }
  const parsed = ConnectorsConfig.safeParse(merged);
  if (!parsed.success) throw new InvalidLocalConfig(`Invalid wardenLocal: ${issuesOf(parsed.error, 'wardenLocal.connectors')}`);
  return parsed.data;
}

function toStandIn(connector: StandInConnector, standInUrls: Readonly<Record<string, string>>): unknown {
  const { standIn, path, ...rest } = connector;
  const url = standInUrls[standIn];
  if (!url) throw new InvalidLocalConfig(`wardenLocal.connectors: stand-in ${standIn} is not running`);
  return { ...rest, url: `${url}${path}` };
}

/**
 * Each signing-secret variable a local connector or stand-in reads and the environment leaves
 * unset, set to a random value for this run: the connector (on the handlers' thread, which
 * inherits it) and the stand-in share it, and nobody has to invent one. Returns the names it set (never the values).
 */
export function fillLocalSecrets(deployed: ConnectorsConfig, local: WardenLocalConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  const names = new Set<string>();
  for (const pair of [...Object.values(deployed), ...Object.values(local.connectors)]) {
    for (const connector of [pair.facts, pair.effect]) if (connector?.type === 'http' && connector.secret.env) names.add(connector.secret.env);
  }
  for (const standIn of Object.values(local.standIns)) if (standIn.secretEnv) names.add(standIn.secretEnv);
  const filled: string[] = [];
  for (const name of [...names].sort()) {
    if (env[name] === undefined || env[name]?.trim() === '') {
      env[name] = randomBytes(32).toString('hex');
      filled.push(name);
    }
  }
  return filled;
}

export interface StartedStandIn extends RunningStandIn {
  name: string;
  module: string;
}

/** Starts each stand-in on 127.0.0.1 at its port; if one fails, those already started are stopped. */
export async function startStandIns(standIns: Record<string, StandInConfig>, env: NodeJS.ProcessEnv = process.env, host = '127.0.0.1'): Promise<StartedStandIn[]> {
  const started: StartedStandIn[] = [];
  try {
    for (const [name, config] of Object.entries(standIns)) {
      const loaded = (await import(resolve(REPO, config.module))) as { startStandIn?: unknown };
      if (typeof loaded.startStandIn !== 'function') throw new InvalidLocalConfig(`wardenLocal.standIns.${name}: ${config.module} exports no startStandIn function`);
      const secret = config.secretEnv ? env[config.secretEnv] : undefined;
      if (config.secretEnv && !secret) throw new InvalidLocalConfig(`wardenLocal.standIns.${name}: ${config.secretEnv} is not set`);
      try {
        const running = await (loaded.startStandIn as StartStandIn)({ host, port: config.port, ...(secret ? { secret } : {}) });
        started.push({ ...running, name, module: config.module });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new InvalidLocalConfig(`wardenLocal.standIns.${name}: port ${config.port} on ${host} is in use; free it or change the port (and the URLs of wardenLocal.connectors that name it)`);
        }
        throw error;
      }
    }
    return started;
  } catch (error) {
    await stopStandIns(started);
    throw error;
  }
}

export async function stopStandIns(started: readonly RunningStandIn[]): Promise<void> {
  await Promise.all(started.map((standIn) => standIn.stop()));
}
