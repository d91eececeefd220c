import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { API_ROUTES, MCP_ROUTES } from '../../../lib/constructs/api';
import { wholeCatalog } from '../../../lambdas/shared/catalog/registry';
import { OPENAPI_ROUTES } from '../../../lambdas/shared/http/openapi';
import { OPENAPI_FILE, renderOpenApi } from '../../../scripts/openapi';
import { OpenApiSchemas, type Json } from '../../support/openapi';

/**
 * docs/openapi.json (what `GET /openapi.json` serves): a valid OpenAPI 3.1 document by a real
 * validator, every route of API.md in it, every schema a valid JSON Schema 2020-12, and the
 * request bodies the catalog's actions take. test/integration/http/openapi.test.ts checks that
 * the local stack's real answers conform to it.
 */

const run = promisify(execFile);
const VALIDATE_API = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');

/**
 * The routes API.md names (its `### METHOD /path` headings, "MCP" and "Operations"), copied here
 * because API.md lives outside the repository; local-only `/local/*` routes do not exist in AWS.
 */
const API_MD_ROUTES = [
  'POST /v1/requests',
  'GET /v1/requests',
  'GET /v1/requests/{requestId}',
  'GET /v1/requests/{requestId}/audit',
  'GET /v1/tasks',
  'GET /v1/tasks/{taskId}',
  'POST /v1/tasks/{taskId}/decision',
  'POST /mcp',
  'GET /.well-known/oauth-protected-resource',
  'GET /health',
  'GET /openapi.json',
];

const PUBLIC_ROUTES = ['GET /health', 'GET /openapi.json', 'GET /.well-known/oauth-protected-resource'];

const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json;
const schemas = new OpenApiSchemas(document);
type Operation = { security?: unknown[]; responses: Record<string, Json>; requestBody?: Json };
const operation = (key: string): Operation => {
  const [method, route] = key.split(' ');
  return (document.paths as Record<string, Record<string, Operation>>)[route][method.toLowerCase()];
};
const component = (name: string) => (document.components as { schemas: Record<string, Json> }).schemas[name];
const pascal = (snake: string) => snake.replace(/(^|_)([a-z0-9])/g, (_m, _s: string, letter: string) => letter.toUpperCase());

async function validateApi(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [VALIDATE_API, file]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, output: failed.stdout };
  }
}

it('is what `npm run openapi` generates from the schemas (run it and commit the file when this fails)', () => {
  expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
});

describe('a valid OpenAPI 3.1 document', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'warden-openapi-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('by @seriousme/openapi-schema-validator', async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const result = await validateApi(OPENAPI_FILE);
    expect(result).toEqual({ code: 0, output: expect.stringMatching(/"valid": true/) });
  }, 30_000);

  it('which refuses the document with a response undescribed or a dangling $ref', async () => {
    const undescribed = structuredClone(document) as { paths: Record<string, Record<string, Operation>> };
    delete undescribed.paths['/health'].get.responses['200'].description;
    const dangling = structuredClone(document) as { paths: Record<string, Record<string, Operation>> };
    dangling.paths['/v1/tasks'].get.responses['200'] = { description: 'x', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nowhere' } } } };
    for (const [name, broken] of [['undescribed', undescribed], ['dangling', dangling]] as const) {
      const file = path.join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(broken));
      const result = await validateApi(file);
      expect([name, result.code, result.output]).toEqual([name, 1, expect.stringMatching(/"valid": false/)]);
    }
  }, 30_000);

  it('whose every schema is a strict JSON Schema 2020-12 with its refs resolved', () => {
    for (const name of Object.keys((document.components as { schemas: Json }).schemas)) {
      expect(() => schemas.at(`/components/schemas/${name}`)).not.toThrow();
    }
  });
});

