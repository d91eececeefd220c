import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TextDecoder } from 'node:util';
import { json, problem } from '../lambdas/shared/http/problem';
import { bearerTokenOf } from '../lambdas/shared/http/bearer';
import type { HttpEvent } from '../lambdas/shared/http/request';
import { isValidId } from '../lambdas/shared/ids';
import { knownRoles } from '../lambdas/shared/policy/roles';
import { describeIssues } from '../lambdas/shared/schemas/actions';
import { MAX_BODY_BYTES } from '../lambdas/shared/schemas/api';
import { TokenRejected, TokenRequest, type LocalIdentity, type VerifiedClaims } from './identity';

/**
 * The local stand-in for the HTTP API and its JWT authorizer: it does what API Gateway does
 * before a Lambda runs (route match, bearer-token verification, body size limit) and hands the
 * real handlers the payload-2.0 event API Gateway would build. Everything else — media type,
 * JSON, schemas, visibility — is the handlers' job, exactly as in AWS.
 *
 * A known path with the wrong method is 404 `not_found`, not 405: an HTTP API without a
 * matching route answers 404, and local mode should not teach clients a status AWS never sends.
 */

export type HttpHandler = (event: HttpEvent) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly target: 'gateway' | 'approval' | 'mcp' | 'devToken' | 'jwks';
  /**
   * `none`: no authorizer, like /health and /openapi.json in AWS and the local-only identity
   * routes. `function`: no authorizer either, because the function checks the token itself (MCP's 401).
   */
  readonly auth: 'jwt' | 'none' | 'function';
}

/** The routes of API.md (the same list as lib/constructs/api.ts; a test keeps them equal). */
export const API_ROUTES: readonly LocalRoute[] = [
  { method: 'POST', path: '/v1/requests', target: 'gateway', auth: 'jwt' },
  { method: 'GET', path: '/v1/requests', target: 'gateway', auth: 'jwt' },
  { method: 'GET', path: '/v1/requests/{requestId}', target: 'gateway', auth: 'jwt' },
  { method: 'GET', path: '/v1/requests/{requestId}/audit', target: 'gateway', auth: 'jwt' },
  { method: 'GET', path: '/v1/tasks', target: 'approval', auth: 'jwt' },
  { method: 'GET', path: '/v1/tasks/{taskId}', target: 'approval', auth: 'jwt' },
  { method: 'POST', path: '/v1/tasks/{taskId}/decision', target: 'approval', auth: 'jwt' },
  { method: 'GET', path: '/health', target: 'gateway', auth: 'none' },
  { method: 'GET', path: '/openapi.json', target: 'gateway', auth: 'none' },
];

/** The MCP endpoint and its RFC 9728 metadata (the same list as lib/constructs/api.ts). */
export const MCP_ROUTES: readonly LocalRoute[] = [
  { method: 'POST', path: '/mcp', target: 'mcp', auth: 'function' },
  { method: 'GET', path: '/mcp', target: 'mcp', auth: 'function' },
  { method: 'GET', path: '/.well-known/oauth-protected-resource', target: 'mcp', auth: 'none' },
];

/** Local mode only: these do not exist in AWS. */
export const LOCAL_ONLY_ROUTES: readonly LocalRoute[] = [
  { method: 'GET', path: '/local/dev-token', target: 'devToken', auth: 'none' },
  { method: 'GET', path: '/local/jwks.json', target: 'jwks', auth: 'none' },
];

/** What API.md promises for a dev token. */
const DEV_TOKEN_SECONDS = 3600;
/**
 * The roles a dev token may carry: those of the policies the local stack runs. Another role
 * (a typo) would mint a token that is quietly refused everywhere; the route says so instead.
 */
const KNOWN_ROLES: ReadonlySet<string> = new Set(knownRoles());
/**
 * After a 413 (or any early answer) the rest of the body is read and thrown away, so the client
 * sees the response instead of a reset; past this much the socket is destroyed instead.
 */
const MAX_DISCARDED_BYTES = 1024 * 1024;

/** One line per request: never headers (the Authorization header is the token), never bodies. */
export interface AccessLogEntry {
  /** This HTTP request's id (the `x-request-id` header, API Gateway's `requestContext.requestId`). */
  httpRequestId: string;
  /**
   * The Warden request (`r_…`) the call concerns, as every other log line names it, once known:
   * from the path of /v1/requests/{requestId}…, else from the answer of POST /v1/requests or a task route.
   */
  requestId?: string;
  method: string;
  path: string;
  routeKey?: string;
  status: number;
  ms: number;
  /** The name of an error a handler threw (a bug: handlers map their errors themselves). */
  error?: string;
}

