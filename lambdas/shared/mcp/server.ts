import * as z from '../schemas/zod';
import { publicErrorOf } from '../http/problem';
import { describeError, logger } from '../observability';
import { parseArguments, ToolError, toolNamed, tools, type ToolSession, type WardenTool } from './tools';
import type { ProtectedResourceMetadata } from '../schemas/api';

/**
 * The Model Context Protocol over Streamable HTTP, stateless, with JSON responses (API.md "MCP"):
 * Warden's own JSON-RPC handling of the four methods a tools-only server answers (`initialize`,
 * `ping`, `tools/list`, `tools/call`), without the official TypeScript SDK's protocol schemas and
 * JSON Schema validator at each cold start; the SDK's client is what the tests talk to it with.
 * It answers as the SDK's server and transport (1.32) did: the same refusals, codes and messages
 * (a probe of 63 messages compared), except where the SDK was wrong or unhelpful:
 * - bad params are -32602 naming the first one, not -32603 with a zod dump, and an unknown tool's
 *   message no longer starts `MCP error -32602: `;
 * - every request of a batch is answered, two with the same id included (the SDK answered one);
 * - a request is answered even when the batch that carries it also cancels it (the SDK never did),
 *   and `tools/call` runs whatever task parameters it carries, as a server that declares no task
 *   support must.
 */

/** The path of the MCP endpoint and of its RFC 9728 metadata, as API.md names them. */
export const MCP_PATH = '/mcp';
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

/** The protocol revisions this server speaks, newest first: a client asking for another is offered the newest. */
export const PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07'] as const;

/** The most messages one POST may carry as a JSON-RPC batch. */
export const MAX_BATCH = 100;

const SERVER_INFO = { name: 'warden', title: 'Warden governed actions', version: '1.0.0' };

const INSTRUCTIONS =
  'Warden turns requests for business actions into governed ones: policy validates each, a human approves where policy says so, ' +
  'and every step is audited. Use request_<action> when you know the fields, submit_request for plain words, then get_request ' +
  'to follow a request to COMPLETED, REJECTED, FAILED or EXPIRED. No tool approves: agents request, humans approve.';

/** JSON-RPC 2.0's error codes, and the one the MCP transport uses for its own refusals. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  Transport: -32000,
} as const;

/** A tool as tools/list shows it (MCP `Tool`). */
export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown>;
  annotations: { title: string; readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
}

/** What tools/call answers (MCP `CallToolResult`): the structured content and one text block saying it. */
export interface CallToolResult {
  structuredContent: Record<string, unknown>;
  content: { type: 'text'; text: string }[];
  isError?: true;
}

/** JSON Schema as the MCP SDK writes it for zod (draft-7), without the `$schema` key. */
function jsonSchemaOf(schema: z.core.$ZodType): Record<string, unknown> {
  // `input`: an object the schema strips extra keys from does not forbid them, so a view that
  // gains a key still validates; strict objects stay closed.
  const { $schema: _omit, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** The tool as tools/list shows it; the output is the success shape or, with isError, `{code, detail}`. */
function describeTool(tool: WardenTool): McpTool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchemaOf(tool.input),
    outputSchema: { type: 'object', anyOf: [jsonSchemaOf(tool.output), jsonSchemaOf(ToolError)] },
    annotations: { title: tool.title, readOnlyHint: tool.readOnly, destructiveHint: false, idempotentHint: tool.readOnly, openWorldHint: false },
  };
}

/** Built once per process: the catalog does not change while it runs. */
let described: McpTool[] | undefined;

function toolError(error: ToolError): CallToolResult {
  return { isError: true, structuredContent: error, content: [{ type: 'text', text: `${error.code}: ${error.detail}` }] };
}

