import * as z from '../schemas/zod';
import { DecisionResult } from '../approval/decide';
import { PublicTask, PublicTaskDetail, TaskList } from '../approval/view';
import { wholeCatalog } from '../catalog/registry';
import { Id } from '../ids';
import { lazy } from '../lazy';
import { PublicAuditTrail, PublicRequest, PublicRequestSummary, RequestList, RequestNext } from '../requests/view';
import {
  DecisionBody,
  Health,
  IdempotencyKey,
  ListRequestsQuery,
  ListTasksQuery,
  MAX_BODY_BYTES,
  ProtectedResourceMetadata,
  SubmitRequestBody,
  SubmittedRequest,
} from '../schemas/api';
import { FieldIssue } from '../schemas/issues';
import { Problem } from './problem';

/**
 * `GET /openapi.json` (API.md "Operations"): the OpenAPI 3.1 description of every route, built
 * from the zod schemas the handlers parse with and answer in, and from the action catalog. The
 * gateway builds it on the first request for it and keeps it, so no other route's cold start pays
 * for it; `npm run openapi` writes the same document to docs/openapi.json.
 */

type Json = Record<string, unknown>;
type Method = 'get' | 'post';

/** The statuses of API.md "Errors" that an operation can answer with problem+json. */
type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 415 | 429 | 500 | 503;

interface Answer {
  readonly description: string;
  /** No schema: no body (a 202 to a JSON-RPC notification). */
  readonly schema?: z.core.$ZodType;
  readonly headers?: Readonly<Record<string, Header>>;
}

interface Header {
  readonly description: string;
  readonly schema: z.core.$ZodType;
  readonly required?: boolean;
}

interface OperationSpec {
  readonly method: Method;
  readonly path: string;
  readonly operationId: string;
  readonly tag: Tag;
  readonly summary: string;
  readonly description?: string;
  /** `none` where API.md says "no auth"; every other route needs the bearer JWT. */
  readonly auth: 'bearer' | 'none';
  /**
   * `function`: the function checks the token itself (MCP, whose 401 must carry its own
   * challenge), so API Gateway never answers 401 there. @default the JWT authorizer
   */
  readonly verifiedBy?: 'function';
  readonly query?: z.core.$ZodObject;
  readonly requestHeaders?: Readonly<Record<string, Header>>;
  readonly body?: z.core.$ZodType;
  readonly answers: Readonly<Record<number, Answer>>;
  /** Error statuses, each with what it means here, or `true` for the general meaning. */
  readonly errors: Readonly<Partial<Record<ErrorStatus, string | true>>>;
}

type Tag = 'requests' | 'tasks' | 'agents' | 'operations';

const TAGS: readonly { name: Tag; description: string }[] = [
  { name: 'requests', description: 'Submit a request, follow it, read its audit trail.' },
  { name: 'tasks', description: 'Approval tasks: the approvers an action’s policy names decide them.' },
  { name: 'agents', description: 'The Model Context Protocol endpoint for agents, and its RFC 9728 metadata.' },
  { name: 'operations', description: 'Health and this description; no token needed.' },
];

/** One body per way of asking: free text (the action optional), or one action with exactly its fields. */
function submitBodies(): { union: z.core.$ZodType; variants: { id: string; schema: z.core.$ZodType; description: string }[]; fields: { id: string; schema: z.core.$ZodType; description: string }[] } {
  const freeText = z.omit(SubmitRequestBody, { fields: true });
  const perAction = wholeCatalog().map((action) => ({
    name: action.name,
    title: action.title,
    body: z.extend(SubmitRequestBody, { action: z.literal(action.name), fields: action.fields }),
    fields: action.fields,
  }));
  return {
    union: z.union([freeText, ...perAction.map((a) => a.body)]),
    variants: [
      {
        id: 'FreeTextRequest',
        schema: freeText,
        description: 'Free text: triage finds the action and a model (or the rules provider) the fields. A named `action` is checked against the caller’s roles at once.',
      },
      ...perAction.map((a) => ({
        id: `${pascal(a.name)}Request`,
        schema: a.body,
        description: `${a.title}: \`action\` and \`fields\` that satisfy the action’s schema make the request deterministic (no model).`,
      })),
    ],
    fields: perAction.map((a) => ({ id: `${pascal(a.name)}Fields`, schema: a.fields, description: `The fields of \`${a.name}\` (docs/actions.md).` })),
  };
}

