import type { Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { resolve } from 'node:path';
import * as z from 'zod';
import type { ConnectorsConfig } from '../lambdas/shared/connectors/config';
import { JWT_ENV } from '../lambdas/shared/http/bearer';
import { WardenConfigError, cdkJsonWarden, parseConfig } from '../lib/config';
import { DataDirInUse, dataDirOwner } from './data-dir-lock';
import { createApiServer, type AccessLogEntry } from './http';
import { createLocalIdentity, type LocalIdentity } from './identity';
import { startLocalStack, type LocalStack, type LocalStackOptions } from './stack';
import { fillLocalSecrets, InvalidLocalConfig, localConnectors, readWardenLocal, startStandIns, stopStandIns, type StartedStandIn, type WardenLocalConfig } from './stand-ins';

/**
 * `npm start` without the console: the local stack (emulators, Step Functions, handlers), the
 * dev identity for the data directory, and the HTTP API in front of them.
 */

export const MODEL_PROVIDERS = ['rules', 'bedrock', 'openai-compatible'] as const;
export type ModelProviderName = (typeof MODEL_PROVIDERS)[number];

/** Standard workflow executions last at most a year, so a longer approval wait could never end. */
const MAX_APPROVAL_TIMEOUT_SECONDS = 31_536_000;

/** An unset or blank variable takes the default (a `PORT=` line in a .env file means "unset"). */
const unsetIfBlank = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

const integerFrom = (min: number, max: number, message: string) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,12}$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);

const LocalSettingsEnv = z.object({
  PORT: z.preprocess(unsetIfBlank, integerFrom(0, 65535, 'must be a port number from 0 to 65535').default(3000)),
  WARDEN_DATA_DIR: z.preprocess(unsetIfBlank, z.string().default('.warden/')),
  WARDEN_APPROVAL_TIMEOUT_SECONDS: z.preprocess(
    unsetIfBlank,
    integerFrom(1, MAX_APPROVAL_TIMEOUT_SECONDS, `must be a whole number of seconds from 1 to ${MAX_APPROVAL_TIMEOUT_SECONDS}`).default(604800),
  ),
  WARDEN_MODEL_PROVIDER: z.preprocess(
    unsetIfBlank,
    z.enum(MODEL_PROVIDERS, { error: `must be one of ${MODEL_PROVIDERS.join(', ')}` }).default('rules'),
  ),
});

export interface LocalSettings {
  port: number;
  /** Absolute. */
  dataDir: string;
  approvalTimeoutSeconds: number;
  modelProvider: ModelProviderName;
}

export class InvalidLocalSettings extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLocalSettings';
  }
}

export class PortInUse extends Error {
  constructor(
    readonly port: number,
    readonly host: string,
  ) {
    super(`Port ${port} on ${host} is in use by another process (another npm start?): stop it, or start this one with another PORT (PORT=0 picks a free one).`);
    this.name = 'PortInUse';
  }
}

/** The "Local mode settings" of API.md; a bad value names the variable, the rule and what it got. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const parsed = LocalSettingsEnv.safeParse({
    PORT: env.PORT,
    WARDEN_DATA_DIR: env.WARDEN_DATA_DIR,
    WARDEN_APPROVAL_TIMEOUT_SECONDS: env.WARDEN_APPROVAL_TIMEOUT_SECONDS,
    WARDEN_MODEL_PROVIDER: env.WARDEN_MODEL_PROVIDER,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name} ${issue.message} (got ${JSON.stringify(env[name])})`;
    });
    throw new InvalidLocalSettings(`Invalid local settings: ${problems.join('; ')}`);
  }
  return {
    port: parsed.data.PORT,
    dataDir: resolve(parsed.data.WARDEN_DATA_DIR),
    approvalTimeoutSeconds: parsed.data.WARDEN_APPROVAL_TIMEOUT_SECONDS,
    modelProvider: parsed.data.WARDEN_MODEL_PROVIDER,
  };
}

/**
 * `warden.connectors` from cdk.json (the file `cdk deploy` reads; under `npm start`, the
 * project's), parsed as the CDK app parses it: the whole `warden` object is checked, so a config
 * that would not synth does not start either. No file or no key: builtin everywhere. What only
 * AWS refuses (plain http to this machine, a secret only in `env`) is fine here.
 */
export function readConnectors(cdkJson: string = resolve('cdk.json')): ConnectorsConfig {
  try {
    return parseConfig(cdkJsonWarden(cdkJson)).connectors;
  } catch (error) {
    if (error instanceof WardenConfigError) throw new InvalidLocalSettings(`Invalid Warden config in ${cdkJson}: ${error.problems.join(' | ')}`);
    throw error;
  }
}

export interface LocalSetup {
  /** `warden.connectors`, as `cdk synth` reads it. */
  connectors: ConnectorsConfig;
  /** `wardenLocal`: the stand-ins and the connectors that replace those above for local runs. */
  local: WardenLocalConfig;
  /** The signing-secret variables set to a random value for this run (names only). */
  secretsFilled: string[];
}

/**
 * What a local run takes from cdk.json: the connectors as `cdk synth` reads them, `wardenLocal`
 * (checked now: a bad key stops the start in one line), and each signing secret the connectors
 * and stand-ins share, set in `env` for this run when unset.
 */