/** A JSON-RPC error answered to one request. */
class RpcError extends Error {
  override readonly name = 'RpcError';

  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

async function callTool(name: string, args: Record<string, unknown> | undefined, session: ToolSession): Promise<CallToolResult> {
  const tool = toolNamed(name);
  if (!tool) throw new RpcError(RpcErrorCode.InvalidParams, `No tool named ${JSON.stringify(name.slice(0, 64))}.`);
  try {
    const output = await tool.run(parseArguments(tool, args), session);
    logger.info('mcp tool answered', { tool: name });
    return { structuredContent: output.structured, content: [{ type: 'text', text: output.summary }] };
  } catch (error) {
    const { code, detail } = publicErrorOf(error, (e) => logger.error('mcp tool failed unexpectedly', { tool: name, error: describeError(e) }));
    logger.info('mcp tool refused', { tool: name, code });
    return toolError({ code, detail });
  }
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC messages

type RpcId = string | number;
type Params = Record<string, unknown>;

/** A message as the client sent it: a request (answered), or a notification or response (accepted, nothing to answer). */
type Message = { kind: 'request'; id: RpcId; method: string; params?: Params } | { kind: 'notification'; method: string } | { kind: 'response' };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** A string, or an integer JSON can carry exactly (a larger one would come back as another number). */
const isId = (value: unknown): value is RpcId => typeof value === 'string' || Number.isSafeInteger(value);
const onlyKeys = (value: Record<string, unknown>, allowed: readonly string[]) => Object.keys(value).every((key) => allowed.includes(key));

/** `_meta`, where params or a result may carry it: an object, whose progress token is a string or an integer. */
function metaIsValid(carrier: Record<string, unknown>): boolean {
  if (carrier._meta === undefined) return true;
  if (!isObject(carrier._meta)) return false;
  const token = carrier._meta.progressToken;
  return token === undefined || isId(token);
}

/** One JSON-RPC 2.0 message, or undefined when it is not one (an extra key included, as the SDK's strict schemas refused). */
function messageOf(value: unknown): Message | undefined {
  if (!isObject(value) || value.jsonrpc !== '2.0') return undefined;
  if ('method' in value) {
    if (typeof value.method !== 'string' || (value.params !== undefined && !(isObject(value.params) && metaIsValid(value.params)))) return undefined;
    const params = value.params as Params | undefined;
    if (!('id' in value)) return onlyKeys(value, ['jsonrpc', 'method', 'params']) ? { kind: 'notification', method: value.method } : undefined;
    if (!isId(value.id) || !onlyKeys(value, ['jsonrpc', 'id', 'method', 'params'])) return undefined;
    return { kind: 'request', id: value.id, method: value.method, ...(params ? { params } : {}) };
  }
  if ('result' in value) {
    return isId(value.id) && isObject(value.result) && metaIsValid(value.result) && onlyKeys(value, ['jsonrpc', 'id', 'result']) ? { kind: 'response' } : undefined;
  }
  if ('error' in value) {
    const { error } = value;
    const wellFormed = isObject(error) && Number.isSafeInteger(error.code) && typeof error.message === 'string';
    return wellFormed && (value.id === undefined || isId(value.id)) && onlyKeys(value, ['jsonrpc', 'id', 'error']) ? { kind: 'response' } : undefined;
  }
  return undefined;
}

/** Invalid params: the first thing wrong, by its path. */
function invalidParams(method: string, problem: string): RpcError {
  return new RpcError(RpcErrorCode.InvalidParams, `Invalid params for ${method}: ${problem}`);
}

/** What is wrong with initialize's params, or undefined when nothing is. */
function initializeProblem(params: Params | undefined): string | undefined {
  if (!params) return 'params: expected an object';
  if (typeof params.protocolVersion !== 'string') return 'params.protocolVersion: expected a string';
  if (!isObject(params.capabilities)) return 'params.capabilities: expected an object';
  const client = params.clientInfo;
  if (!isObject(client) || typeof client.name !== 'string' || typeof client.version !== 'string') {
    return 'params.clientInfo: expected an object with a name and a version';
  }
  return undefined;
}

/** An initialize request the transport treats as one: with valid params (what the SDK's transport checked). */
const isInitialization = (message: Message): boolean => message.kind === 'request' && message.method === 'initialize' && initializeProblem(message.params) === undefined;

function initialize(params: Params | undefined) {
  const problem = initializeProblem(params);
  if (problem !== undefined || !params) throw invalidParams('initialize', problem ?? 'params: expected an object');
  const requested = params.protocolVersion as string;
  return {
    protocolVersion: (PROTOCOL_VERSIONS as readonly string[]).includes(requested) ? requested : PROTOCOL_VERSIONS[0],
    capabilities: { tools: { listChanged: false } },
    serverInfo: SERVER_INFO,
    instructions: INSTRUCTIONS,
  };
}

/** The result of one request, or the RpcError to answer it with. */
async function resultOf(request: Extract<Message, { kind: 'request' }>, session: ToolSession): Promise<unknown> {
  const { method, params } = request;
  switch (method) {
    case 'initialize':
      return initialize(params);
    case 'ping':
      return {};
    case 'tools/list':
      // One page holds every tool: a cursor, which this server never hands out, changes nothing.
      if (params?.cursor !== undefined && typeof params.cursor !== 'string') throw invalidParams(method, 'params.cursor: expected a string');
      return { tools: (described ??= tools().map(describeTool)) };
    case 'tools/call': {
      if (!params || typeof params.name !== 'string') throw invalidParams(method, 'params.name: expected a string');
      if (params.arguments !== undefined && !isObject(params.arguments)) throw invalidParams(method, 'params.arguments: expected an object');
      return callTool(params.name, params.arguments, session);
    }
    default:
      throw new RpcError(RpcErrorCode.MethodNotFound, 'Method not found');
  }
}

async function answerOne(request: Extract<Message, { kind: 'request' }>, session: ToolSession): Promise<Record<string, unknown>> {
  try {
    return { jsonrpc: '2.0', id: request.id, result: await resultOf(request, session) };
  } catch (error) {
    if (error instanceof RpcError) return { jsonrpc: '2.0', id: request.id, error: { code: error.code, message: error.message } };
    logger.error('mcp request failed unexpectedly', { method: request.method, error: describeError(error) });
    return { jsonrpc: '2.0', id: request.id, error: { code: RpcErrorCode.InternalError, message: 'Internal error' } };
  }
}

// ---------------------------------------------------------------------------------------------
// Streamable HTTP, stateless, JSON responses

/** One POST to the MCP endpoint, once the caller is authenticated and the body's size checked. */
export interface McpPost {
  /** A request header by its lower-case name. */
  header(name: string): string | undefined;
  body: string;
}

export interface McpAnswer {
  status: number;
  headers: Record<string, string>;
  /** Absent for a 202. */
  body?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** A refusal of the whole POST, as the MCP transport words it: a JSON-RPC error with a null id. */
function refused(status: number, code: number, message: string): McpAnswer {
  logger.info('mcp message refused', { status, rpcCode: code });
  return { status, headers: JSON_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }) };
}

/** `application/json`, with or without parameters, as a parsed media type (never a substring; a list is not one type). */
function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType !== undefined && !contentType.includes(',') && contentType.split(';')[0].trim().toLowerCase() === 'application/json';
}

