import { API_ROUTES, MCP_ROUTES } from '../../lib/constructs/api';
import { WARDEN_ROLES } from '../../lib/constructs/identity';
import { logicalIdOf, synthWarden, type Synthesized } from './synth';

let cognito: Synthesized;
let external: Synthesized;

beforeAll(() => {
  cognito = synthWarden();
  external = synthWarden({
    auth: { issuer: 'https://idp.example.com/realms/warden', audience: ['warden-api', 'warden-cli'], roleClaim: 'roles' },
    throttling: { rateLimit: 5, burstLimit: 10 },
  });
});

type Resource = { Type: string; Properties: Record<string, unknown> };

function resourcesOf(synth: Synthesized, type: string): Record<string, Resource> {
  return synth.template.findResources(type) as Record<string, Resource>;
}

/** Each route key with the logical id of the function behind it and its authorization. */
function routes(synth: Synthesized): Record<string, { target: string; authorizationType: string; authorizerId?: unknown }> {
  const integrations = resourcesOf(synth, 'AWS::ApiGatewayV2::Integration');
  const result: Record<string, { target: string; authorizationType: string; authorizerId?: unknown }> = {};
  for (const route of Object.values(resourcesOf(synth, 'AWS::ApiGatewayV2::Route'))) {
    const integrationId = ((route.Properties.Target as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1] as { Ref: string }).Ref;
    const uri = integrations[integrationId].Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] };
    result[route.Properties.RouteKey as string] = {
      target: uri['Fn::GetAtt'][0],
      authorizationType: route.Properties.AuthorizationType as string,
      authorizerId: route.Properties.AuthorizerId,
    };
  }
  return result;
}

describe('HTTP API routes', () => {
  it('serves exactly the routes of API.md', () => {
    expect(Object.keys(routes(cognito)).sort()).toEqual(
      [
        'GET /health',
        'GET /openapi.json',
        'GET /v1/requests',
        'GET /v1/requests/{requestId}',
        'GET /v1/requests/{requestId}/audit',
        'GET /v1/tasks',
        'GET /v1/tasks/{taskId}',
        'POST /v1/requests',
        'POST /v1/tasks/{taskId}/decision',
        'POST /mcp',
        'GET /mcp',
        'GET /.well-known/oauth-protected-resource',
      ].sort(),
    );
    expect(API_ROUTES).toHaveLength(9);
    expect(MCP_ROUTES).toHaveLength(3);
  });

  it('sends request routes, /health and /openapi.json to the gateway, task routes to the approval function and MCP to the mcp function', () => {
    const gateway = logicalIdOf(cognito.stack, cognito.stack.functions.byName.gateway);
    const approval = logicalIdOf(cognito.stack, cognito.stack.functions.byName.approval);
    const mcp = logicalIdOf(cognito.stack, cognito.stack.functions.byName.mcp);
    const isMcp = (key: string) => key.endsWith(' /mcp') || key.includes('/.well-known/');
    for (const [key, route] of Object.entries(routes(cognito))) {
      expect([key, route.target]).toEqual([key, isMcp(key) ? mcp : key.includes('/v1/tasks') ? approval : gateway]);
    }
  });

  it('protects every route but /health, /openapi.json and MCP\'s with the JWT authorizer; /mcp has none, for its function answers 401 as MCP says', () => {
    const authorizerId = Object.keys(resourcesOf(cognito, 'AWS::ApiGatewayV2::Authorizer'))[0];
    const open = ['GET /health', 'GET /openapi.json', 'POST /mcp', 'GET /mcp', 'GET /.well-known/oauth-protected-resource'];
    for (const [key, route] of Object.entries(routes(cognito))) {
      if (open.includes(key)) {
        expect(route.authorizationType).toBe('NONE');
        expect(route.authorizerId).toBeUndefined();
      } else {
        expect([key, route.authorizationType, route.authorizerId]).toEqual([key, 'JWT', { Ref: authorizerId }]);
      }
    }
  });

  it('uses payload format 2.0 Lambda proxy integrations', () => {
    for (const integration of Object.values(resourcesOf(cognito, 'AWS::ApiGatewayV2::Integration'))) {
      expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    }
  });
});