/** A JSON-RPC 2.0 message of MCP's Streamable HTTP transport; the MCP server (mcp/server.ts) checks the rest. */
const JsonRpcMessage = z.looseObject({ jsonrpc: z.literal('2.0') });

/** This document, as far as a client needs to know before reading it. */
const OpenApiDocument = z.looseObject({ openapi: z.string() });

/** What API Gateway itself answers before any function runs (README "Known limits"). */
const GatewayMessage = z.strictObject({ message: z.string() });

// Built with the document: every action's schemas, which the gateway needs for no other route.
const submit = lazy(submitBodies);

const MCP_UNAUTHORIZED = 'No valid token. `WWW-Authenticate` names the protected-resource metadata (RFC 9728), which names the issuer.';

const REQUEST_ID = 'The `r_…` id `POST /v1/requests` returned.';

const ALLOW: Header = { description: 'The methods the route takes.', schema: z.string(), required: true };

const LOCATION: Header = { description: 'The request’s URL, as `links.self`.', schema: z.string(), required: true };

const WWW_AUTHENTICATE: Header = {
  description: 'RFC 6750: `Bearer`, or `Bearer error="invalid_token"` for a token that was sent but refused. Never the token.',
  schema: z.string(),
};

/** MCP authorization: the challenge names the RFC 9728 metadata, so a client can find the issuer. */
const MCP_CHALLENGE: Header = {
  description: '`Bearer resource_metadata="<base>/.well-known/oauth-protected-resource"` (with `error="invalid_token"` for a token that was refused). Never the token.',
  schema: z.string().check(z.regex(/resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource"/)),
  required: true,
};

const OPERATIONS: readonly OperationSpec[] = [
  {
    method: 'post',
    path: '/v1/requests',
    operationId: 'submitRequest',
    tag: 'requests',
    summary: 'Submit a request',
    description:
      'Free text, or an action with its fields. The same `Idempotency-Key` from the same caller with the same body returns the same request and starts nothing new.',
    auth: 'bearer',
    requestHeaders: {
      'Idempotency-Key': { description: 'Makes a retry safe: the same key and body give the same request.', schema: IdempotencyKey },
    },
    get body() {
      return submit().union;
    },
    answers: {
      200: { description: 'A replay of an earlier request with the same Idempotency-Key and body: its id and current status.', schema: SubmittedRequest, headers: { Location: LOCATION } },
      202: { description: 'Accepted and `QUEUED`; follow `links.self`.', schema: SubmittedRequest, headers: { Location: LOCATION } },
    },
    errors: {
      400: true,
      401: true,
      403: '`action_not_permitted`: the caller’s roles may not request the named action.',
      409: '`idempotency_key_reused`: the same Idempotency-Key with a different body.',
      413: true,
      415: true,
      429: true,
      500: true,
      503: true,
    },
  },
  {
    method: 'get',
    path: '/v1/requests',
    operationId: 'listRequests',
    tag: 'requests',
    summary: 'List requests',
    description: 'The caller’s own requests, newest first (an `auditor` sees everyone’s), without `proposal` and `result`.',
    auth: 'bearer',
    query: ListRequestsQuery,
    answers: { 200: { description: 'One page; `nextToken` when there is more.', schema: RequestList } },
    errors: { 400: true, 401: true, 429: true, 500: true },
  },
  {
    method: 'get',
    path: '/v1/requests/{requestId}',
    operationId: 'getRequest',
    tag: 'requests',
    summary: 'Read a request',
    description: 'Visible to its requester and to `auditor`. `next` says what happens now and what the caller can do.',
    auth: 'bearer',
    answers: { 200: { description: 'The request view.', schema: PublicRequest } },
    errors: { 401: true, 404: 'Unknown, or not visible to the caller.', 429: true, 500: true },
  },
  {
    method: 'get',
    path: '/v1/requests/{requestId}/audit',
    operationId: 'getAuditTrail',
    tag: 'requests',
    summary: 'Read a request’s audit trail',
    description: 'Same visibility as the request. `verified` is true when the hash chain is exactly what its signed head vouches for.',
    auth: 'bearer',
    answers: { 200: { description: 'The entries, oldest first, and the verdict.', schema: PublicAuditTrail } },
    errors: { 401: true, 404: 'Unknown, or not visible to the caller.', 429: true, 500: true },
  },
  {
    method: 'get',
    path: '/v1/tasks',
    operationId: 'listTasks',
    tag: 'tasks',
    summary: 'List the tasks the caller may decide',
    description: 'Only tasks whose approver roles and tier the caller has, and that the caller did not request; each with its single-use `approvalToken`.',
    auth: 'bearer',
    query: ListTasksQuery,
    answers: { 200: { description: 'One page; `nextToken` when there is more.', schema: TaskList } },
    errors: { 400: true, 401: true, 429: true, 500: true },
  },
  {
    method: 'get',
    path: '/v1/tasks/{taskId}',
    operationId: 'getTask',
    tag: 'tasks',
    summary: 'Read a task with its evidence',
    auth: 'bearer',
    answers: { 200: { description: 'The task and what the approver decides on.', schema: PublicTaskDetail } },
    errors: { 401: true, 404: 'Unknown, or the caller may not decide it.', 429: true, 500: true },
  },
  {
    method: 'post',
    path: '/v1/tasks/{taskId}/decision',
    operationId: 'decideTask',
    tag: 'tasks',
    summary: 'Approve or reject a task',
    description: 'Of two concurrent decisions on one task exactly one gets 200.',
    auth: 'bearer',
    body: DecisionBody,
    answers: { 200: { description: 'Decided; the request runs on.', schema: DecisionResult } },
    errors: {
      400: true,
      401: true,
      403: '`not_authorized_approver` (role or tier) or `self_approval_forbidden`.',
      404: 'Unknown task, or one the caller may not see.',
      409: '`approval_token_mismatch`, or `task_already_decided` (a replay).',
      410: '`task_expired`: past the approval deadline.',
      413: true,
      415: true,
      429: true,
      500: true,
      503: true,
    },
  },
  {
    method: 'post',
    path: '/mcp',
    operationId: 'mcp',
    tag: 'agents',
    summary: 'Model Context Protocol (Streamable HTTP, stateless, JSON responses)',
    description:
      'One JSON-RPC message per POST. Tools come from the action catalog (`request_<action>`, `submit_request`, `get_request`, `list_my_requests`); no tool decides an approval. The same bearer token and roles as the HTTP API.',
    auth: 'bearer',
    verifiedBy: 'function',
    body: JsonRpcMessage,
    answers: {
      200: { description: 'The JSON-RPC response.', schema: JsonRpcMessage },
      202: { description: 'A notification or a response was accepted; no body.' },
      // The MCP transport's own refusals are JSON-RPC error objects, as the MCP SDK's client expects.
      400: {
        description:
          'From the MCP transport: not JSON, not a JSON-RPC 2.0 message, a batch of more than 100 messages, or an `MCP-Protocol-Version` the server does not speak (a JSON-RPC error object).',
        schema: JsonRpcMessage,
      },
      406: { description: 'From the MCP transport: `Accept` must list both `application/json` and `text/event-stream` (a JSON-RPC error object).', schema: JsonRpcMessage },
      415: { description: 'From the MCP transport: the body must be `application/json` (a JSON-RPC error object).', schema: JsonRpcMessage },
    },
    errors: {
      401: MCP_UNAUTHORIZED,
      413: true,
      429: true,
      500: true,
    },
  },
  {
    method: 'get',
    path: '/mcp',
    operationId: 'mcpStream',
    tag: 'agents',
    summary: 'No server-to-client stream: the endpoint is stateless',
    auth: 'bearer',
    verifiedBy: 'function',
    answers: {},
    errors: { 401: MCP_UNAUTHORIZED, 405: 'Always, once the token is valid: POST each message.', 429: true, 500: true },
  },
  {
    method: 'get',
    path: '/.well-known/oauth-protected-resource',
    operationId: 'protectedResourceMetadata',
    tag: 'agents',
    summary: 'RFC 9728 protected-resource metadata of the MCP endpoint',
    auth: 'none',
    answers: { 200: { description: '`resource` is the MCP endpoint’s URL; `authorization_servers` names the JWT issuer.', schema: ProtectedResourceMetadata } },
    errors: { 429: true, 500: true },
  },
  {
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag: 'operations',
    summary: 'Health check',
    auth: 'none',
    answers: { 200: { description: 'Up.', schema: Health } },
    errors: { 429: true },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApi',
    tag: 'operations',
    summary: 'This OpenAPI 3.1 description',
    auth: 'none',
    answers: { 200: { description: 'The document.', schema: OpenApiDocument } },
    errors: { 429: true },
  },
];

/** The general meaning of each error status (API.md "Errors"), as a reusable response. */
const ERROR_RESPONSES: Record<ErrorStatus, { name: string; description: string }> = {
  400: {
    name: 'BadRequest',
    description:
      '`malformed_json`, or `validation_failed`: a body, query or header that breaks the schema. `errors` lists every offending field with its path, what is wrong and what it expects.',
  },
  401: { name: 'Unauthorized', description: 'A missing, invalid or expired bearer token.' },
  403: { name: 'Forbidden', description: 'Authenticated, but not allowed.' },
  404: { name: 'NotFound', description: 'Unknown, or not visible to the caller.' },
  405: { name: 'MethodNotAllowed', description: '`method_not_allowed`; `Allow` names the method to use.' },
  409: { name: 'Conflict', description: 'A conflict with the current state.' },
  410: { name: 'Gone', description: 'Expired.' },
  413: { name: 'PayloadTooLarge', description: `\`payload_too_large\`: the body is over ${MAX_BODY_BYTES / 1024} KiB.` },
  415: { name: 'UnsupportedMediaType', description: '`unsupported_media_type`: the body is not `application/json`.' },
  429: { name: 'TooManyRequests', description: 'Throttled.' },
  500: { name: 'InternalError', description: '`internal_error`: nothing is echoed; it has been logged.' },
  503: { name: 'ServiceUnavailable', description: '`orchestrator_unavailable`: the workflow could not be reached; retry.' },
};

/** Statuses that API Gateway can answer itself in AWS, with its own body instead of problem+json. */
const GATEWAY_ANSWERS: ReadonlySet<ErrorStatus> = new Set([401, 429]);

/** How an operation's errors differ from the general ones: MCP's function answers its own 401. */
interface ErrorContext {
  readonly verifiedBy?: 'function';
}

const SCHEMAS = '#/components/schemas/';

function pascal(snake: string): string {
  return snake.replace(/(^|_)([a-z0-9])/g, (_match, _sep: string, letter: string) => letter.toUpperCase());
}

/** Components in one direction (`input`: what clients send; `output`: what they get), refs between them by name. */
function components(io: 'input' | 'output', named: readonly { id: string; schema: z.core.$ZodType; description?: string }[]): Record<string, Json> {
  const registry = z.registry<{ id: string; description?: string }>();
  for (const { id, schema, description } of named) registry.add(schema, { id, ...(description ? { description } : {}) });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io, uri: (id) => `${SCHEMAS}${id}` }) as { schemas: Record<string, Json> };
  // Each is a Schema Object inside the document: the dialect is the document's, and it has no `$id` of its own.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]));
}

