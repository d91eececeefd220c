import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import * as z from '../schemas/zod';
import { publicErrorOf } from '../http/problem';
import { describeError, logger } from '../observability';
import { parseArguments, ToolError, toolNamed, tools, type ToolSession, type WardenTool } from './tools';
import type { ProtectedResourceMetadata } from '../schemas/api';

/** The path of the MCP endpoint and of its RFC 9728 metadata, as API.md names them. */
export const MCP_PATH = '/mcp';
export const PROTECTED_RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

const SERVER_INFO = { name: 'warden', title: 'Warden governed actions', version: '1.0.0' };

const INSTRUCTIONS =
  'Warden turns requests for business actions into governed ones: policy validates each, a human approves where policy says so, ' +
  'and every step is audited. Use request_<action> when you know the fields, submit_request for plain words, then get_request ' +
  'to follow a request to COMPLETED, REJECTED, FAILED or EXPIRED. No tool approves: agents request, humans approve.';

/** JSON Schema as the MCP SDK writes it for zod (draft-7), without the `$schema` key. */
function jsonSchemaOf(schema: z.core.$ZodType): Record<string, unknown> {
  // `input`: an object the schema strips extra keys from does not forbid them, so a view that
  // gains a key still validates; strict objects stay closed.
  const { $schema: _omit, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return rest;
}

/** The tool as tools/list shows it; the output is the success shape or, with isError, `{code, detail}`. */
function describeTool(tool: WardenTool): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: jsonSchemaOf(tool.input) as Tool['inputSchema'],
    outputSchema: { type: 'object', anyOf: [jsonSchemaOf(tool.output), jsonSchemaOf(ToolError)] },
    annotations: { title: tool.title, readOnlyHint: tool.readOnly, destructiveHint: false, idempotentHint: tool.readOnly, openWorldHint: false },
  };
}

/** Built once per process: the catalog does not change while it runs. */
let described: Tool[] | undefined;

function toolError(error: ToolError): CallToolResult {
  return { isError: true, structuredContent: error, content: [{ type: 'text', text: `${error.code}: ${error.detail}` }] };
}

async function callTool(name: string, args: unknown, session: ToolSession): Promise<CallToolResult> {
  const tool = toolNamed(name);
  if (!tool) throw new McpError(ErrorCode.InvalidParams, `No tool named ${JSON.stringify(name.slice(0, 64))}.`);
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

/**
 * The JSON Schema validator a server checks a client's elicitation answers with. Without one the
 * SDK builds an Ajv instance, with every format, for each server, and so for each request here;
 * Warden never elicits, so one is built on first use, once per process.
 */
let ajv: AjvJsonSchemaValidator | undefined;
const schemaValidator: jsonSchemaValidator = {
  getValidator: (schema) => (ajv ??= new AjvJsonSchemaValidator()).getValidator(schema),
};

/** A server for one caller; the stateless transport wants a fresh one per HTTP request. */
export function createWardenMcpServer(session: ToolSession): Server {
  const server = new Server(SERVER_INFO, { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS, jsonSchemaValidator: schemaValidator });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: (described ??= tools().map(describeTool)) }));
  server.setRequestHandler(CallToolRequestSchema, (request) => callTool(request.params.name, request.params.arguments, session));
  return server;
}

/**
 * One MCP message over Streamable HTTP, stateless (no session id) with JSON responses: the
 * transport checks the method, media types and protocol version and answers JSON-RPC.
 */
export async function serveMcp(request: Request, session: ToolSession): Promise<Response> {
  const server = createWardenMcpServer(session);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.connect(transport);
    return await transport.handleRequest(request);
  } finally {
    await server.close();
  }
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