describe('default stage', () => {
  it('throttles with the configured rate and burst', () => {
    cognito.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    external.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
  });

  it('is the only stage, so no route escapes the throttle (no per-route override raises it)', () => {
    for (const synth of [cognito, external]) {
      const stages = Object.values(resourcesOf(synth, 'AWS::ApiGatewayV2::Stage'));
      expect(stages).toHaveLength(1);
      expect(stages[0].Properties.RouteSettings).toBeUndefined();
      const settings = stages[0].Properties.DefaultRouteSettings as { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
      expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
      expect(settings.ThrottlingBurstLimit).toBeGreaterThan(0);
    }
  });

  it('writes JSON access logs with the request id and no headers (no Authorization)', () => {
    const [stage] = Object.values(resourcesOf(cognito, 'AWS::ApiGatewayV2::Stage'));
    const settings = stage.Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };
    const logGroupId = logicalIdOf(cognito.stack, cognito.stack.api.accessLogGroup);
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format.requestId).toBe('$context.requestId');
    expect(format.status).toBe('$context.status');
    expect(settings.Format).not.toMatch(/header|authorization/i);
    expect(cognito.template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
  });
});

describe('identity: Cognito when no issuer is configured', () => {
  it('creates an admin-only user pool with a strong password policy and optional TOTP MFA', () => {
    cognito.template.resourceCountIs('AWS::Cognito::UserPool', 1);
    const [pool] = Object.values(resourcesOf(cognito, 'AWS::Cognito::UserPool'));
    expect(pool.Properties).toMatchObject({
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: {
        PasswordPolicy: {
          MinimumLength: 14,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
      DeletionProtection: 'ACTIVE',
    });
  });

  it('creates one group per role', () => {
    const groups = Object.values(resourcesOf(cognito, 'AWS::Cognito::UserPoolGroup')).map((g) => g.Properties.GroupName);
    expect(groups.sort()).toEqual([...WARDEN_ROLES].sort());
    expect(groups).toEqual(
      expect.arrayContaining(['support-agent', 'account-manager', 'procurement-manager', 'finance-director', 'support-lead', 'auditor']),
    );
  });

  it('creates a public client without OAuth flows, and the authorizer trusts the pool and that client', () => {
    const [client] = Object.values(resourcesOf(cognito, 'AWS::Cognito::UserPoolClient'));
    expect(client.Properties.GenerateSecret).toBe(false);
    expect(client.Properties.AllowedOAuthFlows).toBeUndefined();
    const poolId = logicalIdOf(cognito.stack, cognito.stack.identity.userPool!);
    const clientId = logicalIdOf(cognito.stack, cognito.stack.identity.userPoolClient!);
    cognito.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: { 'Fn::GetAtt': [poolId, 'ProviderURL'] }, Audience: [{ Ref: clientId }] },
    });
  });

  it('outputs the API URL, the state machine ARN and the pool and client ids', () => {
    const outputs = cognito.template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'StateMachineArn', 'UserPoolId', 'UserPoolClientId']));
  });
});

describe('identity: an external issuer', () => {
  it('creates no user pool and no groups', () => {
    external.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    external.template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    external.template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    const outputs = external.template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'StateMachineArn']));
    expect(Object.keys(outputs)).not.toContain('UserPoolId');
  });

  it('points the authorizer at the configured issuer and audience', () => {
    external.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://idp.example.com/realms/warden', Audience: ['warden-api', 'warden-cli'] },
    });
  });

  it('tells the HTTP functions which claim carries the roles', () => {
    for (const name of ['gateway', 'approval', 'mcp'] as const) {
      const id = logicalIdOf(external.stack, external.stack.functions.byName[name]);
      expect(external.template.toJSON().Resources[id].Properties.Environment.Variables.ROLE_CLAIM).toBe('roles');
    }
  });
});