/** A schema inline (a parameter's) in one direction. */
function inline(schema: z.core.$ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as Json;
  return json;
}

function errorResponse(status: ErrorStatus, description: string, context: ErrorContext = {}): Json {
  const fromFunction = status === 401 && context.verifiedBy === 'function';
  const byGateway = GATEWAY_ANSWERS.has(status) && !fromFunction;
  const content: Json = { 'application/problem+json': { schema: { $ref: `${SCHEMAS}Problem` } } };
  if (byGateway) content['application/json'] = { schema: { $ref: `${SCHEMAS}GatewayMessage` } };
  return {
    description: byGateway ? `${description} In AWS, API Gateway answers this itself with \`{"message": …}\` before any function runs.` : description,
    ...(status === 401 ? { headers: { 'WWW-Authenticate': headerObject(fromFunction ? MCP_CHALLENGE : WWW_AUTHENTICATE) } } : {}),
    ...(status === 405 ? { headers: { Allow: headerObject(ALLOW) } } : {}),
    content,
  };
}

function headerObject(header: Header): Json {
  return { description: header.description, required: header.required ?? false, schema: inline(header.schema, 'output') };
}

function parameters(operation: OperationSpec): Json[] {
  const inPath = [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description: name === 'requestId' ? REQUEST_ID : 'The task’s id, from `GET /v1/tasks`.',
    schema: inline(Id, 'input'),
  }));
  const query = operation.query ? inline(operation.query, 'input') : undefined;
  const required = new Set((query?.required ?? []) as string[]);
  const inQuery = Object.entries((query?.properties ?? {}) as Record<string, Json>).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }));
  const inHeader = Object.entries(operation.requestHeaders ?? {}).map(([name, header]) => ({
    name,
    in: 'header',
    required: header.required ?? false,
    description: header.description,
    schema: inline(header.schema, 'input'),
  }));
  return [...inPath, ...inQuery, ...inHeader];
}

