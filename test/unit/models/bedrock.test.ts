import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  InternalServerException,
  ModelNotReadyException,
  ServiceUnavailableException,
  ThrottlingException,
  type ConverseCommandInput,
  type ConverseCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { ModelAccessDenied, ModelUnavailable } from '../../../lambdas/shared/errors';
import {
  BedrockProvider,
  PROMPT_VERSION,
  PROPOSAL_TOOL_NAME,
  promptFor,
  proposalInputSchema,
} from '../../../lambdas/shared/models/bedrock';
import { wholeCatalog, orList } from '../../../lambdas/shared/catalog/registry';
import { ACTIONS } from '../../../lambdas/shared/schemas/actions';
import { InferenceResult } from '../../../lambdas/shared/schemas/workflow';

const LOW = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';
const HIGH = 'us.anthropic.claude-3-7-sonnet-20250219-v1:0';
const PRICES = {
  [LOW]: { inputPer1k: 0.0008, outputPer1k: 0.004 },
  [HIGH]: { inputPer1k: 0.003, outputPer1k: 0.015 },
};

/** A fresh copy of a recorded Converse response per test. */
function fixture(name: string): ConverseCommandOutput {
  return JSON.parse(readFileSync(join(__dirname, '../../fixtures/bedrock', name), 'utf8')) as ConverseCommandOutput;
}

const meta = (status: number) => ({ $metadata: { httpStatusCode: status } });