export interface ApiServerOptions {
  identity: Pick<LocalIdentity, 'verify' | 'mintToken' | 'jwks'>;
  gateway: HttpHandler;
  approval: HttpHandler;
  mcp: HttpHandler;
  accessLog?: (entry: AccessLogEntry) => void;
  /** How long a client may take to send a request's headers, and its whole request. @default SERVER_LIMITS */
  limits?: Partial<ServerLimits>;
}

export interface ServerLimits {
  /** Milliseconds to receive the headers; then 408 and the connection is closed. */
  headersTimeoutMs: number;
  /** Milliseconds to receive the whole request, body included (at most MAX_BODY_BYTES); then 408. */
  requestTimeoutMs: number;
  /** Open connections at once; one more is answered 503 `too_many_connections` and closed. */
  maxConnections: number;
}

/**
 * Node's defaults let one client hold a connection for five minutes by sending its body a byte at
 * a time. A request here is at most 16 KiB from this machine: seconds are plenty. The cap bounds
 * what idle or slow connections can take; fetch's keep-alive pool and parallel tests stay far below it.
 */
export const SERVER_LIMITS: ServerLimits = { headersTimeoutMs: 5_000, requestTimeoutMs: 15_000, maxConnections: 64 };

interface CompiledRoute extends LocalRoute {
  readonly routeKey: string;
  readonly segments: readonly string[];
}

const COMPILED_ROUTES: readonly CompiledRoute[] = [...API_ROUTES, ...MCP_ROUTES, ...LOCAL_ONLY_ROUTES].map((route) => ({
  ...route,
  routeKey: `${route.method} ${route.path}`,
  segments: route.path.split('/').slice(1),
}));

type Matched = { route: CompiledRoute; pathParameters: Record<string, string> };

/** Segment by segment on the raw path, so an encoded `/` inside an id stays inside that id. */
export function matchRoute(method: string, rawPath: string): Matched | undefined {
  if (!rawPath.startsWith('/')) return undefined;
  const segments = rawPath.split('/').slice(1);
  for (const route of COMPILED_ROUTES) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    const pathParameters: Record<string, string> = {};
    const matches = route.segments.every((template, index) => {
      const actual = segments[index];
      const name = /^\{([A-Za-z0-9_]+)\}$/.exec(template)?.[1];
      if (!name) return template === actual;
      if (actual.length === 0) return false;
      try {
        pathParameters[name] = decodeURIComponent(actual);
        return true;
      } catch {
        return false; // malformed percent-encoding names no resource
      }
    });
    if (matches) return { route, pathParameters };
  }
  return undefined;
}

export function createApiServer(options: ApiServerOptions): Server {
  const limits = { ...SERVER_LIMITS, ...options.limits };
  const refused = new WeakSet<Socket>();
  const tooMany = tooManyConnections(limits.maxConnections);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks both timeouts on this interval (30 s by default): often enough that they hold.
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (request, response) => {
      // Answered already, below: the request that came on it is not served.
      if (refused.has(request.socket)) return;
      void serve(options, request, response);
    },
  );
  let open = 0;
  // Before the HTTP parser's own listener: a refused socket is answered and closed before it reads anything.
  server.prependListener('connection', (socket: Socket) => {
    if (open >= limits.maxConnections) {
      refused.add(socket);
      socket.on('error', () => undefined);
      socket.end(tooMany);
      socket.destroySoon();
      return;
    }
    open++;
    socket.once('close', () => open--);
  });
  return server;
}

