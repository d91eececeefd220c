import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { removalPolicyOf } from '../../lib/cdk-config';
import {
  LOG_RETENTION_DAYS,
  WardenConfigError,
  configFromContext,
  foundationModelId,
  isInferenceProfileId,
  isSecretArn,
  parseConfig,
  usableModelIds,
} from '../../lib/config';
import { unconfiguredActions } from '../../lambdas/shared/connectors/config';
import { FUNCTION_NAMES } from '../../lib/constructs/functions';
import { readCdkJson } from './synth';

describe('parseConfig', () => {
  it('fills every default from an empty or missing config', () => {
    const expected = {
      modelProvider: 'bedrock',
      modelIds: {
        low: 'global.anthropic.claude-haiku-4-5-20251001-v1:0',
        high: 'global.anthropic.claude-sonnet-4-6',
      },
      approvalTimeoutSeconds: 604800,
      auth: { roleClaim: 'cognito:groups' },
      logRetentionDays: 30,
      removalPolicy: 'retain',
      confidenceThreshold: 0.95,
      throttling: { rateLimit: 50, burstLimit: 100 },
      reservedConcurrency: {
        gateway: null,
        triage: null,
        inference: 10,
        validation: null,
        dehydrate: null,
        approval: null,
        execution: null,
        finalize: null,
        mcp: null,
      },
      alarms: { rejectionRatePercent: 15, minRequestsForRejectionRate: 20, validationP99Ms: 2000 },
      connectors: {},
    };
    expect(parseConfig({})).toEqual(expected);
    expect(parseConfig(undefined)).toEqual(expected);
  });

  it('cdk.json writes out exactly the defaults, and runs the app with tsx', () => {
    const cdkJson = readCdkJson();
    expect(cdkJson.app).toBe('npx tsx bin/warden.ts');
    const { connectors: _connectors, ...rest } = cdkJson.context.warden as { connectors: Record<string, unknown> };
    const { connectors: _defaultConnectors, ...defaults } = parseConfig({});
    expect(rest).toEqual(defaults);
  });

  // Whatever a team points where: every action has its connectors, and each http one can deploy.
  it("cdk.json's connectors leave no action unconfigured, each http one https with a secret ARN", () => {
    const { connectors } = parseConfig(readCdkJson().context.warden);
    expect(unconfiguredActions(connectors)).toEqual([]);
    for (const action of unconfiguredActions(parseConfig({}).connectors)) expect(Object.keys(connectors)).toContain(action);
    for (const pair of Object.values(connectors)) {
      for (const connector of [pair.facts, pair.effect]) {
        if (connector.type === 'http') expect(connector).toMatchObject({ url: expect.stringMatching(/^https:\/\//), secret: { secretArn: expect.stringMatching(/^arn:aws[a-z-]*:secretsmanager:/) } });
      }
    }
  });

  it('ships placeholders for the action that has no builtin, for a team to replace', () => {
    const { connectors } = parseConfig(readCdkJson().context.warden);
    expect(connectors.credit_limit_change).toMatchObject({
      facts: { type: 'http', url: expect.stringMatching(/^https:\/\/erp\.example\.com\//), secret: { secretArn: expect.stringContaining(':111122223333:') } },
      effect: { type: 'http', url: expect.stringMatching(/^https:\/\/erp\.example\.com\//), secret: { secretArn: expect.stringContaining(':111122223333:') } },
    });
  });

  it('accepts foundation-model and cross-region inference-profile ids', () => {
    const config = parseConfig({
      modelIds: {
        low: 'us.anthropic.claude-3-haiku-20240307-v1:0',
        high: 'global.anthropic.claude-sonnet-4-20250514-v1:0',
      },
    });
    expect(config.modelIds.low).toBe('us.anthropic.claude-3-haiku-20240307-v1:0');
    expect(parseConfig({ modelIds: { low: 'amazon.nova-lite-v1:0' } }).modelIds.low).toBe('amazon.nova-lite-v1:0');
  });

  it('accepts an OpenAI-compatible server with its own model ids', () => {
    const config = parseConfig({
      modelProvider: 'openai-compatible',
      openAiBaseUrl: 'https://llm.internal.example.com/v1',
      modelIds: { low: 'qwen2.5:7b-instruct', high: 'Qwen/Qwen2.5-72B-Instruct' },
    });
    expect(config.modelProvider).toBe('openai-compatible');
    expect(config.openAiBaseUrl).toBe('https://llm.internal.example.com/v1');
    expect(config.modelIds).toEqual({ low: 'qwen2.5:7b-instruct', high: 'Qwen/Qwen2.5-72B-Instruct' });
  });

  it('checks Bedrock id syntax only with the bedrock provider, and needs a base URL for openai-compatible', () => {
    expect(() => parseConfig({ modelIds: { low: 'Qwen/Qwen2.5-72B-Instruct' } })).toThrow('- warden.modelIds.low:');
    expect(() => parseConfig({ modelProvider: 'openai-compatible' })).toThrow('- warden.openAiBaseUrl: is required');
    expect(() => parseConfig({ modelProvider: 'openai-compatible', openAiBaseUrl: 'ftp://x/v1' })).toThrow('- warden.openAiBaseUrl:');
    expect(() => parseConfig({ modelProvider: 'openai-compatible', openAiBaseUrl: 'http://x/v1', modelIds: { low: 'has space' } })).toThrow(
      '- warden.modelIds.low:',
    );
  });

  it('accepts an external issuer with its audience', () => {
    const config = parseConfig({ auth: { issuer: 'https://idp.example.com/', audience: ['warden'], roleClaim: 'roles' } });
    expect(config.auth).toEqual({ issuer: 'https://idp.example.com/', audience: ['warden'], roleClaim: 'roles' });
  });

  it.each([
    [{ approvalTimeoutSeconds: 59 }, 'warden.approvalTimeoutSeconds'],
    [{ approvalTimeoutSeconds: 31_536_001 }, 'warden.approvalTimeoutSeconds'],
    [{ approvalTimeoutSeconds: 3600.5 }, 'warden.approvalTimeoutSeconds'],
    [{ approvalTimeoutSeconds: '604800' }, 'warden.approvalTimeoutSeconds'],
    [{ modelProvider: 'openai' }, 'warden.modelProvider'],
    [{ modelIds: { high: 'claude sonnet' } }, 'warden.modelIds.high'],
    [{ logRetentionDays: 31 }, 'warden.logRetentionDays'],
    [{ removalPolicy: 'snapshot' }, 'warden.removalPolicy'],
    [{ confidenceThreshold: 1.5 }, 'warden.confidenceThreshold'],
    [{ throttling: { rateLimit: 0 } }, 'warden.throttling.rateLimit'],
    [{ auth: { issuer: 'http://idp.example.com', audience: ['a'] } }, 'warden.auth.issuer'],
    [{ reservedConcurrency: { inference: 0 } }, 'warden.reservedConcurrency.inference'],
    [{ reservedConcurrency: { inference: 2.5 } }, 'warden.reservedConcurrency.inference'],
    [{ reservedConcurrency: { gateway: 1001 } }, 'warden.reservedConcurrency.gateway'],
    [{ reservedConcurrency: { inferance: 5 } }, 'warden.reservedConcurrency.inferance'],
    [{ alarms: { rejectionRatePercent: 0 } }, 'warden.alarms.rejectionRatePercent'],
    [{ alarms: { rejectionRatePercent: 101 } }, 'warden.alarms.rejectionRatePercent'],
    [{ alarms: { minRequestsForRejectionRate: 0 } }, 'warden.alarms.minRequestsForRejectionRate'],
    [{ alarms: { minRequestsForRejectionRate: 2.5 } }, 'warden.alarms.minRequestsForRejectionRate'],
    [{ alarms: { validationP99Ms: -1 } }, 'warden.alarms.validationP99Ms'],
    [{ alarms: { validationP99: 1000 } }, 'warden.alarms.validationP99'],
  ])('rejects %j naming %s', (raw, key) => {
    expect(() => parseConfig(raw)).toThrow(`- ${key}:`);
  });

  it('rejects an issuer without an audience, saying both are needed', () => {
    expect(() => parseConfig({ auth: { issuer: 'https://idp.example.com' } })).toThrow(
      /warden\.auth: issuer and audience must be given together/,
    );
    expect(() => parseConfig({ auth: { audience: ['warden'] } })).toThrow(/warden\.auth: issuer and audience/);
  });

  it('rejects unknown keys so a typo cannot fall back to a default', () => {
    expect(() => parseConfig({ approvalTimeout: 60 })).toThrow(
      /- warden\.approvalTimeout: not a Warden setting; known here: .*approvalTimeoutSeconds/,
    );
  });

  it('names every bad key in one error', () => {
    expect(() => parseConfig({ approvalTimeoutSeconds: 1, confidenceThreshold: -1 })).toThrow(
      /approvalTimeoutSeconds[\s\S]*confidenceThreshold/,
    );
  });
});

describe('model settings read at run time', () => {
  const HAIKU = 'global.anthropic.claude-haiku-4-5-20251001-v1:0';
  const SONNET = 'global.anthropic.claude-sonnet-4-6';

  it('takes SSM parameter names per tier and the model ids they may name', () => {
    const config = parseConfig({
      modelIdParameters: { low: '/warden/model/low', high: 'warden.model_high-1' },
      allowedModelIds: [HAIKU, SONNET, 'us.amazon.nova-lite-v1:0'],
    });
    expect(config.modelIdParameters).toEqual({ low: '/warden/model/low', high: 'warden.model_high-1' });
    expect(usableModelIds(config)).toEqual([HAIKU, SONNET, 'us.amazon.nova-lite-v1:0']);
    // One tier is enough; without allowedModelIds a parameter may name only the deployed two.
    const one = parseConfig({ modelIdParameters: { high: '/warden/model/high' } });
    expect(one.modelIdParameters).toEqual({ high: '/warden/model/high' });
    expect(usableModelIds(one)).toEqual([HAIKU, SONNET]);
    expect(usableModelIds(parseConfig({}))).toEqual([HAIKU, SONNET]);
    expect(usableModelIds(parseConfig({ modelIds: { low: SONNET } }))).toEqual([SONNET]);
  });

  it.each([
    [{ modelIdParameters: { low: 'warden/model/low' } }, 'warden.modelIdParameters.low', /SSM parameter name/],
    [{ modelIdParameters: { low: '/warden/model low' } }, 'warden.modelIdParameters.low', /SSM parameter name/],
    [{ modelIdParameters: { high: '/warden//high' } }, 'warden.modelIdParameters.high', /SSM parameter name/],
    [{ modelIdParameters: { high: '/warden/high/' } }, 'warden.modelIdParameters.high', /SSM parameter name/],
    [{ modelIdParameters: { high: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}` } }, 'warden.modelIdParameters.high', /SSM parameter name/],
    [{ modelIdParameters: { low: '' } }, 'warden.modelIdParameters.low', /SSM parameter name/],
    [{ modelIdParameters: { low: '/aws/service/model' } }, 'warden.modelIdParameters.low', /reserved by AWS/],
    [{ modelIdParameters: { low: 'SSM-model' } }, 'warden.modelIdParameters.low', /reserved by AWS/],
    [{ modelIdParameters: { low: 'arn:aws:ssm:us-east-1:123456789012:parameter/warden/low' } }, 'warden.modelIdParameters.low', /SSM parameter name/],
    [{ modelIdParameters: {} }, 'warden.modelIdParameters', /low and\/or high/],
    [{ modelIdParameters: { medium: '/warden/model/medium' } }, 'warden.modelIdParameters.medium', /not a Warden setting; known here: low, high/],
    [{ modelIdParameters: '/warden/model' }, 'warden.modelIdParameters', /object/],
  ])('rejects the parameter names %j, naming %s', (raw, key, message) => {
    expect(() => parseConfig(raw)).toThrow(`- ${key}:`);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('rejects an allowed list that leaves out a deployed model id, naming the tier', () => {
    const parameters = { low: '/warden/model/low' };
    expect(() => parseConfig({ modelIdParameters: parameters, allowedModelIds: [SONNET] })).toThrow(
      `- warden.allowedModelIds: must include modelIds.low (${HAIKU})`,
    );
    expect(() => parseConfig({ modelIdParameters: parameters, allowedModelIds: [HAIKU, 'us.amazon.nova-lite-v1:0'] })).toThrow(
      `- warden.allowedModelIds: must include modelIds.high (${SONNET})`,
    );
    expect(() => parseConfig({ modelIdParameters: parameters, allowedModelIds: [] })).toThrow('- warden.allowedModelIds:');
  });

  it('rejects an allowed list without parameters: it could only widen IAM', () => {
    expect(() => parseConfig({ allowedModelIds: [HAIKU, SONNET] })).toThrow(
      '- warden.allowedModelIds: only applies to modelIdParameters',
    );
  });

  it('checks allowed ids as Bedrock ids with the bedrock provider only', () => {
    const parameters = { low: '/warden/model/low' };
    expect(() => parseConfig({ modelIdParameters: parameters, allowedModelIds: [HAIKU, SONNET, 'Qwen/Qwen2.5-72B-Instruct'] })).toThrow(
      '- warden.allowedModelIds.2:',
    );
    const openai = parseConfig({
      modelProvider: 'openai-compatible',
      openAiBaseUrl: 'https://llm.internal.example.com/v1',
      modelIds: { low: 'qwen2.5:7b-instruct', high: 'Qwen/Qwen2.5-72B-Instruct' },
      modelIdParameters: parameters,
      allowedModelIds: ['qwen2.5:7b-instruct', 'Qwen/Qwen2.5-72B-Instruct', 'llama3.1:8b'],
    });
    expect(usableModelIds(openai)).toEqual(['qwen2.5:7b-instruct', 'Qwen/Qwen2.5-72B-Instruct', 'llama3.1:8b']);
  });

  it('takes the API key secret by name or complete ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/openai-api-key-AbC123';
    expect(parseConfig({ openAiApiKeySecret: 'warden/openai-api-key' }).openAiApiKeySecret).toBe('warden/openai-api-key');
    expect(parseConfig({ openAiApiKeySecret: arn }).openAiApiKeySecret).toBe(arn);
    expect(isSecretArn(arn)).toBe(true);
    expect(isSecretArn('arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:k-AbC123')).toBe(true);
    expect(isSecretArn('warden/openai-api-key')).toBe(false);
  });

  it.each([
    ['a partial ARN (no suffix: it names no secret exactly)', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/openai-api-key'],
    ['a name with a space', 'warden openai key'],
    ['an empty name', ''],
    ['a name longer than Secrets Manager allows', 'k'.repeat(513)],
  ])('rejects %s as openAiApiKeySecret', (_label, value) => {
    expect(() => parseConfig({ openAiApiKeySecret: value })).toThrow(/- warden\.openAiApiKeySecret: must be a Secrets Manager secret name/);
  });
});

describe('reserved concurrency', () => {
  it('has one key per Lambda, and caps only inference (Bedrock calls) by default', () => {
    const { reservedConcurrency } = parseConfig({});
    expect(Object.keys(reservedConcurrency).sort()).toEqual([...FUNCTION_NAMES].sort());
    expect(Object.entries(reservedConcurrency).filter(([, cap]) => cap !== null)).toEqual([['inference', 10]]);
  });

  it('takes a cap per function, and null to lift the default one', () => {
    expect(parseConfig({ reservedConcurrency: { inference: null, gateway: 20 } }).reservedConcurrency).toMatchObject({
      inference: null,
      gateway: 20,
      approval: null,
    });
  });
});

describe('alarm thresholds', () => {
  it('takes each threshold on its own and keeps the other defaults', () => {
    expect(parseConfig({ alarms: { rejectionRatePercent: 25 } }).alarms).toEqual({
      rejectionRatePercent: 25,
      minRequestsForRejectionRate: 20,
      validationP99Ms: 2000,
    });
    expect(parseConfig({ alarms: { validationP99Ms: 1500, minRequestsForRejectionRate: 50 } }).alarms).toMatchObject({
      validationP99Ms: 1500,
      minRequestsForRejectionRate: 50,
    });
  });
});

describe('model ids and removal policy', () => {
  it('tells inference-profile ids from foundation-model ids', () => {
    expect(isInferenceProfileId('us.anthropic.claude-3-haiku-20240307-v1:0')).toBe(true);
    expect(isInferenceProfileId('apac.amazon.nova-lite-v1:0')).toBe(true);
    expect(isInferenceProfileId('anthropic.claude-3-haiku-20240307-v1:0')).toBe(false);
    expect(foundationModelId('eu.anthropic.claude-3-haiku-20240307-v1:0')).toBe('anthropic.claude-3-haiku-20240307-v1:0');
    expect(foundationModelId('amazon.nova-lite-v1:0')).toBe('amazon.nova-lite-v1:0');
  });

  it("accepts exactly the retention periods aws-cdk-lib's RetentionDays lists", () => {
    const cdkValues = Object.values(RetentionDays).filter((value): value is number => typeof value === 'number');
    expect([...LOG_RETENTION_DAYS].sort((a, b) => a - b)).toEqual(cdkValues.sort((a, b) => a - b));
    for (const days of cdkValues) expect(parseConfig({ logRetentionDays: days }).logRetentionDays).toBe(days);
  });

  it('maps the removal policy', () => {
    expect(removalPolicyOf(parseConfig({}))).toBe(RemovalPolicy.RETAIN);
    expect(removalPolicyOf(parseConfig({ removalPolicy: 'destroy' }))).toBe(RemovalPolicy.DESTROY);
  });
});

describe('configFromContext (cdk.json, -c warden=JSON, -c warden.<key>=value)', () => {
  /** cdk.json as a user may have edited it: not the defaults, so merging is visible. */
  const CDK_JSON = { modelProvider: 'rules', logRetentionDays: 90, auth: { roleClaim: 'roles' }, alarms: { validationP99Ms: 1500 } };
  const fromCdkJson = () => structuredClone(CDK_JSON);
  const configOf = (context: Record<string, unknown>) => configFromContext(context, fromCdkJson);

  it('takes the warden object as cdk.json gives it, and the defaults without one', () => {
    expect(configOf({ warden: CDK_JSON })).toEqual(parseConfig(CDK_JSON));
    expect(configOf({})).toEqual(parseConfig({}));
  });

  it('merges a JSON string over cdk.json: objects key by key, everything else replaced', () => {
    const config = configOf({ warden: '{"modelProvider":"openai-compatible","openAiBaseUrl":"http://127.0.0.1:11434/v1","alarms":{"rejectionRatePercent":25}}' });
    expect(config.modelProvider).toBe('openai-compatible');
    expect(config.openAiBaseUrl).toBe('http://127.0.0.1:11434/v1');
    // What the JSON left out stays as cdk.json has it, down to the nested keys.
    expect(config.logRetentionDays).toBe(90);
    expect(config.auth.roleClaim).toBe('roles');
    expect(config.alarms).toEqual({ rejectionRatePercent: 25, validationP99Ms: 1500, minRequestsForRejectionRate: 20 });
  });

  it('sets dotted keys over cdk.json, turning strings into what the schema expects there', () => {
    const config = configOf({
      warden: CDK_JSON,
      'warden.modelProvider': 'bedrock',
      'warden.modelIds.low': 'eu.anthropic.claude-haiku-4-5-20251001-v1:0',
      'warden.reservedConcurrency.inference': 'null',
      'warden.reservedConcurrency.gateway': '20',
      'warden.throttling.rateLimit': '12.5',
      'warden.auth.audience': '["warden"]',
      'warden.auth.issuer': 'https://idp.example.com/',
    });
    expect(config.modelProvider).toBe('bedrock');
    expect(config.modelIds.low).toBe('eu.anthropic.claude-haiku-4-5-20251001-v1:0');
    expect(config.reservedConcurrency).toMatchObject({ inference: null, gateway: 20 });
    expect(config.throttling).toEqual({ rateLimit: 12.5, burstLimit: 100 });
    expect(config.auth).toEqual({ issuer: 'https://idp.example.com/', audience: ['warden'], roleClaim: 'roles' });
    expect(config.logRetentionDays).toBe(90);
  });

  it('applies dotted keys over a JSON string, and a deeper key over a shallower one', () => {
    const config = configOf({
      warden: '{"logRetentionDays":7}',
      'warden.modelIds.high': 'global.anthropic.claude-sonnet-4-6',
      'warden.modelIds': '{"low":"amazon.nova-lite-v1:0","high":"amazon.nova-pro-v1:0"}',
      'warden.modelProvider': 'bedrock',
    });
    expect(config.logRetentionDays).toBe(7);
    expect(config.modelIds).toEqual({ low: 'amazon.nova-lite-v1:0', high: 'global.anthropic.claude-sonnet-4-6' });
  });

  it('ignores context that is not Warden\'s (feature flags and the like)', () => {
    expect(configOf({ '@aws-cdk/core:checkSecretUsage': true, wardenish: 'x', warden: {} })).toEqual(parseConfig({}));
  });

  it.each([
    [{ 'warden.modelProvider': 'banana' }, '- warden.modelProvider: Invalid option'],
    [{ 'warden.modelProvder': 'rules' }, '- warden.modelProvder: not a Warden setting; known here: modelProvider, modelIds'],
    [{ 'warden.modelIds.medium': 'x' }, '- warden.modelIds.medium: not a Warden setting'],
    [{ 'warden.logRetentionDays.x': '1' }, '- warden.logRetentionDays.x: not a Warden setting (its parent takes no keys) (-c warden.logRetentionDays.x=...)'],
    [{ 'warden.': 'x' }, '- warden.: not a Warden setting'],
    [{ 'warden.approvalTimeoutSeconds': 'a week' }, '- warden.approvalTimeoutSeconds: Invalid input: expected number, received string'],
    [{ 'warden.approvalTimeoutSeconds': '' }, '- warden.approvalTimeoutSeconds: Invalid input: expected number'],
    [{ 'warden.reservedConcurrency.inference': 'none' }, '- warden.reservedConcurrency.inference:'],
    [{ 'warden.approvalTimeoutSeconds': 'null' }, '- warden.approvalTimeoutSeconds:'],
    [{ 'warden.auth.audience': '[warden' }, '- warden.auth.audience:'],
    [{ warden: '{"modelProvider":"rules"' }, '- warden: -c warden=... is not valid JSON'],
    [{ warden: '"rules"' }, '- warden: -c warden=... must be a JSON object'],
    [{ warden: '{"modelProvder":"rules"}' }, '- warden.modelProvder: not a Warden setting; known here: modelProvider'],
    [{ warden: '{"alarms":{"validationP99Ms":"fast"}}' }, '- warden.alarms.validationP99Ms:'],
  ])('refuses %j, naming the key: %s', (context, message) => {
    const attempt = () => configOf(context);
    expect(attempt).toThrow(WardenConfigError);
    expect(attempt).toThrow(message);
  });

  it('names every problem in one error, from the JSON, the dotted keys and the values', () => {
    expect(() => configOf({ warden: '{"logRetentionDays":31}', 'warden.confidenceThreshold': '2', 'warden.modelProvder': 'x' })).toThrow(
      /warden\.modelProvder: not a Warden setting[\s\S]*warden\.logRetentionDays:[\s\S]*warden\.confidenceThreshold:/,
    );
  });
});

describe('warden.connectors (the schema the Lambdas read WARDEN_CONNECTORS with)', () => {
  const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:team-po-facts';
  const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:warden/erp-signing-AbC123';
  const HTTP = { type: 'http', url: 'https://erp.example.com/warden/po', secret: { secretArn: SECRET } };

  it('is empty by default: builtin for every action', () => {
    expect(parseConfig({}).connectors).toEqual({});
  });

  it('takes a lambda and an http connector per action, filling the http defaults and builtin for what is left out', () => {
    const config = parseConfig({ connectors: { purchase_order: { facts: { type: 'lambda', functionArn: FUNCTION }, effect: HTTP } } });
    expect(config.connectors).toEqual({
      purchase_order: {
        facts: { type: 'lambda', functionArn: FUNCTION },
        effect: { ...HTTP, timeoutMs: 5000, maxAttempts: 3 },
      },
    });
    expect(parseConfig({ connectors: { refund: { effect: HTTP } } }).connectors.refund?.facts).toEqual({ type: 'builtin' });
  });

  it.each([
    [{ connectors: { credit_line: {} } }, '- warden.connectors.credit_line: unknown action "credit_line"'],
    [{ connectors: { purchase_order: { efect: HTTP } } }, '- warden.connectors.purchase_order.efect: not a Warden setting; known here: facts, effect'],
    [{ connectors: { purchase_order: { effect: { type: 'ftp' } } } }, '- warden.connectors.purchase_order.effect.type:'],
    [{ connectors: { purchase_order: { effect: { type: 'lambda', functionArn: 'team-po' } } } }, '- warden.connectors.purchase_order.effect.functionArn: must be a Lambda function ARN'],
    [{ connectors: { purchase_order: { effect: { ...HTTP, url: 'http://erp.example.com/po' } } } }, '- warden.connectors.purchase_order.effect.url: must be https'],
    [{ connectors: { purchase_order: { effect: { ...HTTP, secret: {} } } } }, '- warden.connectors.purchase_order.effect.secret: needs secretArn or env'],
    [{ connectors: { purchase_order: { effect: { ...HTTP, timeout: 100 } } } }, '- warden.connectors.purchase_order.effect.timeout: not a Warden setting; known here: type, functionArn, url, secret, timeoutMs, maxAttempts'],
    [{ connectors: { purchase_order: { effect: { ...HTTP, maxAttempts: 7 } } } }, '- warden.connectors.purchase_order.effect.maxAttempts:'],
  ])('refuses %j, naming the key: %s', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(WardenConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('takes connectors from -c, whole or one dotted key at a time, over cdk.json', () => {
    const cdkJson = { connectors: { purchase_order: { facts: { type: 'lambda', functionArn: FUNCTION } } } };
    const config = configFromContext(
      {
        warden: cdkJson,
        'warden.connectors.purchase_order.effect': JSON.stringify(HTTP),
        'warden.connectors.purchase_order.effect.timeoutMs': '2000',
        'warden.connectors.refund': '{"effect":{"type":"lambda","functionArn":"arn:aws:lambda:us-east-1:123456789012:function:refunds"}}',
      },
      () => cdkJson,
    );
    expect(config.connectors).toEqual({
      purchase_order: { facts: { type: 'lambda', functionArn: FUNCTION }, effect: { ...HTTP, timeoutMs: 2000, maxAttempts: 3 } },
      refund: { facts: { type: 'builtin' }, effect: { type: 'lambda', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:refunds' } },
    });
    expect(configFromContext({ 'warden.connectors': JSON.stringify({ tier_upgrade: { facts: { type: 'lambda', functionArn: FUNCTION } } }) }, () => ({})).connectors).toEqual({
      tier_upgrade: { facts: { type: 'lambda', functionArn: FUNCTION }, effect: { type: 'builtin' } },
    });
  });

  it.each([
    [{ 'warden.connectors.credit_line.effect': JSON.stringify(HTTP) }, '- warden.connectors.credit_line: unknown action "credit_line"'],
    [{ 'warden.connectors.purchase_order.efect.url': 'https://x.example.com' }, '- warden.connectors.purchase_order.efect: not a Warden setting; known here: facts, effect (-c '],
    [{ 'warden.connectors.purchase_order.effect': '{"type":"lambda"' }, '- warden.connectors.purchase_order.effect:'],
    [{ 'warden.connectors.purchase_order.effect.timeoutMs': 'soon' }, '- warden.connectors.purchase_order.effect.type:'],
  ])('refuses the dotted %j, naming the key: %s', (context, message) => {
    expect(() => configFromContext(context, () => ({}))).toThrow(message);
  });
});