function refTo(named: ReadonlyMap<z.core.$ZodType, string>, schema: z.core.$ZodType): Json {
  const id = named.get(schema);
  if (!id) throw new Error('an OpenAPI operation uses a schema that is not a named component');
  return { $ref: `${SCHEMAS}${id}` };
}

function operationObject(operation: OperationSpec, bodyRefs: ReadonlyMap<z.core.$ZodType, string>, answerRefs: ReadonlyMap<z.core.$ZodType, string>): Json {
  const responses: Json = {};
  for (const [status, answer] of Object.entries(operation.answers)) {
    responses[status] = {
      description: answer.description,
      ...(answer.headers ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([name, header]) => [name, headerObject(header)])) } : {}),
      ...(answer.schema ? { content: { 'application/json': { schema: refTo(answerRefs, answer.schema) } } } : {}),
    };
  }
  for (const [key, meaning] of Object.entries(operation.errors)) {
    const status = Number(key) as ErrorStatus;
    responses[key] = meaning === true ? { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` } : errorResponse(status, meaning, operation);
  }
  const parameterList = parameters(operation);
  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    // The document's default is the bearer JWT; a public route says it needs nothing.
    ...(operation.auth === 'none' ? { security: [] } : {}),
    ...(parameterList.length > 0 ? { parameters: parameterList } : {}),
    ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: refTo(bodyRefs, operation.body) } } } } : {}),
    responses,
  };
}

/** The routes this document describes, as `METHOD /path`. */
export const OPENAPI_ROUTES: readonly string[] = OPERATIONS.map((operation) => `${operation.method.toUpperCase()} ${operation.path}`);

export function buildOpenApiDocument(): Json {
  const bodies = [
    { id: 'SubmitRequest', schema: submit().union, description: 'Free text, or one action with exactly its fields.' },
    ...submit().variants,
    ...submit().fields,
    { id: 'DecisionBody', schema: DecisionBody },
    { id: 'JsonRpcMessage', schema: JsonRpcMessage },
  ];
  const answers = [
    { id: 'Problem', schema: Problem, description: 'problem+json (RFC 9457) with a stable snake_case `code`.' },
    { id: 'FieldIssue', schema: FieldIssue, description: 'One offending field of a 400 `validation_failed`.' },
    { id: 'GatewayMessage', schema: GatewayMessage, description: 'API Gateway’s own error body in AWS (a token refused before any function runs, throttling).' },
    { id: 'SubmittedRequest', schema: SubmittedRequest },
    { id: 'RequestNext', schema: RequestNext, description: 'What happens now, and what the caller can do.' },
    { id: 'PublicRequest', schema: PublicRequest, description: 'A request as its requester (or an auditor) sees it.' },
    { id: 'PublicRequestSummary', schema: PublicRequestSummary, description: 'A listed request: the request view without `proposal` and `result`.' },
    { id: 'RequestList', schema: RequestList },
    { id: 'AuditTrail', schema: PublicAuditTrail },
    { id: 'PublicTask', schema: PublicTask },
    { id: 'PublicTaskDetail', schema: PublicTaskDetail },
    { id: 'TaskList', schema: TaskList },
    { id: 'DecisionResult', schema: DecisionResult },
    { id: 'JsonRpcMessage', schema: JsonRpcMessage },
    { id: 'ProtectedResourceMetadata', schema: ProtectedResourceMetadata },
    { id: 'Health', schema: Health },
    { id: 'OpenApiDocument', schema: OpenApiDocument },
  ];
  const bodyRefs = new Map(bodies.map(({ id, schema }) => [schema, id]));
  const answerRefs = new Map(answers.map(({ id, schema }) => [schema, id]));
  return {
    openapi: '3.1.1',
    info: {
      title: 'Warden',
      version: '1',
      summary: 'Governed AI actions: the model proposes, policy decides, a human approves where policy says so.',
      description: 'Generated from the schemas the handlers use and from the action catalog (`npm run openapi`). The contract in prose is API.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: TAGS,
    security: [{ bearerAuth: [] }],
    paths: pathsOf(OPERATIONS.map((operation) => [operation, operationObject(operation, bodyRefs, answerRefs)] as const)),
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT from the configured issuer (Cognito by default); roles from `cognito:groups` or the configured claim.',
        },
      },
      responses: Object.fromEntries(
        (Object.entries(ERROR_RESPONSES) as [string, { name: string; description: string }][]).map(([status, { name, description }]) => [
          name,
          errorResponse(Number(status) as ErrorStatus, description),
        ]),
      ),
      schemas: mergeComponents(components('input', bodies), components('output', answers)),
    },
  };
}

/** One namespace for both directions: a name used both ways (the JSON-RPC message) must mean the same both ways. */
function mergeComponents(inputs: Record<string, Json>, outputs: Record<string, Json>): Record<string, Json> {
  for (const [id, schema] of Object.entries(outputs)) {
    if (id in inputs && JSON.stringify(inputs[id]) !== JSON.stringify(schema)) throw new Error(`OpenAPI component ${id} differs between request and response`);
  }
  return { ...inputs, ...outputs };
}

function pathsOf(operations: readonly (readonly [OperationSpec, Json])[]): Json {
  const paths: Record<string, Json> = {};
  for (const [operation, object] of operations) paths[operation.path] = { ...paths[operation.path], [operation.method]: object };
  return paths;
}

let built: Json | undefined;

/** The document, built once per process on first use. */
export function openApiDocument(): Json {
  built ??= buildOpenApiDocument();
  return built;
}
