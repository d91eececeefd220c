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
  readonly target: 'gateway' | 'approval';
  /** `none` only for the health check and the API description: everything else needs a verified JWT. */
  readonly auth: 'jwt' | 'none';
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

/** Why a route may be called without a token (its AwsSolutions-APIG4 acknowledgement). */
const PUBLIC_ROUTE_REASONS: Readonly<Record<string, string>> = {
  '/health': 'is the unauthenticated health check; it returns a constant.',
  '/openapi.json': 'is the API description (API.md "Operations"), the same for every caller and generated from the schemas; it holds nothing secret.',
};

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
  readonly issuer: string;
  readonly audience: readonly string[];
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The HTTP API: a JWT authorizer on every route but /health and /openapi.json, throttling and access logs. */
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
    };
    const none = new HttpNoneAuthorizer();
    for (const route of API_ROUTES) {
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method],
        integration: integrations[route.target],
        ...(route.auth === 'none' ? { authorizer: none } : {}),
      });
      if (route.auth === 'none') {
        Validations.of(created).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} ${PUBLIC_ROUTE_REASONS[route.path]}`,
        });
      }
    }
  }

  /** The base URL clients call (the `$default` stage). */
  get url(): string {
    return this.stage.url;
  }
}