/** A whole HTTP/1.1 response, written straight to a socket the server will not read from. */
function tooManyConnections(max: number): Buffer {
  const result = problem(503, 'too_many_connections', `The local server holds at most ${max} connections at once; close some (or wait) and retry.`);
  const body = Buffer.from(String(result.body), 'utf8');
  const head = `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

async function serve(options: ApiServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = performance.now();
  const httpRequestId = randomUUID();
  const method = request.method ?? 'GET';
  const url = request.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : url.slice(queryAt + 1);
  const log: AccessLogEntry = { httpRequestId, method, path: rawPath, status: 0, ms: 0 };
  response.setHeader('x-request-id', httpRequestId);
  response.once('close', () => {
    // 499 (nginx's "client closed request") when the caller left before the answer was sent.
    log.status = response.writableFinished ? response.statusCode : 499;
    log.ms = Math.round((performance.now() - started) * 100) / 100;
    try {
      options.accessLog?.(log);
    } catch {
      // A failing log sink must not take the server down with it.
    }
  });

  try {
    const matched = matchRoute(method, rawPath);
    if (!matched) {
      send(response, problem(404, 'not_found', 'No such route.'));
      discardRest(request);
      return;
    }
    const { route, pathParameters } = matched;
    log.routeKey = route.routeKey;

    let claims: VerifiedClaims | undefined;
    if (route.auth === 'jwt') {
      try {
        claims = await options.identity.verify(bearerTokenOf(request.headers.authorization));
      } catch (error) {
        if (!(error instanceof TokenRejected)) throw error;
        send(response, unauthorized(error));
        discardRest(request);
        return;
      }
    }

    const body = await readBody(request, MAX_BODY_BYTES);
    if (body === 'aborted') return;
    if (body === 'too_large') {
      // The connection is closed after the answer: the unread rest of the body is not a request.
      response.setHeader('connection', 'close');
      send(response, problem(413, 'payload_too_large', `The body must be at most ${MAX_BODY_BYTES} bytes.`));
      discardRest(request);
      return;
    }

    switch (route.target) {
      case 'devToken':
        send(response, await devToken(options.identity, rawQueryString));
        return;
      case 'jwks':
        send(response, json(200, options.identity.jwks()));
        return;
      case 'gateway':
      case 'approval':
      case 'mcp': {
        if (isWardenRequestId(pathParameters.requestId)) log.requestId = pathParameters.requestId;
        const event = buildEvent({ request, route, httpRequestId, rawPath, rawQueryString, pathParameters, body, claims });
        const result = await options[route.target](event);
        log.requestId ??= answeredRequestId(route, pathParameters, result);
        send(response, result);
        return;
      }
    }
  } catch (error) {
    log.error = error instanceof Error ? error.name : typeof error;
    // API Gateway's answer to a failed integration: nothing about the cause reaches the caller.
    if (!response.headersSent) send(response, problem(500, 'internal_error', 'The request could not be handled.'));
    else response.destroy();
    discardRest(request);
  }
}

function isWardenRequestId(value: unknown): value is string {
  return isValidId(value) && value.startsWith('r_');
}

/**
 * The `requestId` of a JSON answer that is about one request: the 202 (or idempotent 200) of
 * POST /v1/requests, a task, a decision. Listings and errors name none.
 */
function answeredRequestId(route: CompiledRoute, pathParameters: Record<string, string>, result: APIGatewayProxyStructuredResultV2): string | undefined {
  const aboutOne = route.routeKey === 'POST /v1/requests' || 'taskId' in pathParameters;
  const status = result.statusCode ?? 200;
  if (!aboutOne || status >= 300 || typeof result.body !== 'string' || result.isBase64Encoded) return undefined;
  try {
    const requestId: unknown = (JSON.parse(result.body) as { requestId?: unknown } | null)?.requestId;
    return isWardenRequestId(requestId) ? requestId : undefined;
  } catch {
    return undefined;
  }
}

function unauthorized(rejection: TokenRejected): APIGatewayProxyStructuredResultV2 {
  const result = problem(401, 'unauthorized', rejection.message);
  // RFC 6750: tell the client which kind of bearer failure it was, never the token itself.
  const challenge = rejection.reason === 'missing' ? 'Bearer' : 'Bearer error="invalid_token"';
  return { ...result, headers: { ...result.headers, 'www-authenticate': challenge } };
}

async function devToken(identity: ApiServerOptions['identity'], rawQueryString: string): Promise<APIGatewayProxyStructuredResultV2> {
  const query = new URLSearchParams(rawQueryString);
  const unknown = [...new Set(query.keys())].filter((key) => key !== 'sub' && key !== 'roles');
  if (unknown.length > 0) return problem(400, 'validation_failed', `query: unknown parameter ${unknown.join(', ')}; only sub and roles`);
  const subs = query.getAll('sub');
  const roleLists = query.getAll('roles');
  if (subs.length !== 1) return problem(400, 'validation_failed', 'sub: exactly one sub is required');
  if (roleLists.length > 1) return problem(400, 'validation_failed', 'roles: give one comma-separated list');
  const roles = (roleLists[0] ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter((role) => role.length > 0);
  // Malformed first (validation_failed), then unknown: a role with a space is a mistake of another kind.
  const parsed = TokenRequest.safeParse({ sub: subs[0], roles, expiresInSeconds: DEV_TOKEN_SECONDS });
  if (!parsed.success) return problem(400, 'validation_failed', describeIssues(parsed.error));
  const unknownRoles = parsed.data.roles.filter((role) => !KNOWN_ROLES.has(role));
  if (unknownRoles.length > 0) {
    const which = unknownRoles.length === 1 ? 'role' : 'roles';
    return problem(400, 'unknown_role', `roles: unknown ${which} ${unknownRoles.join(', ')}; the known roles are ${[...KNOWN_ROLES].join(', ')}`);
  }
  const token = await identity.mintToken(parsed.data);
  return json(200, { token });
}

type BodyRead = Buffer | 'too_large' | 'aborted';

/** Reads at most `limit` bytes; past that it stops and says so, holding nothing more in memory. */
function readBody(request: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  if (request.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyRead) => {
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onAbort);
      request.off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        request.pause();
        finish('too_large');
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks));
    const onAbort = () => finish('aborted');
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', onAbort);
    request.once('close', onAbort);
  });
}

/** Throws away what is left of a body the answer did not need, up to a cap. */
function discardRest(request: IncomingMessage): void {
  if (request.readableEnded || request.destroyed) return;
  let discarded = 0;
  request.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > MAX_DISCARDED_BYTES) request.socket.destroy();
  });
  request.on('error', () => undefined);
  request.resume();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function buildEvent(args: {
  request: IncomingMessage;
  route: CompiledRoute;
  httpRequestId: string;
  rawPath: string;
  rawQueryString: string;
  pathParameters: Record<string, string>;
  body: Buffer;
  claims: VerifiedClaims | undefined;
}): HttpEvent {
  const { request, route, httpRequestId, rawPath, rawQueryString, pathParameters, body, claims } = args;
  const { headers, cookies } = headersOf(request);
  const now = new Date();
  const queryStringParameters = queryParametersOf(rawQueryString);

  let text: string | undefined;
  let isBase64Encoded = false;
  if (body.length > 0) {
    try {
      text = utf8.decode(body);
    } catch {
      text = body.toString('base64');
      isBase64Encoded = true;
    }
  }

  // API Gateway's domainName has no port; `[::1]:3000` keeps its brackets.
  const domainName = /^(\[[^\]]*\]|[^:]+)/.exec(headers.host ?? '')?.[1] ?? 'localhost';
  const requestContext = {
    accountId: '000000000000',
    apiId: 'local',
    domainName,
    domainPrefix: domainName.split('.')[0],
    http: {
      method: route.method,
      path: rawPath,
      protocol: `HTTP/${request.httpVersion}`,
      // A dual-stack socket reports IPv4 callers as `::ffff:a.b.c.d`; API Gateway reports `a.b.c.d`.
      sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''),
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: httpRequestId,
    routeKey: route.routeKey,
    stage: '$default',
    time: apiGatewayTime(now),
    timeEpoch: now.getTime(),
    ...(claims
      ? {
          authorizer: {
            principalId: '',
            integrationLatency: 0,
            jwt: { claims: flattenClaims(claims), scopes: typeof claims.scope === 'string' ? claims.scope.split(' ') : null },
          },
        }
      : {}),
  };

  // Routes without an authorizer get no `authorizer` at all, as in AWS; the handler type
  // assumes one because every route but /health has it.
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext,
    ...(text !== undefined ? { body: text } : {}),
    isBase64Encoded,
  } as HttpEvent;
}

/** Lower-cased names, repeated headers joined with commas, cookies split out: payload 2.0. */
function headersOf(request: IncomingMessage): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (!values) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((value) => value.split(/;\s*/)).filter((cookie) => cookie.length > 0);
      continue;
    }
    headers[name] = values.join(',');
  }
  // As API Gateway sets it: how the client reached the API (here always plain http).
  headers['x-forwarded-proto'] = 'http';
  return { headers, cookies };
}

function queryParametersOf(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString.length === 0) return undefined;
  const parameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    parameters[key] = key in parameters ? `${parameters[key]},${value}` : value;
  }
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

/**
 * The JWT authorizer hands claims over as strings: numbers and booleans stringified, arrays
 * flattened to `[a b]`. The handlers parse that form, so local mode sends the same.
 */
function flattenClaims(claims: VerifiedClaims): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) flat[name] = `[${value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ')}]`;
    else if (typeof value === 'object') flat[name] = JSON.stringify(value);
    else flat[name] = String(value);
  }
  return flat;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's requestContext.time format. */
function apiGatewayTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(
    date.getUTCMinutes(),
  )}:${pad(date.getUTCSeconds())} +0000`;
}

/** Hop-by-hop and framing headers are this server's to set, as they are API Gateway's. */
const RESERVED_RESPONSE_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'x-request-id']);

function send(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  if (response.headersSent) return;
  const payload =
    result.body === undefined ? Buffer.alloc(0) : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8');
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (!RESERVED_RESPONSE_HEADERS.has(name.toLowerCase())) response.setHeader(name.toLowerCase(), String(value));
  }
  if (result.cookies && result.cookies.length > 0) response.setHeader('set-cookie', result.cookies);
  response.setHeader('content-length', payload.length);
  response.statusCode = result.statusCode ?? 200;
  response.end(payload);
}
