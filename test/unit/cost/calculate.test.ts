import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  extraUsage,
  monthlyCost,
  outcomeShares,
  parseShares,
  PriceTable,
  REQUIRED_PRICES,
  type CostInputs,
  type PathUsage,
} from '../../../cost/calculate';

const ROOT = join(__dirname, '..', '..', '..');

/** Round numbers so the expected bill below can be worked out by hand. */
function priceTable(): PriceTable {
  const price = (usd: number) => ({ usd, per: 'unit', source: 'test' });
  return PriceTable.parse({
    asOf: '2026-01-01',
    region: 'us-east-1',
    currency: 'USD',
    prices: {
      'stepFunctions.standardStateTransition': price(0.001),
      'lambda.request': price(0.0001),
      'lambda.arm64.gbSecond': price(0.01),
      'lambda.x86_64.gbSecond': price(0.02),
      'dynamodb.onDemand.writeRequestUnit': price(0.002),
      'dynamodb.onDemand.readRequestUnit': price(0.001),
      's3.standard.putRequest': price(0.005),
      's3.standard.getRequest': price(0.0005),
      'kms.request': price(0.0003),
      'kms.customerManagedKeyMonth': price(1),
      'apiGateway.httpApi.request': price(0.0002),
    },
    bedrock: {
      'model.low': { inputPer1kTokens: 0.01, outputPer1kTokens: 0.02, source: 'test' },
      'model.high': { inputPer1kTokens: 0.1, outputPer1kTokens: 0.2, source: 'test' },
    },
  });
}

function path(transitions: number, invocations: Record<string, number>, httpRequests: number, reads: number, writes: number, gsi = 0, s3 = 0): PathUsage {
  return { transitions, invocations, httpRequests, dynamodb: { readUnits: reads, writeUnits: writes, gsiWriteUnits: gsi }, s3: { put: s3, get: s3 } };
}

function inputs(): CostInputs {
  const fn = (durationMs: number) => ({ memoryMb: 512, architecture: 'arm64' as const, durationMs });
  return {
    requests: 1000,
    approvalRate: 0.1,
    rejectionRate: 0.1,
    approvalOutcomes: { approved: 0.5, rejected: 0.5, expired: 0 },
    modelMix: { low: 0.5, high: 0.1, none: 0.4 },
    modelIds: { low: 'model.low', high: 'model.high' },
    tokens: { low: { input: 1000, output: 100 }, high: { input: 2000, output: 200 } },
    paths: {
      'auto-approved': path(6, { gateway: 2, triage: 1, validation: 1, execution: 1, finalize: 1 }, 2, 8, 10),
      rejected: path(5, { gateway: 2, triage: 1, validation: 1, finalize: 1 }, 2, 6, 8),
      approved: path(8, { gateway: 2, approval: 2, triage: 1, validation: 1, dehydrate: 1, execution: 1, finalize: 1 }, 4, 12, 20, 6, 1),
      'rejected by approver': path(7, { gateway: 2, approval: 2, triage: 1, validation: 1, dehydrate: 1, finalize: 1 }, 4, 10, 16, 6, 1),
      expired: path(6, { gateway: 2, triage: 1, validation: 1, dehydrate: 1, finalize: 1 }, 2, 9, 18, 6, 1),
    },
    generativeExtra: path(1, { inference: 1 }, 0, 1, 2),
    functions: {
      gateway: fn(10),
      triage: fn(10),
      validation: fn(10),
      execution: fn(10),
      finalize: fn(10),
      approval: fn(10),
      dehydrate: fn(10),
      inference: fn(20),
    },
    modelLatencyMs: { low: 1000, high: 2000 },
    kms: { keyMonths: 1, requestsPerS3Request: 1, dynamodbRequestsPerMonth: 100 },
  };
}

