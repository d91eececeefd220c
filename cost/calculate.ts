import { z } from 'zod';

/**
 * The monthly cost model of issue 5, as plain arithmetic: what one request uses on each path
 * (measured by `npm run bench`), how the month's requests split across the paths, and one
 * price table. No AWS, no CDK here: `cost/model.ts` gathers the inputs, this file multiplies.
 */

// ---------------------------------------------------------------- the price table (cost/prices.json)

const Price = z.strictObject({
  usd: z.number().nonnegative(),
  per: z.string().min(1),
  source: z.string().min(1),
  note: z.string().optional(),
});

const ModelPrice = z.strictObject({
  inputPer1kTokens: z.number().nonnegative(),
  outputPer1kTokens: z.number().nonnegative(),
  source: z.string().min(1),
  note: z.string().optional(),
});

export const REQUIRED_PRICES = [
  'stepFunctions.standardStateTransition',
  'lambda.request',
  'lambda.arm64.gbSecond',
  'lambda.x86_64.gbSecond',
  'dynamodb.onDemand.writeRequestUnit',
  'dynamodb.onDemand.readRequestUnit',
  's3.standard.putRequest',
  's3.standard.getRequest',
  'kms.request',
  'kms.customerManagedKeyMonth',
  'apiGateway.httpApi.request',
] as const;
export type PriceKey = (typeof REQUIRED_PRICES)[number];

export const PriceTable = z
  .strictObject({
    asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
    region: z.string().min(1),
    currency: z.literal('USD'),
    notes: z.string().optional(),
    prices: z.record(z.string(), Price),
    bedrock: z.record(z.string(), ModelPrice),
  })
  .refine((table) => REQUIRED_PRICES.every((key) => key in table.prices), {
    message: `prices must hold every one of: ${REQUIRED_PRICES.join(', ')}`,
  });
export type PriceTable = z.infer<typeof PriceTable>;

// ---------------------------------------------------------------- what one request uses, per path

export const OUTCOMES = ['auto-approved', 'rejected', 'approved', 'rejected by approver', 'expired'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What one request uses on one path: everything AWS bills per request. */
export const PathUsage = z.object({
  /** Billable Step Functions state transitions (StateEntered + retries). */
  transitions: z.number().nonnegative(),
  /** Lambda invocations by function name. */
  invocations: z.record(z.string(), z.number().nonnegative()),
  /** HTTP API requests (client and approver calls). */
  httpRequests: z.number().nonnegative(),
  dynamodb: z.object({
    readUnits: z.number().nonnegative(),
    writeUnits: z.number().nonnegative(),
    gsiWriteUnits: z.number().nonnegative(),
  }),
  s3: z.object({ put: z.number().nonnegative(), get: z.number().nonnegative() }),
});
export type PathUsage = z.infer<typeof PathUsage>;

export type Tier = 'low' | 'high';

export interface FunctionProfile {
  memoryMb: number;
  architecture: 'arm64' | 'x86_64';
  /** Billed duration of one invocation (ms, before rounding up to the next ms). */
  durationMs: number;
}

export interface CostInputs {
  /** Requests submitted per month. */
  requests: number;
  /** Share of requests policy sends to a human. */
  approvalRate: number;
  /** Share of requests policy rejects outright (no human). */
  rejectionRate: number;
  /** How the escalated requests end; sums to 1. */
  approvalOutcomes: { approved: number; rejected: number; expired: number };
  /** Share of requests per model tier; `none` are structured requests that skip the model. Sums to 1. */
  modelMix: { low: number; high: number; none: number };
  /** Bedrock model id per tier (cdk.json context). */
  modelIds: Record<Tier, string>;
  /** Tokens per model call, per tier. */
  tokens: Record<Tier, { input: number; output: number }>;
  /** What a structured request uses on each path. */
  paths: Record<Outcome, PathUsage>;
  /** What a free-text request adds to its path: the Inference state, its Lambda and its writes. */
  generativeExtra: PathUsage;
  functions: Record<string, FunctionProfile>;
  /** Added to the inference Lambda's duration when it calls the model (the Lambda waits for Bedrock). */
  modelLatencyMs: Record<Tier, number>;
  kms: {
    /** Customer managed keys × their billed key versions. */
    keyMonths: number;
    /** KMS requests per S3 request (SSE-KMS; a bucket key makes this small). */
    requestsPerS3Request: number;
    /** KMS requests DynamoDB makes for the tables' CMK in a month (table keys are cached per caller). */
    dynamodbRequestsPerMonth: number;
  };
}

export interface CostLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  unitUsd: number;
  usd: number;
}

