import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';

/** API Gateway payload-2.0 events as the HTTP API with a JWT authorizer hands them to a Lambda. */
export function httpEvent(args: {
  routeKey: string;
  path: string;
  caller?: { sub: string; roles: string[] };
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
}): APIGatewayProxyEventV2WithJWTAuthorizer {
  const [method] = args.routeKey.split(' ');
  const body = args.rawBody ?? (args.body === undefined ? undefined : JSON.stringify(args.body));
  return {
    version: '2.0',
    routeKey: args.routeKey,
    rawPath: args.path,
    rawQueryString: new URLSearchParams(args.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...(args.headers ?? {}) },
    ...(args.query ? { queryStringParameters: args.query } : {}),
    ...(args.pathParameters ? { pathParameters: args.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: args.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: args.routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: {
        principalId: args.caller?.sub ?? '',
        integrationLatency: 0,
        jwt: {
          // An array claim arrives flattened to `[a b]`, as the JWT authorizer hands it over.
          claims: args.caller ? { sub: args.caller.sub, roles: `[${args.caller.roles.join(' ')}]` } : {},
          scopes: [],
        },
      },
    },
    body,
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2WithJWTAuthorizer;
}