describe('routes', () => {
  const documented = Object.entries(document.paths as Record<string, Json>).flatMap(([route, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${route}`));

  it('are exactly the routes the HTTP API serves in AWS, every route of API.md among them', () => {
    const served = [...API_ROUTES, ...MCP_ROUTES].map((route) => `${route.method} ${route.path}`);
    expect([...documented].sort()).toEqual([...served].sort());
    expect([...OPENAPI_ROUTES].sort()).toEqual([...served].sort());
    expect(documented).toEqual(expect.arrayContaining(API_MD_ROUTES));
  });

  it('need the bearer JWT, except /health, /openapi.json and the protected-resource metadata', () => {
    expect(document.security).toEqual([{ bearerAuth: [] }]);
    expect((document.components as { securitySchemes: Json }).securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const key of documented) {
      expect([key, operation(key).security]).toEqual([key, PUBLIC_ROUTES.includes(key) ? [] : undefined]);
    }
    for (const route of [...API_ROUTES, ...MCP_ROUTES]) {
      expect([route.path, operation(`${route.method} ${route.path}`).security]).toEqual([route.path, route.auth === 'none' ? [] : undefined]);
    }
  });

  it('answer every error as problem+json with the problem schema (but the MCP transport’s JSON-RPC errors); 401s name their WWW-Authenticate header', () => {
    const jsonRpcErrors = ['POST /mcp 400', 'POST /mcp 406', 'POST /mcp 415'];
    for (const key of documented) {
      const [method, route] = key.split(' ');
      for (const status of Object.keys(operation(key).responses).filter((s) => Number(s) >= 400)) {
        if (jsonRpcErrors.includes(`${key} ${status}`)) {
          expect(schemas.response(method, route, Number(status))).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/JsonRpcMessage' } } } });
          continue;
        }
        const response = schemas.response(method, route, Number(status)) as { content: Record<string, { schema: Json }>; headers?: Json };
        expect([key, status, response.content['application/problem+json']?.schema]).toEqual([key, status, { $ref: '#/components/schemas/Problem' }]);
        if (status === '401') expect(response.headers).toHaveProperty('WWW-Authenticate');
      }
      if (!PUBLIC_ROUTES.includes(key)) expect([key, operation(key).responses]).toEqual([key, expect.objectContaining({ '401': expect.anything() })]);
    }
  });

  it('the problem schema takes the errors of validation_failed and refuses a code that is not snake_case', () => {
    const problem = schemas.at('/components/schemas/Problem');
    const validationFailed = {
      type: 'https://warden.dev/problems/validation-failed',
      title: 'Bad Request',
      status: 400,
      detail: 'fields.amount: required',
      code: 'validation_failed',
      errors: [{ path: 'fields.amount', message: 'required', expected: 'number > 0' }],
    };
    expect(problem(validationFailed)).toBe(true);
    expect(problem({ ...validationFailed, code: 'Validation Failed' })).toBe(false);
    expect(problem({ ...validationFailed, errors: [{ path: 'fields.amount' }] })).toBe(false);
  });
});

describe('answers', () => {
  const view = {
    requestId: 'r_1',
    status: 'PENDING_APPROVAL',
    requestedBy: 'alice',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
    action: 'purchase_order',
    proposal: { action: 'purchase_order', fields: { vendor: 'Initech', amount: 7850, currency: 'USD', description: 'laptops' } },
    decision: { outcome: 'pending_approval', reasons: ['above_autonomous_limit'], policy: { id: 'purchase_order', version: '3' } },
    next: { state: 'waiting_for_approval', waitingFor: { approverRoles: ['procurement-manager'], tier: 'procurement-manager', deadline: '2026-01-08T00:00:00.000Z' }, retryable: false },
  };
  const answer = (body: unknown, status = 200) => ({ status, contentType: 'application/json', body });

  it('the request view takes a real view and refuses one without next or with an internal attribute', () => {
    expect(schemas.violations('GET', '/v1/requests/{requestId}', answer(view))).toEqual([]);
    const { next: _next, ...withoutNext } = view;
    expect(schemas.violations('GET', '/v1/requests/{requestId}', answer(withoutNext))).toEqual([expect.stringContaining('next')]);
    expect(schemas.violations('GET', '/v1/requests/{requestId}', answer({ ...view, requesterRoles: ['auditor'] }))).toEqual([expect.stringContaining('requesterRoles')]);
    expect(schemas.violations('GET', '/v1/requests', answer({ requests: [view] }))).toEqual([expect.stringContaining('proposal')]);
  });

  it('POST /mcp answers 401 with a challenge that names the protected-resource metadata', () => {
    const unauthorized = {
      status: 401,
      contentType: 'application/problem+json',
      body: { type: 'https://warden.dev/problems/unauthorized', title: 'Unauthorized', status: 401, detail: 'A bearer token is required.', code: 'unauthorized' },
    };
    const challenge = (value?: string) => new Headers(value ? { 'www-authenticate': value } : {});
    const metadata = 'Bearer resource_metadata="http://127.0.0.1:3000/.well-known/oauth-protected-resource"';
    expect(schemas.violations('POST', '/mcp', { ...unauthorized, headers: challenge(metadata) })).toEqual([]);
    expect(schemas.violations('POST', '/mcp', { ...unauthorized, headers: challenge('Bearer') })).toEqual([expect.stringMatching(/^header WWW-Authenticate: .*pattern/)]);
    expect(schemas.violations('POST', '/mcp', { ...unauthorized, headers: challenge() })).toEqual(['header WWW-Authenticate is missing']);
    // The JWT authorizer's routes may also get API Gateway's own body in AWS; MCP's function never sends it.
    expect(schemas.violations('GET', '/v1/tasks', { status: 401, contentType: 'application/json', body: { message: 'Unauthorized' } })).toEqual([]);
    expect(schemas.violations('POST', '/mcp', { status: 401, contentType: 'application/json', headers: challenge(metadata), body: { message: 'Unauthorized' } })).toEqual([
      'application/json is not documented for 401 (documented: application/problem+json)',
    ]);
  });

  it('an undocumented status or media type is a violation', () => {
    expect(schemas.violations('GET', '/v1/requests/{requestId}', answer(view, 418))).toEqual(['418 is not documented for GET /v1/requests/{requestId}']);
    expect(schemas.violations('GET', '/v1/requests/{requestId}', { status: 404, contentType: 'text/html', body: {} })).toEqual([
      'text/html is not documented for 404 (documented: application/problem+json)',
    ]);
  });
});

describe('POST /v1/requests bodies', () => {
  const submit = schemas.at('/components/schemas/SubmitRequest');

  it('one variant per catalog action, with exactly that action’s fields', () => {
    const variants = (component('SubmitRequest').anyOf as Json[]).map((v) => v.$ref);
    expect(operation('POST /v1/requests').requestBody).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/SubmitRequest' } } } });
    expect(variants).toEqual(['#/components/schemas/FreeTextRequest', ...wholeCatalog().map((action) => `#/components/schemas/${pascal(action.name)}Request`)]);
    for (const action of wholeCatalog()) {
      const variant = component(`${pascal(action.name)}Request`) as { properties: Record<string, Json>; required: string[] };
      expect(variant.properties.action).toMatchObject({ const: action.name });
      expect(variant.properties.fields).toEqual({ $ref: `#/components/schemas/${pascal(action.name)}Fields` });
      expect(Object.keys(component(`${pascal(action.name)}Fields`).properties as Json)).toEqual(Object.keys(action.fields.shape));
    }
  });

  it('agree with the handler’s zod schemas on every catalog example, whole and with a field broken or missing', () => {
    let checked = 0;
    for (const action of wholeCatalog()) {
      for (const example of action.examples) {
        const [first] = Object.keys(example.fields);
        const bodies = [
          { text: example.text, action: action.name, fields: example.fields },
          { text: example.text, action: action.name, fields: { ...example.fields, [first]: { nested: true } } },
          { text: example.text, action: action.name, fields: Object.fromEntries(Object.entries(example.fields).filter(([key]) => key !== first)) },
          { text: example.text, action: action.name, fields: { ...example.fields, unknownField: 1 } },
        ];
        for (const body of bodies) {
          const zodSays = action.fields.safeParse(body.fields).success;
          expect([action.name, body.fields, submit(body)]).toEqual([action.name, body.fields, zodSays]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(40);
    expect(submit({ text: 'Create a PO for Initech for $40 of pens' })).toBe(true);
    expect(submit({ text: 'x', action: 'purchase_order' })).toBe(true);
    expect(submit({ text: 'x', action: 'launch_rockets', fields: {} })).toBe(false);
    expect(submit({ text: '' })).toBe(false);
  });
});