export interface CostBreakdown {
  lines: CostLine[];
  totalUsd: number;
  perRequestUsd: number;
  /** Requests per path in the month (structured and free text together). */
  requestsByOutcome: Record<Outcome, number>;
  /** What the month's average request uses. */
  perRequest: PathUsage;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

/** Each share in [0, 1] and all of them adding up to 1. */
export function checkShares(name: string, shares: Record<string, number>): void {
  for (const [key, value] of Object.entries(shares)) {
    if (!(value >= 0 && value <= 1)) throw new Error(`${name}.${key} must be between 0 and 1, got ${value}`);
  }
  const total = sum(Object.values(shares));
  if (Math.abs(total - 1) > 1e-9) throw new Error(`${name} must add up to 1, got ${total}`);
}

/** How the month's requests split across the outcomes. */
export function outcomeShares(inputs: Pick<CostInputs, 'approvalRate' | 'rejectionRate' | 'approvalOutcomes'>): Record<Outcome, number> {
  const { approvalRate, rejectionRate, approvalOutcomes } = inputs;
  checkShares('approvalOutcomes', approvalOutcomes);
  if (!(approvalRate >= 0 && rejectionRate >= 0 && approvalRate + rejectionRate <= 1)) {
    throw new Error(`approvalRate + rejectionRate must be between 0 and 1, got ${approvalRate} + ${rejectionRate}`);
  }
  return {
    'auto-approved': 1 - approvalRate - rejectionRate,
    rejected: rejectionRate,
    approved: approvalRate * approvalOutcomes.approved,
    'rejected by approver': approvalRate * approvalOutcomes.rejected,
    expired: approvalRate * approvalOutcomes.expired,
  };
}

function scaled(usage: PathUsage, factor: number): PathUsage {
  return {
    transitions: usage.transitions * factor,
    invocations: Object.fromEntries(Object.entries(usage.invocations).map(([fn, n]) => [fn, n * factor])),
    httpRequests: usage.httpRequests * factor,
    dynamodb: {
      readUnits: usage.dynamodb.readUnits * factor,
      writeUnits: usage.dynamodb.writeUnits * factor,
      gsiWriteUnits: usage.dynamodb.gsiWriteUnits * factor,
    },
    s3: { put: usage.s3.put * factor, get: usage.s3.get * factor },
  };
}

function added(a: PathUsage, b: PathUsage): PathUsage {
  const invocations: Record<string, number> = { ...a.invocations };
  for (const [fn, n] of Object.entries(b.invocations)) invocations[fn] = (invocations[fn] ?? 0) + n;
  return {
    transitions: a.transitions + b.transitions,
    invocations,
    httpRequests: a.httpRequests + b.httpRequests,
    dynamodb: {
      readUnits: a.dynamodb.readUnits + b.dynamodb.readUnits,
      writeUnits: a.dynamodb.writeUnits + b.dynamodb.writeUnits,
      gsiWriteUnits: a.dynamodb.gsiWriteUnits + b.dynamodb.gsiWriteUnits,
    },
    s3: { put: a.s3.put + b.s3.put, get: a.s3.get + b.s3.get },
  };
}

const NOTHING: PathUsage = { transitions: 0, invocations: {}, httpRequests: 0, dynamodb: { readUnits: 0, writeUnits: 0, gsiWriteUnits: 0 }, s3: { put: 0, get: 0 } };

/** The difference a free-text request makes: its path measured as free text minus as structured. */
export function extraUsage(freeText: PathUsage, structured: PathUsage): PathUsage {
  const extra = added(freeText, scaled(structured, -1));
  const clamp = (n: number) => Math.max(0, n);
  return {
    transitions: clamp(extra.transitions),
    invocations: Object.fromEntries(Object.entries(extra.invocations).map(([fn, n]) => [fn, clamp(n)]).filter(([, n]) => (n as number) > 0)),
    httpRequests: clamp(extra.httpRequests),
    dynamodb: { readUnits: clamp(extra.dynamodb.readUnits), writeUnits: clamp(extra.dynamodb.writeUnits), gsiWriteUnits: clamp(extra.dynamodb.gsiWriteUnits) },
    s3: { put: clamp(extra.s3.put), get: clamp(extra.s3.get) },
  };
}

export function monthlyCost(inputs: CostInputs, table: PriceTable): CostBreakdown {
  if (!(inputs.requests >= 0)) throw new Error(`requests must be ≥ 0, got ${inputs.requests}`);
  checkShares('modelMix', inputs.modelMix);
  const price = (key: PriceKey) => table.prices[key];
  const shares = outcomeShares(inputs);
  const generative = inputs.modelMix.low + inputs.modelMix.high;

  // The average request: its outcome's path, plus the Inference step when it is free text.
  let perRequest = NOTHING;
  for (const outcome of OUTCOMES) perRequest = added(perRequest, scaled(inputs.paths[outcome], shares[outcome]));
  perRequest = added(perRequest, scaled(inputs.generativeExtra, generative));
  const month = scaled(perRequest, inputs.requests);

  const lines: CostLine[] = [];
  const line = (service: string, item: string, quantity: number, unit: string, unitUsd: number) =>
    lines.push({ service, item, quantity, unit, unitUsd, usd: quantity * unitUsd });

  line('Step Functions', 'Standard state transitions', month.transitions, 'transitions', price('stepFunctions.standardStateTransition').usd);

  const invocations = sum(Object.values(month.invocations));
  line('Lambda', 'requests', invocations, 'invocations', price('lambda.request').usd);
  for (const [fn, count] of Object.entries(month.invocations).sort(([a], [b]) => a.localeCompare(b))) {
    const profile = inputs.functions[fn];
    if (!profile) throw new Error(`no memory/duration profile for the ${fn} Lambda`);
    const gb = profile.memoryMb / 1024;
    let seconds = count * (Math.ceil(profile.durationMs) / 1000);
    if (fn === 'inference') {
      // Model calls: the Lambda also waits for Bedrock, per tier.
      for (const tier of ['low', 'high'] as const) {
        seconds += inputs.requests * inputs.modelMix[tier] * (inputs.modelLatencyMs[tier] / 1000);
      }
    }
    const key = profile.architecture === 'arm64' ? 'lambda.arm64.gbSecond' : 'lambda.x86_64.gbSecond';
    line('Lambda', `${fn} compute (${profile.memoryMb} MB ${profile.architecture})`, seconds * gb, 'GB-s', price(key).usd);
  }

  line('DynamoDB', 'on-demand reads', month.dynamodb.readUnits, 'RRU', price('dynamodb.onDemand.readRequestUnit').usd);
  line('DynamoDB', 'on-demand writes (tables + GSI)', month.dynamodb.writeUnits + month.dynamodb.gsiWriteUnits, 'WRU', price('dynamodb.onDemand.writeRequestUnit').usd);
  line('S3', 'PUT requests (checkpoints)', month.s3.put, 'requests', price('s3.standard.putRequest').usd);
  line('S3', 'GET requests (checkpoints)', month.s3.get, 'requests', price('s3.standard.getRequest').usd);
  const kmsRequests = (month.s3.put + month.s3.get) * inputs.kms.requestsPerS3Request + inputs.kms.dynamodbRequestsPerMonth;
  line('KMS', 'requests (SSE-KMS, DynamoDB table keys)', kmsRequests, 'requests', price('kms.request').usd);
  line('KMS', 'customer managed key', inputs.kms.keyMonths, 'key-months', price('kms.customerManagedKeyMonth').usd);
  line('API Gateway', 'HTTP API requests', month.httpRequests, 'requests', price('apiGateway.httpApi.request').usd);

  for (const tier of ['low', 'high'] as const) {
    const modelId = inputs.modelIds[tier];
    const model = table.bedrock[modelId];
    if (!model) throw new Error(`cost/prices.json has no Bedrock price for ${modelId} (the ${tier} tier)`);
    const calls = inputs.requests * inputs.modelMix[tier];
    line('Bedrock', `${tier}: ${modelId} input`, (calls * inputs.tokens[tier].input) / 1000, '1K tokens', model.inputPer1kTokens);
    line('Bedrock', `${tier}: ${modelId} output`, (calls * inputs.tokens[tier].output) / 1000, '1K tokens', model.outputPer1kTokens);
  }

  const totalUsd = sum(lines.map((l) => l.usd));
  return {
    lines,
    totalUsd,
    perRequestUsd: inputs.requests > 0 ? totalUsd / inputs.requests : 0,
    requestsByOutcome: Object.fromEntries(OUTCOMES.map((o) => [o, inputs.requests * shares[o]])) as Record<Outcome, number>,
    perRequest,
  };
}

/** `low=0.7,high=0.2,none=0.1` → `{ low: 0.7, high: 0.2, none: 0.1 }`, only the given keys, each a number. */
export function parseShares<K extends string>(raw: string, keys: readonly K[], name: string): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [key, value] = part.split('=');
    if (!keys.includes(key as K)) throw new Error(`${name}: unknown key "${key}" (expected ${keys.join(', ')})`);
    const n = Number(value);
    if (value === undefined || value.trim() === '' || !Number.isFinite(n)) throw new Error(`${name}: ${key} needs a number, got "${value}"`);
    out[key as K] = n;
  }
  for (const key of keys) if (!(key in out)) throw new Error(`${name}: missing ${key}`);
  return out;
}
