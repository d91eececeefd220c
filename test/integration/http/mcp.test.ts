import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { wholeCatalog } from '../../../lambdas/shared/catalog/registry';
import { poll, useTestServer, type Caller, type Json } from '../../support/http-client';

/**
 * MCP for agents (API.md "MCP") with the SDK's own client over Streamable HTTP, against the
 * local stack. Cumulative limits count per vendor: each purchase order here has a vendor and
 * amount no other test in this file uses.
 */

const { client: http, server } = useTestServer();

const agent: Caller = { sub: 'agent-7', roles: ['support-agent'] };
const accountManager: Caller = { sub: 'agent-am', roles: ['account-manager'] };
const approver: Caller = { sub: 'pm-1', roles: ['procurement-manager'] };

const clients: Client[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
});

async function connect(caller: Caller): Promise<Client> {
  const token = await http.tokenFor(caller);
  const mcp = new Client({ name: 'warden-test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${server().server.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await mcp.connect(transport);
  // Listed first, so the client checks every structuredContent against the tool's outputSchema.
  await mcp.listTools();
  clients.push(mcp);
  return mcp;
}

async function call(mcp: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult & { structuredContent: Json; text: string }> {
  const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  return { ...result, structuredContent: (result.structuredContent ?? {}) as Json, text };
}

/** get_request until the status is one of `wanted` (or it ends); the last answer either way. */
function followUntil(mcp: Client, requestId: string, ...wanted: string[]) {
  const ended = ['COMPLETED', 'REJECTED', 'FAILED', 'EXPIRED'];
  return poll(
    () => call(mcp, 'get_request', { requestId }),
    (r) => r.isError === true || wanted.includes(String(r.structuredContent.status)) || ended.includes(String(r.structuredContent.status)),
  );
}

describe('tools', () => {
  it('lists one request_<action> per catalog action, submit_request, get_request and list_my_requests, each with schemas', async () => {
    const mcp = await connect(agent);
    const { tools } = await mcp.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [...wholeCatalog().map((a) => `request_${a.name}`), 'submit_request', 'get_request', 'list_my_requests'].sort(),
    );
    for (const tool of tools) {
      expect([tool.name, tool.outputSchema?.type, typeof tool.description]).toEqual([tool.name, 'object', 'string']);
    }
    const po = tools.find((t) => t.name === 'request_purchase_order')!;
    expect(Object.keys(po.inputSchema.properties ?? {}).sort()).toEqual(['amount', 'currency', 'description', 'idempotencyKey', 'text', 'vendor']);
    expect([...(po.inputSchema.required ?? [])].sort()).toEqual(['amount', 'description', 'vendor']);
    expect(po.inputSchema.additionalProperties).toBe(false);
    expect(po.description).toMatch(/no tool can approve/);
    // Nothing that decides: every tool requests or reads.
    expect(tools.filter((t) => /approve|decide|decision/.test(t.name))).toEqual([]);
  });
});

describe('an agent requests, a human approves', () => {
  it('a purchase order under the autonomous limit runs to COMPLETED', async () => {
    const mcp = await connect(agent);
    const submitted = await call(mcp, 'request_purchase_order', { vendor: 'Alpha Tech Systems', amount: 1250, description: 'USB docks' });
    expect(submitted.isError).toBeFalsy();
    const requestId = String(submitted.structuredContent.requestId);
    expect(requestId).toMatch(/^r_/);
    expect(submitted.structuredContent).toMatchObject({ requestedBy: agent.sub, action: 'purchase_order' });
    expect(submitted.text).toMatch(new RegExp(`^${requestId} is (QUEUED|RUNNING|COMPLETED): `));

    const done = await followUntil(mcp, requestId, 'COMPLETED');
    expect(done.structuredContent).toMatchObject({
      requestId,
      status: 'COMPLETED',
      route: 'deterministic',
      decision: { outcome: 'approved' },
      proposal: { action: 'purchase_order', fields: { vendor: 'Alpha Tech Systems', amount: 1250, currency: 'USD' } },
      result: { purchaseOrderNumber: expect.any(String) },
    });
    expect(done.text).toBe(`${requestId} is COMPLETED: done, the effect was executed`);
  });

  it('one over the limit waits for a procurement-manager; approved over HTTP, the agent reads COMPLETED', async () => {
    const mcp = await connect(agent);
    const submitted = await call(mcp, 'request_purchase_order', {
      vendor: 'Globex Corporation',
      amount: 7500,
      description: 'conference room displays',
      text: 'Buy conference room displays from Globex for $7,500',
    });
    const requestId = String(submitted.structuredContent.requestId);

    const waiting = await followUntil(mcp, requestId, 'PENDING_APPROVAL');
    expect(waiting.structuredContent).toMatchObject({
      status: 'PENDING_APPROVAL',
      decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'] },
      approval: { taskId: expect.any(String), status: 'PENDING' },
    });
    const taskId = (waiting.structuredContent.approval as { taskId: string }).taskId;
    // The agent is told who decides and until when (`next`), and why, in the policy's own words.
    const task = await http.waitForTask(approver, requestId);
    expect(waiting.structuredContent.next).toMatchObject({
      state: 'waiting_for_approval',
      waitingFor: { approverRoles: ['procurement-manager'], tier: 'procurement-manager', deadline: task.expiresAt },
      retryable: false,
      explanations: { above_autonomous_limit: expect.stringMatching(/vendor/) },
    });
    expect(Date.parse(String(task.expiresAt))).toBeGreaterThan(Date.now());
    expect(waiting.text).toBe(
      `${requestId} is PENDING_APPROVAL: waiting for a procurement-manager (tier procurement-manager) until ${String(task.expiresAt)}, task ${taskId}, because above_autonomous_limit`,
    );

    const decided = await http.decide(approver, taskId, { decision: 'approve', approvalToken: task.approvalToken });
    expect(decided.status).toBe(200);

    const done = await followUntil(mcp, requestId, 'COMPLETED');
    expect(done.structuredContent).toMatchObject({ status: 'COMPLETED', approval: { taskId, status: 'APPROVED', decidedBy: approver.sub } });
  });

  it('the same idempotencyKey with the same arguments returns the same request; with others, idempotency_key_reused', async () => {
    const mcp = await connect(agent);
    const args = { vendor: 'Initech', amount: 640, description: 'cable trays', idempotencyKey: 'mcp-retry-1' };
    const first = await call(mcp, 'request_purchase_order', args);
    const again = await call(mcp, 'request_purchase_order', args);
    expect(again.structuredContent.requestId).toBe(first.structuredContent.requestId);
    const changed = await call(mcp, 'request_purchase_order', { ...args, amount: 641 });
    expect([changed.isError, changed.structuredContent]).toEqual([true, { code: 'idempotency_key_reused', detail: expect.any(String) }]);
    await followUntil(mcp, String(first.structuredContent.requestId), 'COMPLETED');
  });
});

describe('errors are tool results with the codes of problem+json', () => {
  it('a bad argument names the field', async () => {
    const mcp = await connect(agent);
    const negative = await call(mcp, 'request_purchase_order', { vendor: 'Initech', amount: -5, description: 'pens' });
    expect(negative.isError).toBe(true);
    expect(negative.structuredContent).toEqual({ code: 'validation_failed', detail: expect.stringMatching(/^amount: /) });
    expect(negative.text).toMatch(/^validation_failed: amount: /);

    const missing = await call(mcp, 'request_tier_upgrade', { customerId: 'C-1001', currentTier: 'basic', targetTier: 'gold', justification: 'growing team of twelve' });
    expect(missing.structuredContent.code).toBe('validation_failed');
    expect(missing.structuredContent.detail).toMatch(/targetTier: /);
    expect(missing.structuredContent.detail).toMatch(/effectiveDate: /);

    const unknown = await call(mcp, 'get_request', { requestId: 'r_x', extra: 1 });
    expect(unknown.structuredContent).toEqual({ code: 'validation_failed', detail: expect.stringMatching(/unrecognized key\(s\): extra/) });
  });

  it('a token without support-agent cannot request a refund: action_not_permitted', async () => {
    const refund = { customerId: 'C-1002', orderId: 'O-5001', amount: 20, reason: 'item arrived damaged' };
    const refused = await call(await connect(accountManager), 'request_refund', refund);
    expect([refused.isError, refused.structuredContent]).toEqual([true, { code: 'action_not_permitted', detail: expect.any(String) }]);

    // The same arguments from a support agent are accepted (and wait for a support lead: refunds always do).
    const mcp = await connect(agent);
    const accepted = await call(mcp, 'request_refund', refund);
    expect(accepted.isError).toBeFalsy();
    const pending = await followUntil(mcp, String(accepted.structuredContent.requestId), 'PENDING_APPROVAL');
    expect(pending.structuredContent.status).toBe('PENDING_APPROVAL');
  });

  it("another principal's request is not_found, as over HTTP", async () => {
    const owner = await connect(agent);
    const submitted = await call(owner, 'submit_request', { text: 'Create a PO for Initech for $310 of desk lamps' });
    const requestId = String(submitted.structuredContent.requestId);
    const other = await call(await connect({ sub: 'someone-else', roles: ['support-agent'] }), 'get_request', { requestId });
    expect([other.isError, other.structuredContent]).toEqual([true, { code: 'not_found', detail: expect.any(String) }]);
    const http404 = await http.getRequest({ sub: 'someone-else', roles: ['support-agent'] }, requestId);
    expect(http404.status).toBe(404);
    await followUntil(owner, requestId, 'COMPLETED');
  });

  it('list_my_requests lists the caller\'s own requests, newest first, as GET /v1/requests does; a bad argument names it', async () => {
    const lister: Caller = { sub: 'agent-lister', roles: ['support-agent'] };
    const mcp = await connect(lister);
    const ids: string[] = [];
    for (const amount of [211, 212, 213]) {
      const submitted = await call(mcp, 'request_purchase_order', { vendor: 'Initech', amount, description: `index cards ${amount}` });
      ids.push(String(submitted.structuredContent.requestId));
    }
    for (const id of ids) await followUntil(mcp, id, 'COMPLETED');
    const first = await call(mcp, 'list_my_requests', { limit: 2 });
    expect(first.isError).toBeFalsy();
    const page1 = first.structuredContent.requests as Json[];
    expect(page1.map((r) => r.requestId)).toEqual([ids[2], ids[1]]);
    expect(page1[0]).not.toHaveProperty('proposal');
    expect(page1[0]).toMatchObject({ status: 'COMPLETED', next: { state: 'done' } });
    const second = await call(mcp, 'list_my_requests', { limit: 2, nextToken: first.structuredContent.nextToken });
    expect((second.structuredContent.requests as Json[]).map((r) => r.requestId)).toEqual([ids[0]]);
    expect(second.text).toBe('1 request(s)');
    const overHttp = await http.as(lister, '/v1/requests?limit=5');
    expect((overHttp.body.requests as Json[]).map((r) => r.requestId)).toEqual([ids[2], ids[1], ids[0]]);

    const bad = await call(mcp, 'list_my_requests', { status: 'DONE' });
    expect(bad.isError).toBe(true);
    expect(bad.structuredContent).toMatchObject({ code: 'validation_failed', detail: expect.stringMatching(/^status/) });
  });
});

describe('the Streamable HTTP transport (JSON-RPC over POST, stateless, JSON responses)', () => {
  const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const postRaw = async (body: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server().server.url}/mcp`, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${await http.tokenFor(agent)}`, ...headers },
      body,
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), text, json: (text ? JSON.parse(text) : undefined) as Json | Json[] | undefined };
  };
  const post = (message: unknown, headers: Record<string, string> = {}) => postRaw(JSON.stringify(message), headers);
  const refusal = (code: number, message: string | RegExp) => ({ jsonrpc: '2.0', id: null, error: { code, message } });
  const ping = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'ping' });

  it('initialize offers the revision the client asked for when it speaks it, else the newest', async () => {
    const init = (protocolVersion: string) => ({ jsonrpc: '2.0', id: 'i-1', method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '1' } } });
    const asked = await post(init('2024-11-05'));
    expect(asked.json).toMatchObject({ jsonrpc: '2.0', id: 'i-1', result: { protocolVersion: '2024-11-05', capabilities: { tools: { listChanged: false } } } });
    expect(((await post(init('1999-01-01'))).json as Json).result).toMatchObject({ protocolVersion: '2025-11-25' });
    const bad = await post({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: 5 } });
    expect(bad.json).toEqual({ jsonrpc: '2.0', id: 2, error: { code: -32602, message: expect.stringMatching(/protocolVersion/) } });
  });

  it('answers ping, refuses an unknown method with -32601 and bad params with -32602 naming them', async () => {
    expect((await post(ping(7))).json).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    expect((await post({ jsonrpc: '2.0', id: 8, method: 'resources/list' })).json).toEqual({ jsonrpc: '2.0', id: 8, error: { code: -32601, message: 'Method not found' } });
    const noName = await post({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { arguments: {} } });
    expect(noName.json).toEqual({ jsonrpc: '2.0', id: 9, error: { code: -32602, message: expect.stringMatching(/params\.name/) } });
    const listArgs = await post({ jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 'get_request', arguments: [1] } });
    expect(listArgs.json).toMatchObject({ error: { code: -32602, message: expect.stringMatching(/params\.arguments/) } });
    const unknown = await post({ jsonrpc: '2.0', id: 11, method: 'tools/call', params: { name: 'approve_request', arguments: {} } });
    expect(unknown.json).toEqual({ jsonrpc: '2.0', id: 11, error: { code: -32602, message: 'No tool named "approve_request".' } });
  });

  it('accepts notifications and responses with 202 and no body', async () => {
    for (const message of [
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 3, result: {} },
      [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } }],
    ]) {
      const answer = await post(message);
      expect([answer.status, answer.text]).toEqual([202, '']);
    }
  });

  it('answers a batch in order, every request, notifications left out; more than 100 messages is 400', async () => {
    const batch = await post([ping('a'), { jsonrpc: '2.0', method: 'notifications/initialized' }, ping('a'), { jsonrpc: '2.0', id: 'b', method: 'nope' }]);
    expect(batch.status).toBe(200);
    expect(batch.json).toEqual([
      { jsonrpc: '2.0', id: 'a', result: {} },
      { jsonrpc: '2.0', id: 'a', result: {} },
      { jsonrpc: '2.0', id: 'b', error: { code: -32601, message: 'Method not found' } },
    ]);
    const big = await post(Array.from({ length: 101 }, (_, i) => ping(i)));
    expect([big.status, big.json]).toEqual([400, refusal(-32600, 'Invalid Request: Batch must not exceed 100 messages')]);
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
    const twoWithInit = await post([init, ping(2)]);
    expect([twoWithInit.status, twoWithInit.json]).toEqual([400, refusal(-32600, 'Invalid Request: Only one initialization request is allowed')]);
    // An initialize whose params are not valid is not one: each request is answered, as the transport did.
    const badInit = await post([{ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }, ping(2)]);
    expect(badInit.json).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32602, message: expect.stringMatching(/protocolVersion/) } }, { jsonrpc: '2.0', id: 2, result: {} }]);
  });

  it('refuses what is not JSON-RPC 2.0 with 400 and a JSON-RPC error of null id', async () => {
    const notJson = await postRaw('{"jsonrpc":');
    expect([notJson.status, notJson.contentType, notJson.json]).toEqual([400, 'application/json', refusal(-32700, 'Parse error: Invalid JSON')]);
    for (const message of [{ foo: 1 }, { jsonrpc: '1.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: 1.5, method: 'ping' }, { jsonrpc: '2.0', id: 1, method: 'ping', extra: 1 },
      { jsonrpc: '2.0', id: 1, method: 'ping', params: [1] }, [ping(1), 'ping'], null,
      // An id JSON cannot carry exactly (it would come back as another number), and a bad _meta.
      { jsonrpc: '2.0', id: 2 ** 53 + 1, method: 'ping' }, { jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { progressToken: 1.5 } } },
      { jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: 5 } }]) {
      const answer = await post(message);
      expect([answer.status, answer.json]).toEqual([400, refusal(-32700, 'Parse error: Invalid JSON-RPC message')]);
    }
  });

  it('checks Accept, Content-Type and the protocol version header as the transport must', async () => {
    const jsonOnly = await post(ping(1), { accept: 'application/json' });
    expect([jsonOnly.status, jsonOnly.json]).toEqual([406, refusal(-32000, 'Not Acceptable: Client must accept both application/json and text/event-stream')]);
    const text = await post(ping(1), { 'content-type': 'text/plain' });
    expect([text.status, text.json]).toEqual([415, refusal(-32000, 'Unsupported Media Type: Content-Type must be application/json')]);
    expect((await post(ping(1), { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await post(ping(1), { 'content-type': 'application/json; charset=utf-8, text/html' })).status).toBe(415);
    const old = await post(ping(1), { 'mcp-protocol-version': '1999-01-01' });
    expect([old.status, old.json]).toEqual([400, refusal(-32000, expect.stringMatching(/^Bad Request: Unsupported protocol version: 1999-01-01 \(supported versions: 2025-11-25, /))]);
    expect((await post(ping(1), { 'mcp-protocol-version': '2025-06-18' })).json).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
  });
});

describe('authorization (MCP specification, RFC 9728)', () => {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '0' } },
  };
  const post = (headers: Record<string, string>) =>
    fetch(`${server().server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(initialize),
    });

  it('without a token: 401 with WWW-Authenticate naming the resource metadata', async () => {
    const response = await post({});
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${server().server.url}/.well-known/oauth-protected-resource"`);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('with a bad token: 401 invalid_token, the token never echoed', async () => {
    const token = await http.tokenFor(agent);
    const forged = `${token.slice(0, -4)}AAAA`;
    const response = await post({ authorization: `Bearer ${forged}` });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", resource_metadata="${server().server.url}/.well-known/oauth-protected-resource"`,
    );
    expect(await response.text()).not.toContain(forged.split('.')[2]);
  });

  it('with a token: the initialize answer is JSON and there is no session id (stateless)', async () => {
    const response = await post({ authorization: `Bearer ${await http.tokenFor(agent)}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('mcp-session-id')).toBeNull();
    expect(await response.json()).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'warden' }, capabilities: { tools: {} } } });
  });

  it('GET /mcp opens no stream: 405', async () => {
    const response = await fetch(`${server().server.url}/mcp`, { headers: { authorization: `Bearer ${await http.tokenFor(agent)}`, accept: 'text/event-stream' } });
    expect([response.status, response.headers.get('allow')]).toEqual([405, 'POST']);
  });

  it('serves the protected resource metadata without a token, naming the MCP URL and the issuer', async () => {
    const response = await fetch(`${server().server.url}/.well-known/oauth-protected-resource`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ resource: `${server().server.url}/mcp`, authorization_servers: [server().server.identity.issuer] });
  });
});