/**
 * One POST to the MCP endpoint: the checks of the Streamable HTTP transport (the `Accept` and
 * `Content-Type` headers, JSON, JSON-RPC, the protocol version header), then each request of the
 * message or batch answered in order. Notifications and responses alone are accepted with 202.
 */
export async function serveMcp(post: McpPost, session: ToolSession): Promise<McpAnswer> {
  // Accept is a list: a substring check is the transport's own rule.
  const accept = post.header('accept') ?? '';
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
    return refused(406, RpcErrorCode.Transport, 'Not Acceptable: Client must accept both application/json and text/event-stream');
  }
  if (!isJsonMediaType(post.header('content-type'))) {
    return refused(415, RpcErrorCode.Transport, 'Unsupported Media Type: Content-Type must be application/json');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(post.body);
  } catch {
    return refused(400, RpcErrorCode.ParseError, 'Parse error: Invalid JSON');
  }
  if (Array.isArray(raw) && raw.length > MAX_BATCH) {
    return refused(400, RpcErrorCode.InvalidRequest, `Invalid Request: Batch must not exceed ${MAX_BATCH} messages`);
  }
  const messages = (Array.isArray(raw) ? raw : [raw]).map(messageOf);
  if (messages.some((message) => message === undefined)) return refused(400, RpcErrorCode.ParseError, 'Parse error: Invalid JSON-RPC message');
  const valid = messages as Message[];
  const requests = valid.filter((message): message is Extract<Message, { kind: 'request' }> => message.kind === 'request');
  if (valid.some(isInitialization)) {
    if (valid.length > 1) return refused(400, RpcErrorCode.InvalidRequest, 'Invalid Request: Only one initialization request is allowed');
  } else {
    // After initialization every POST names the negotiated revision; one this server does not speak is refused.
    const version = post.header('mcp-protocol-version');
    if (version !== undefined && !(PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
      return refused(400, RpcErrorCode.Transport, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${PROTOCOL_VERSIONS.join(', ')})`);
    }
  }
  if (requests.length === 0) return { status: 202, headers: {} };
  const answers = await Promise.all(requests.map((request) => answerOne(request, session)));
  return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(answers.length === 1 ? answers[0] : answers) };
}

/** RFC 9728: what the MCP endpoint is and who issues its tokens. */
export function protectedResourceMetadata(baseUrl: string, issuer: string): ProtectedResourceMetadata {
  return {
    resource: `${baseUrl}${MCP_PATH}`,
    authorization_servers: [issuer],
    bearer_methods_supported: ['header'],
    resource_name: 'Warden MCP server',
  };
}

/** The challenge of a 401 from the MCP endpoint: where a client finds the metadata (MCP authorization, RFC 9728 §5.1). */
export function mcpChallenge(baseUrl: string, reason: 'missing' | 'expired' | 'invalid'): string {
  const metadata = `resource_metadata="${baseUrl}${PROTECTED_RESOURCE_METADATA_PATH}"`;
  return reason === 'missing' ? `Bearer ${metadata}` : `Bearer error="invalid_token", ${metadata}`;
}
