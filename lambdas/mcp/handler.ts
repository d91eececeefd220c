import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { NotFound, Unauthenticated } from '../shared/errors';
import { bearerTokenOf, createTokenVerifier, jwtSettingsFromEnv, TokenRejected, type TokenVerifier } from '../shared/http/bearer';
import { principalFromClaims } from '../shared/http/identity';
import { json, problem, problemFromError } from '../shared/http/problem';
import { header, PayloadTooLarge, traceIdOf, type HttpEvent } from '../shared/http/request';
import { MCP_PATH, mcpChallenge, protectedResourceMetadata, serveMcp } from '../shared/mcp/server';
import { appendCorrelation, describeError, logger, withObservability } from '../shared/observability';
import { submitDeps } from '../shared/runtime';
import { MAX_BODY_BYTES } from '../shared/schemas/api';
import type { Principal } from '../shared/schemas/workflow';

let verifier: TokenVerifier | undefined;

/**
 * MCP for agents (API.md "MCP"): `POST /mcp` and the RFC 9728 metadata. The route has no API
 * Gateway authorizer because the MCP specification wants a 401 that names the metadata, which
 * the authorizer cannot send: this function checks the token as the authorizer would.
 */
export async function handler(event: HttpEvent, context?: Partial<Context>): Promise<APIGatewayProxyStructuredResultV2> {
  return withObservability({}, context, () => route(event));
}

async function route(event: HttpEvent): Promise<APIGatewayProxyStructuredResultV2> {
  const base = baseUrlOf(event);
  try {
    switch (event.routeKey) {
      case 'GET /.well-known/oauth-protected-resource':
        return json(200, protectedResourceMetadata(base, jwtSettingsFromEnv().issuer));
      case `POST ${MCP_PATH}`:
        return await answer(event, await authenticate(event));
      case `GET ${MCP_PATH}`: {
        await authenticate(event);
        // Stateless: there is no server-to-client stream to open (the MCP transport's answer is 405).
        const refused = problem(405, 'method_not_allowed', 'This MCP endpoint is stateless: POST each message.');
        return { ...refused, headers: { ...refused.headers, allow: 'POST' } };
      }
      default:
        throw new NotFound('No such route.');
    }
  } catch (error) {
    if (error instanceof Unauthenticated) {
      const result = problem(401, 'unauthorized', error.message);
      const reason = error instanceof TokenRejected ? error.reason : 'invalid';
      return { ...result, headers: { ...result.headers, 'www-authenticate': mcpChallenge(base, reason) } };
    }
    return problemFromError(error, (e) => logger.error('mcp request failed unexpectedly', { route: event.routeKey, error: describeError(e) }));
  }
}

async function authenticate(event: HttpEvent): Promise<Principal> {
  verifier ??= createTokenVerifier(jwtSettingsFromEnv());
  return principalFromClaims(await verifier(bearerTokenOf(header(event, 'authorization'))));
}

async function answer(event: HttpEvent, principal: Principal): Promise<APIGatewayProxyStructuredResultV2> {
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLarge();
  const traceId = traceIdOf(event);
  appendCorrelation({ traceId });
  const answered = await serveMcp({ header: (name) => header(event, name), body }, { principal, traceId, deps: submitDeps() });
  return { statusCode: answered.status, headers: { 'cache-control': 'no-store', ...answered.headers }, ...(answered.body !== undefined ? { body: answered.body } : {}) };
}

/** A host as DNS or an address writes it, with an optional port; anything else is not echoed into a header. */
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** The URL clients called: API Gateway sets Host and X-Forwarded-Proto (so does the local API). */
function baseUrlOf(event: HttpEvent): string {
  const host = header(event, 'host');
  const proto = header(event, 'x-forwarded-proto') === 'http' ? 'http' : 'https';
  return `${proto}://${host !== undefined && HOST.test(host) ? host : event.requestContext.domainName}`;
}
