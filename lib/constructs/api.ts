import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ApiRoute {
  readonly method: HttpMethod;
  readonly path: string;
  readonly target: 'gateway' | 'approval' | 'mcp';
  /**
   * `none` only for the health check, the API description and the MCP metadata; `function` where
   * the function checks the token itself (MCP must answer 401 with its own header); everything
   * else the JWT authorizer.
   */
  readonly auth: 'jwt' | 'none' | 'function';
}

/** The routes of API.md, exactly; anything else is API Gateway's 404. */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: HttpMethod.POST, path: '/v1/requests', target: 'gateway', auth: 'jwt' },
  { method: HttpMethod.GET, path: '/v1/requests', target: 'gateway', auth: 'jwt' },
  { method: HttpMethod.GET, path: '/v1/requests/{requestId}', target: 'gateway', auth: 'jwt' },
  { method: HttpMethod.GET, path: '/v1/requests/{requestId}/audit', target: 'gateway', auth: 'jwt' },
  { method: HttpMethod.GET, path: '/v1/tasks', target: 'approval', auth: 'jwt' },
  { method: HttpMethod.GET, path: '/v1/tasks/{taskId}', target: 'approval', auth: 'jwt' },
  { method: HttpMethod.POST, path: '/v1/tasks/{taskId}/decision', target: 'approval', auth: 'jwt' },
  { method: HttpMethod.GET, path: '/health', target: 'gateway', auth: 'none' },
  { method: HttpMethod.GET, path: '/openapi.json', target: 'gateway', auth: 'none' },
];

/**
 * MCP for agents (API.md "MCP"). No authorizer on `/mcp`: the MCP specification wants a 401 with
 * `WWW-Authenticate: Bearer resource_metadata=…`, which the JWT authorizer cannot send, so the
 * function verifies the token with the authorizer's issuer, audience and keys.
 */
export const MCP_ROUTES: readonly ApiRoute[] = [
  { method: HttpMethod.POST, path: '/mcp', target: 'mcp', auth: 'function' },
  { method: HttpMethod.GET, path: '/mcp', target: 'mcp', auth: 'function' },
  { method: HttpMethod.GET, path: '/.well-known/oauth-protected-resource', target: 'mcp', auth: 'none' },
];

/** Why a route has no API Gateway authorizer (the AwsSolutions-APIG4 acknowledgement). */
function unauthorizedReason(route: ApiRoute): string {
  if (route.auth === 'function') {
    return `${route.method} ${route.path}: the mcp function verifies the bearer token itself (issuer, audience, JWKS of the JWT authorizer), because MCP requires a 401 naming the resource metadata.`;
  }
  if (route.target === 'mcp') return `${route.method} ${route.path} is the public RFC 9728 metadata: the resource URL and the issuer, nothing secret.`;
  if (route.path === '/openapi.json') {
    return `${route.method} ${route.path} is the API description (API.md "Operations"), the same for every caller and generated from the schemas; nothing secret.`;
  }
  return `${route.method} ${route.path} is the unauthenticated health check; it returns a constant.`;
}

/**
 * One access-log line per request. Deliberately no headers: the Authorization header carries
 * the bearer token, and the request body never appears in access logs.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
};

export interface WardenApiProps {
  readonly gateway: IFunction;
  readonly approval: IFunction;
  readonly mcp: IFunction;
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The HTTP API: a JWT authorizer on every route but /health, /openapi.json and MCP's, throttling and access logs. */
export class WardenApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: WardenApiProps) {
    super(scope, id);

    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', props.issuer, {
      jwtAudience: [...props.audience],
    });
    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Warden governed AI actions',
      defaultAuthorizer: authorizer,
      // The default stage is created below, where throttling and access logs can be set.
      createDefaultStage: false,
    });

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttling.rateLimit, burstLimit: props.throttling.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const integrations = {
      gateway: new HttpLambdaIntegration('Gateway', props.gateway),
      approval: new HttpLambdaIntegration('Approval', props.approval),
      mcp: new HttpLambdaIntegration('Mcp', props.mcp),
    };
    const none = new HttpNoneAuthorizer();
    for (const route of [...API_ROUTES, ...MCP_ROUTES]) {
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: integrations[route.target],
        ...(route.auth === 'jwt' ? {} : { authorizer: none }),
      });
      if (route.auth !== 'jwt') Validations.of(created).acknowledge({ id: 'AwsSolutions-APIG4', reason: unauthorizedReason(route) });
    }
  }

  /** The base URL clients call (the `$default` stage). */
  get url(): string {
    return this.stage.url;
  }
}