export function readLocalSetup(cdkJson: string = resolve('cdk.json'), env: NodeJS.ProcessEnv = process.env): LocalSetup {
  const connectors = readConnectors(cdkJson);
  try {
    const local = readWardenLocal(cdkJson);
    // Resolved against placeholder URLs now only to name a bad key before anything starts.
    localConnectors(connectors, local, Object.fromEntries(Object.keys(local.standIns).map((name) => [name, 'http://127.0.0.1:1'])));
    return { connectors, local, secretsFilled: fillLocalSecrets(connectors, local, env) };
  } catch (error) {
    if (error instanceof InvalidLocalConfig) throw new InvalidLocalSettings(`${error.message} (${cdkJson})`);
    throw error;
  }
}

export interface LocalServerOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** @default '127.0.0.1' — local mode is for this machine only. */
  host?: string;
  dataDir: string;
  approvalTimeoutSeconds?: number;
  modelProvider?: string;
  /** Each action's facts and effect connectors. @default builtin everywhere */
  connectors?: LocalStackOptions['connectors'];
  /** One entry per request (method, path, status, time); never headers or bodies. */
  accessLog?: (entry: AccessLogEntry) => void;
  /**
   * `wardenLocal`: servers standing in for a team's systems (started first, stopped last) and the
   * connectors that replace `connectors`' entries to reach them. @default none
   */
  local?: Pick<WardenLocalConfig, 'standIns' | 'connectors'>;
  /** Where the Lambda handlers run (`LocalStackOptions.functions`). @default 'in-process' */
  functions?: LocalStackOptions['functions'];
  instrument?: LocalStackOptions['instrument'];
}

export interface LocalServer {
  /** e.g. `http://127.0.0.1:3000`, no trailing slash. */
  url: string;
  /** Absolute. */
  dataDir: string;
  identity: LocalIdentity;
  /** A 1-hour token from the local issuer, as GET /local/dev-token returns it. */
  mintToken(sub: string, roles: string[]): Promise<string>;
  stack: LocalStack;
  server: Server;
  /** The stand-ins running beside the stack, with their URLs. */
  standIns: readonly StartedStandIn[];
  stop(): Promise<void>;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? 0;
  // Checked before anything starts, so a refused start leaves nothing behind. A second
  // `npm start` with the defaults hits both: one line names both.
  if (!(await portIsFree(port, host))) {
    const owner = await dataDirOwner(dataDir);
    throw owner === undefined ? new PortInUse(port, host) : new DataDirInUse(dataDir, owner, port);
  }
  const standIns = await startStandIns(options.local?.standIns ?? {}, process.env, host);
  let stack: LocalStack;
  try {
    const connectors = options.local
      ? localConnectors(options.connectors ?? {}, options.local, Object.fromEntries(standIns.map((s) => [s.name, s.url])))
      : options.connectors;
    stack = await startLocalStack({
      dataDir,
      approvalTimeoutSeconds: options.approvalTimeoutSeconds,
      modelProvider: options.modelProvider,
      connectors,
      functions: options.functions,
      instrument: options.instrument,
    });
  } catch (error) {
    await stopStandIns(standIns);
    throw error;
  }

  let server: Server | undefined;
  try {
    const identity = await createLocalIdentity({ dataDir });
    const api = createApiServer({ identity, gateway: stack.gateway, approval: stack.approval, mcp: stack.mcp, accessLog: options.accessLog });
    server = api;
    // Still possible: the port can be taken while the stack starts.
    await listen(api, port, host);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${(api.address() as AddressInfo).port}`;
    // The MCP function checks tokens itself, as in AWS: against the dev issuer's keys, served here.
    stack.setEnv({ [JWT_ENV.issuer]: identity.issuer, [JWT_ENV.audience]: identity.audience, [JWT_ENV.jwksUrl]: `${url}/local/jwks.json` });

    let stopping: Promise<void> | undefined;
    return {
      url,
      dataDir,
      identity,
      mintToken: (sub, roles) => identity.mintToken({ sub, roles }),
      stack,
      server: api,
      standIns,
      // Idempotent: SIGINT and SIGTERM may both arrive.
      stop: () => (stopping ??= closeThenStop(api, stack).then(() => stopStandIns(standIns))),
    };
  } catch (error) {
    await closeThenStop(server, stack);
    await stopStandIns(standIns);
    throw error;
  }
}

function listen(server: NetServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolveListen, rejectListen) => {
    const onError = (error: NodeJS.ErrnoException) => rejectListen(error.code === 'EADDRINUSE' ? new PortInUse(port, host) : error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolveListen();
    });
  });
}

/** Binds and lets go at once; port 0 (any free port) is always free. */
async function portIsFree(port: number, host: string): Promise<boolean> {
  if (port === 0) return true;
  const probe = createNetServer();
  try {
    await listen(probe, port, host);
  } catch (error) {
    if (error instanceof PortInUse) return false;
    throw error;
  }
  await new Promise<void>((resolveClose) => probe.close(() => resolveClose()));
  return true;
}

/** The HTTP server first, so no request reaches a stack that is shutting down. */
async function closeThenStop(server: Server | undefined, stack: LocalStack): Promise<void> {
  if (server?.listening) {
    const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    // Idle keep-alive sockets (fetch keeps them) would otherwise hold close() open.
    server.closeAllConnections();
    await closed;
  }
  await stack.stop();
}