describe('monthlyCost', () => {
  // 1,000 requests: 800 auto-approved, 100 rejected by policy, 50 approved, 50 rejected by the
  // approver, 0 expired; 600 of them free text (500 low tier, 100 high tier).
  const bill = monthlyCost(inputs(), priceTable());
  const line = (item: string) => {
    const found = bill.lines.find((l) => l.item.startsWith(item));
    if (!found) throw new Error(`no line ${item}`);
    return found;
  };

  it('splits the requests across the paths', () => {
    expect(bill.requestsByOutcome).toEqual({ 'auto-approved': 800, rejected: 100, approved: 50, 'rejected by approver': 50, expired: 0 });
  });

  it('bills each path its transitions, plus the Inference state for free text', () => {
    // 800×6 + 100×5 + 50×8 + 50×7 + 600×1 = 6,650 transitions at $0.001
    expect(line('Standard state transitions').quantity).toBeCloseTo(6650, 9);
    expect(line('Standard state transitions').usd).toBeCloseTo(6.65, 9);
  });

  it('bills Lambda requests and GB-seconds, with the model wait on inference', () => {
    // gateway 2,000 + triage 1,000 + validation 1,000 + execution 850 + finalize 1,000 + approval 200 + dehydrate 100 + inference 600
    expect(line('requests').quantity).toBeCloseTo(6750, 9);
    expect(line('requests').usd).toBeCloseTo(0.675, 9);
    // 850 × 10 ms × 0.5 GB
    expect(line('execution compute').quantity).toBeCloseTo(4.25, 9);
    // 600 × 20 ms × 0.5 GB + (500 × 1 s + 100 × 2 s) × 0.5 GB
    expect(line('inference compute').quantity).toBeCloseTo(356, 9);
    const gbSeconds = bill.lines.filter((l) => l.unit === 'GB-s').reduce((total, l) => total + l.quantity, 0);
    expect(gbSeconds).toBeCloseTo(6150 * 0.01 * 0.5 + 356, 9);
  });

  it('bills DynamoDB read and write units, GSI writes included', () => {
    // reads 800×8 + 100×6 + 50×12 + 50×10 + 600×1; writes 800×10 + 100×8 + 50×20 + 50×16 + 600×2, GSI 50×6 + 50×6
    expect(line('on-demand reads').quantity).toBeCloseTo(8700, 9);
    expect(line('on-demand writes').quantity).toBeCloseTo(12400, 9);
    expect(line('on-demand writes').usd).toBeCloseTo(24.8, 9);
  });

  it('bills S3, KMS, the HTTP API and Bedrock tokens by tier', () => {
    expect(line('PUT requests').usd).toBeCloseTo(0.5, 9);
    expect(line('GET requests').usd).toBeCloseTo(0.05, 9);
    // (100 PUT + 100 GET) × 1 + 100 from DynamoDB
    expect(line('requests (SSE-KMS').quantity).toBeCloseTo(300, 9);
    expect(line('customer managed key').usd).toBe(1);
    expect(line('HTTP API requests').quantity).toBeCloseTo(2200, 9);
    expect(line('low: model.low input').usd).toBeCloseTo(5, 9);
    expect(line('low: model.low output').usd).toBeCloseTo(1, 9);
    expect(line('high: model.high input').usd).toBeCloseTo(20, 9);
    expect(line('high: model.high output').usd).toBeCloseTo(4, 9);
  });

  it('adds up to the hand-computed total', () => {
    // 6.65 + 0.675 + 3.8675 + 8.70 + 24.80 + 0.5 + 0.05 + 0.09 + 1 + 0.44 + 5 + 1 + 20 + 4
    expect(bill.totalUsd).toBeCloseTo(76.7725, 9);
    expect(bill.perRequestUsd).toBeCloseTo(0.0767725, 12);
  });

  it('refuses shares that do not add up, and a model without a price', () => {
    expect(() => monthlyCost({ ...inputs(), modelMix: { low: 0.5, high: 0.5, none: 0.5 } }, priceTable())).toThrow('modelMix must add up to 1');
    expect(() => monthlyCost({ ...inputs(), modelIds: { low: 'model.low', high: 'unpriced' } }, priceTable())).toThrow('no Bedrock price for unpriced');
    expect(() => outcomeShares({ approvalRate: 0.7, rejectionRate: 0.4, approvalOutcomes: { approved: 1, rejected: 0, expired: 0 } })).toThrow();
  });
});

describe('extraUsage', () => {
  it('is what the free-text path uses beyond the structured one', () => {
    const structured = path(6, { gateway: 2, triage: 1 }, 2, 8, 10);
    const freeText = path(7, { gateway: 2, triage: 1, inference: 1 }, 2, 9, 12);
    expect(extraUsage(freeText, structured)).toEqual(path(1, { inference: 1 }, 0, 1, 2));
  });
});

describe('parseShares', () => {
  it('reads key=value lists and names what is wrong', () => {
    expect(parseShares('low=0.7,high=0.2,none=0.1', ['low', 'high', 'none'], '--model-mix')).toEqual({ low: 0.7, high: 0.2, none: 0.1 });
    expect(() => parseShares('low=0.7,high=0.3', ['low', 'high', 'none'], '--model-mix')).toThrow('--model-mix: missing none');
    expect(() => parseShares('low=x,high=1,none=0', ['low', 'high', 'none'], '--model-mix')).toThrow('low needs a number');
    expect(() => parseShares('mid=1', ['low', 'high'], '--model-mix')).toThrow('unknown key "mid"');
  });
});

describe('cost/prices.json', () => {
  const table = PriceTable.parse(JSON.parse(readFileSync(join(ROOT, 'cost', 'prices.json'), 'utf8')));

  it('is dated and names a public source for every price', () => {
    expect(table.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const key of REQUIRED_PRICES) expect(table.prices[key].source).toMatch(/^https:\/\/aws\.amazon\.com\//);
    for (const model of Object.values(table.bedrock)) expect(model.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it('prices the models cdk.json configures, by the exact id (a profile is priced apart from its model)', () => {
    const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: { warden: { modelIds: Record<string, string> } } };
    for (const modelId of Object.values(cdkJson.context.warden.modelIds)) {
      expect(table.bedrock[modelId]).toBeDefined();
      expect(table.bedrock[modelId].note ?? '').not.toMatch(/legacy|end-of-life/i);
    }
  });
});