describe('BedrockProvider', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  let sleeps: number[];

  beforeEach(() => {
    bedrock.reset();
    sleeps = [];
  });

  function provider(overrides: { maxAttempts?: number; prices?: typeof PRICES | undefined } = {}) {
    return new BedrockProvider({
      client: new BedrockRuntimeClient({ region: 'us-east-1' }),
      modelIds: { low: LOW, high: HIGH },
      ...('prices' in overrides ? (overrides.prices ? { prices: overrides.prices } : {}) : { prices: PRICES }),
      retry: {
        maxAttempts: overrides.maxAttempts ?? 4,
        baseDelayMs: 100,
        maxDelayMs: 1000,
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
  }

  const sent = (i = 0): ConverseCommandInput => {
    const call = bedrock.commandCalls(ConverseCommand)[i];
    if (!call) throw new Error(`no Converse call #${i}`);
    return call.args[0].input;
  };

  it('returns the tool input as the candidate, with confidence, tokens and cost', async () => {
    bedrock.on(ConverseCommand).resolves(fixture('purchase-order.tool-use.json'));

    const result = await provider().propose({
      text: 'Create a PO for Alpha Tech Systems for $7,850 of workstations',
      action: 'purchase_order',
      tier: 'low',
    });

    expect(InferenceResult.parse(result)).toEqual(result);
    expect(result.candidate).toEqual({
      action: 'purchase_order',
      fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations' },
    });
    expect(result.confidence).toBe(0.97);
    expect(result.model).toMatchObject({ provider: 'bedrock', id: LOW, inputTokens: 812, outputTokens: 96, promptVersion: promptFor('purchase_order').version });
    expect(result.model.promptVersion).toMatch(new RegExp(`^${PROMPT_VERSION}\\+[0-9a-f]{12}$`));
    // 812/1000 * 0.0008 + 96/1000 * 0.004
    expect(result.model.costUsd).toBeCloseTo(0.0010336, 6);
  });

  it('forces the one submit_proposal tool, with the known action’s schema', async () => {
    bedrock.on(ConverseCommand).resolves(fixture('purchase-order.tool-use.json'));

    await provider().propose({ text: 'Create a PO for Initech for $900 of toner', action: 'purchase_order', tier: 'high' });

    const input = sent();
    expect(input.modelId).toBe(HIGH);
    expect(input.toolConfig?.toolChoice).toEqual({ tool: { name: PROPOSAL_TOOL_NAME } });
    expect(input.toolConfig?.tools).toHaveLength(1);
    const spec = input.toolConfig?.tools?.[0]?.toolSpec;
    expect(spec?.name).toBe(PROPOSAL_TOOL_NAME);
    // Generated from the catalog; the model sees it, so a change to it is a new prompt version.
    expect(spec?.description).toBe('Submit the purchase_order proposal extracted from the request.');
    const schema = spec?.inputSchema?.json as Record<string, any>;
    expect(schema.type).toBe('object');
    expect(schema.required).toEqual(['action', 'fields', 'confidence']);
    expect(schema.properties.action).toMatchObject({ const: 'purchase_order' });
    expect(Object.keys(schema.properties.fields.properties)).toEqual(['vendor', 'amount', 'currency', 'description']);
    // Generated with io: 'input': the defaulted currency is optional for the model.
    expect(schema.properties.fields.required).toEqual(['vendor', 'amount', 'description']);
    expect(schema.properties.confidence).toMatchObject({ type: 'number', minimum: 0, maximum: 1 });
    expect(input.system?.[0]).toMatchObject({ text: expect.stringContaining(`[${PROMPT_VERSION}]`) });
    // The versioned prompt file rendered with the named action's catalog entry only.
    expect(input.system?.[0]).toEqual({ text: promptFor('purchase_order').text });
    expect(input.system?.[0]?.text).toContain('## purchase_order');
    expect(input.system?.[0]?.text).not.toContain('## refund');
    expect(input.messages?.[0]?.content?.[0]).toEqual({ text: expect.stringContaining('Create a PO for Initech for $900 of toner') });
  });

  it('offers a schema accepting any of the catalog’s actions when the action is unknown', async () => {
    bedrock.on(ConverseCommand).resolves(fixture('tier-upgrade.no-confidence.json'));

    await provider().propose({ text: 'Upgrade customer C-1001 from basic to standard', tier: 'low' });

    const spec = sent().toolConfig?.tools?.[0]?.toolSpec;
    // The seed actions first, then whatever else the catalog registers, in its order.
    expect(spec?.description).toBe(`Submit the proposal extracted from the request: ${orList(ACTIONS)}.`);
    const schema = spec?.inputSchema?.json as Record<string, any>;
    expect(schema.properties.action.enum).toEqual([...ACTIONS]);
    const variants = schema.properties.fields.anyOf as { properties: Record<string, unknown> }[];
    const keys = variants.map((v) => Object.keys(v.properties));
    expect(keys).toEqual(wholeCatalog().map((action) => Object.keys(action.fields.shape)));
    expect(keys.slice(0, 3)).toEqual([
      ['vendor', 'amount', 'currency', 'description'],
      ['customerId', 'currentTier', 'targetTier', 'effectiveDate', 'justification'],
      ['customerId', 'orderId', 'amount', 'reason'],
    ]);
    expect(sent().system?.[0]).toEqual({ text: promptFor().text });
    for (const action of ACTIONS) expect(promptFor().text).toContain(`## ${action}`);
    expect(proposalInputSchema()).toEqual(schema);
  });

  it('skips a text block before the tool use and clamps confidence to 1', async () => {
    bedrock.on(ConverseCommand).resolves(fixture('refund.text-then-tool-use.json'));

    const result = await provider().propose({ text: 'Refund $120 on order O-5001 for customer C-1002, item arrived damaged', action: 'refund', tier: 'low' });

    expect(result.candidate).toEqual({
      action: 'refund',
      fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'item arrived damaged' },
    });
    expect(result.confidence).toBe(1);
    expect(result.model).toMatchObject({ inputTokens: 1630, outputTokens: 141 });
  });

  it('reads a missing confidence as 0', async () => {
    bedrock.on(ConverseCommand).resolves(fixture('tier-upgrade.no-confidence.json'));

    const result = await provider().propose({ text: 'Upgrade customer C-1001', action: 'tier_upgrade', tier: 'low' });

    expect(result.confidence).toBe(0);
    expect(result.candidate).toMatchObject({ action: 'tier_upgrade', fields: { customerId: 'C-1001' } });
  });

  it('returns no candidate and confidence 0 when the model answers without the tool', async () => {
    bedrock.on(ConverseCommand).resolves(fixture('no-tool-use.end-turn.json'));

    const result = await provider().propose({ text: 'Create a PO for $900 of toner', action: 'purchase_order', tier: 'low' });

    expect(result.candidate).toBeUndefined();
    expect(result.confidence).toBe(0);
    expect(result.model).toMatchObject({ inputTokens: 798, outputTokens: 27 });
  });

  it('costs 0 for a model without a configured price', async () => {
    bedrock.on(ConverseCommand).resolves(fixture('purchase-order.tool-use.json'));

    const result = await provider({ prices: undefined }).propose({ text: 'x', action: 'purchase_order', tier: 'low' });

    expect(result.model.costUsd).toBe(0);
  });

  it('retries throttling with exponential backoff and full jitter, then succeeds', async () => {
    bedrock
      .on(ConverseCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Too many requests, please wait.', ...meta(429) }))
      .rejectsOnce(new ServiceUnavailableException({ message: 'Service unavailable.', ...meta(503) }))
      .rejectsOnce(new ModelNotReadyException({ message: 'Model is not ready.', ...meta(429) }))
      .resolves(fixture('purchase-order.tool-use.json'));

    const result = await provider().propose({ text: 'Create a PO', action: 'purchase_order', tier: 'low' });

    expect(result.confidence).toBe(0.97);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(4);
    // random() = 0.5 of a cap doubling from 100 ms.
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('caps the backoff at maxDelayMs', async () => {
    bedrock.on(ConverseCommand).rejects(new InternalServerException({ message: 'Internal error.', ...meta(500) }));

    await expect(provider({ maxAttempts: 7 }).propose({ text: 'x', action: 'refund', tier: 'low' })).rejects.toBeInstanceOf(ModelUnavailable);

    expect(sleeps).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('throws ModelUnavailable when throttling persists, after a bounded number of attempts', async () => {
    bedrock.on(ConverseCommand).rejects(new ThrottlingException({ message: 'Too many requests, please wait.', ...meta(429) }));

    const error = await provider({ maxAttempts: 3 })
      .propose({ text: 'Refund $120 on order O-5001 for customer C-1002', action: 'refund', tier: 'low' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelUnavailable);
    expect((error as ModelUnavailable).code).toBe('model_unavailable');
    expect((error as Error).message).toContain('ThrottlingException');
    expect((error as Error).message).not.toContain('O-5001');
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(3);
  });

  it('does not retry a request the service refuses outright', async () => {
    bedrock.on(ConverseCommand).rejects(new AccessDeniedException({ message: 'not authorized', ...meta(403) }));

    await expect(provider().propose({ text: 'x', action: 'refund', tier: 'low' })).rejects.toBeInstanceOf(ModelAccessDenied);
    expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
  });

  it('writes nothing to the console (the prompt carries request text)', async () => {
    bedrock.on(ConverseCommand).rejectsOnce(new ThrottlingException({ message: 'slow down', ...meta(429) })).resolves(fixture('refund.text-then-tool-use.json'));
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation(() => undefined));
    try {
      await provider().propose({ text: 'Refund $120 on order O-5001 for customer C-1002', action: 'refund', tier: 'low' });
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });
});
