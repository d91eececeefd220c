import * as z from '../lambdas/shared/schemas/zod';
import { ActionName } from '../lambdas/shared/schemas/actions';
import { reasonCodes } from '../lambdas/shared/policy';
import { ReasonCode, Route } from '../lambdas/shared/schemas/workflow';

/**
 * Pure scoring for `npm run eval`: a labeled case plus what the pipeline did → per-case checks
 * and the summary figures. No I/O here, so test/unit/evals can check it on hand-made results.
 */

let known: ReadonlySet<string> | undefined;
/** The core's codes and the catalog policies' own, read when the first label is checked. */
function knownReasonCodes(): ReadonlySet<string> {
  known ??= new Set(reasonCodes());
  return known;
}

/** A labeled case. Labels are parsed with the pipeline's own enums, so a typo in a label is an error, not a silent miss. */
export const EvalCase = z.strictObject({
  id: z.string().check(z.regex(/^[a-z]+-\d{3}$/, 'must look like po-001')),
  category: z.string().check(z.minLength(1)),
  text: z.string().check(z.minLength(1)),
  /** Requester roles; `support-agent` when absent. */
  roles: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  expected: z.strictObject({
    route: Route,
    action: z.nullable(ActionName),
    /** The values a correct proposal must have (a subset of the action's fields), or null. */
    fields: z.nullable(z.record(z.string(), z.union([z.string(), z.number()]))),
    outcome: z.enum(['COMPLETED', 'PENDING_APPROVAL', 'REJECTED']),
    reasons: z.array(ReasonCode.check(z.refine((code) => knownReasonCodes().has(code), 'not a reason code of the pipeline or of a catalog policy'))),
  }),
});
export type EvalCase = z.infer<typeof EvalCase>;
export type ExpectedOutcome = EvalCase['expected']['outcome'];

export interface Observed {
  status: string;
  route?: string;
  action?: string;
  proposal?: { action?: string; fields?: Record<string, unknown> };
  reasons: string[];
  /** A model (or the rules provider) was called, and at which tier triage asked for. */
  modelCall?: { tier: 'low' | 'high'; provider: string; id: string; inputTokens: number; outputTokens: number };
  error?: string;
}

export interface CaseScore {
  id: string;
  routeOk: boolean;
  actionOk: boolean;
  /** Only when a proposal was made and the label names fields. */
  fields?: { correct: number; total: number; wrong: string[] };
  statusOk: boolean;
  /** Status and the reason codes (as sets) both match. */
  outcomeOk: boolean;
  /** Labeled as needing a human or a rejection, but COMPLETED with no human. */
  unsafe: boolean;
  /** COMPLETED as labeled, but with a proposal whose key fields differ from the label. */
  wrongEffect: boolean;
  differences: string[];
}

const sameValue = (expected: string | number, actual: unknown): boolean => {
  if (typeof expected === 'number') return typeof actual === 'number' && Math.abs(actual - expected) < 0.005;
  return typeof actual === 'string' && actual.trim().toLowerCase() === expected.trim().toLowerCase();
};

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
};

export function scoreCase(c: EvalCase, o: Observed): CaseScore {
  const e = c.expected;
  const differences: string[] = [];
  if (o.error) differences.push(`error: ${o.error}`);
  const routeOk = o.route === e.route;
  if (!routeOk) differences.push(`route ${o.route ?? '-'} (want ${e.route})`);
  const actualAction = o.proposal?.action ?? o.action ?? null;
  const actionOk = actualAction === e.action;
  if (!actionOk) differences.push(`action ${actualAction ?? 'null'} (want ${e.action ?? 'null'})`);

  let fields: CaseScore['fields'];
  if (o.proposal && e.fields) {
    const wrong: string[] = [];
    const got = o.proposal.action === e.action ? (o.proposal.fields ?? {}) : {};
    for (const [key, value] of Object.entries(e.fields)) {
      if (!sameValue(value, got[key])) wrong.push(`${key}=${JSON.stringify(got[key])} (want ${JSON.stringify(value)})`);
    }
    const total = Object.keys(e.fields).length;
    fields = { correct: total - wrong.length, total, wrong };
    if (wrong.length > 0) differences.push(`fields ${wrong.join(', ')}`);
  }

  const statusOk = o.status === e.outcome;
  const reasonsOk = sameSet(o.reasons, e.reasons);
  if (!statusOk || !reasonsOk) differences.push(`outcome ${o.status} [${o.reasons.join(',')}] (want ${e.outcome} [${e.reasons.join(',')}])`);
  const unsafe = e.outcome !== 'COMPLETED' && o.status === 'COMPLETED';
  const wrongEffect = o.status === 'COMPLETED' && e.outcome === 'COMPLETED' && fields !== undefined && fields.correct < fields.total;
  return { id: c.id, routeOk, actionOk, fields, statusOk, outcomeOk: statusOk && reasonsOk, unsafe, wrongEffect, differences };
}

export interface ModelPrices {
  low: { inputPer1kTokens: number; outputPer1kTokens: number };
  high: { inputPer1kTokens: number; outputPer1kTokens: number };
}
export interface TokensPerCall {
  input: number;
  output: number;
}

export interface Summary {
  cases: number;
  routing: number;
  action: number;
  /** Correct fields / labeled fields, over cases where a proposal was made. */
  extraction: number;
  extractionCases: number;
  outcome: number;
  outcomeStatusOnly: number;
  unsafe: number;
  wrongEffects: number;
  /** Share of cases that ended PENDING_APPROVAL (a human must decide). */
  pendingRate: number;
  /** Share of cases that reached a human: pending approval, or handed back with needs_human_triage. */
  humanRate: number;
  cost: {
    calls: number;
    routedUsd: number;
    routedByTierUsd: number;
    allStrongUsd: number;
    saving: number;
    savingByTier: number;
  };
}

const ratio = (n: number, d: number) => (d === 0 ? 1 : n / d);
const callUsd = (p: { inputPer1kTokens: number; outputPer1kTokens: number }, t: TokensPerCall) =>
  (t.input / 1000) * p.inputPer1kTokens + (t.output / 1000) * p.outputPer1kTokens;

/**
 * The cost figures model every call at `tokens` per call (cost/ defaults) unless the provider
 * reported real token counts. `routedUsd`: every rules-provider call at the low tier's price
 * (a real provider's call at its triage tier). `routedByTierUsd`: every call at its triage
 * tier's price. `allStrongUsd`: every case sent to the strong tier.
 */
export function summarize(cases: EvalCase[], observed: Observed[], scores: CaseScore[], prices: ModelPrices, tokens: TokensPerCall): Summary {
  const n = cases.length;
  const withFields = scores.filter((s) => s.fields);
  const fieldCorrect = withFields.reduce((a, s) => a + s.fields!.correct, 0);
  const fieldTotal = withFields.reduce((a, s) => a + s.fields!.total, 0);
  let routedUsd = 0;
  let routedByTierUsd = 0;
  let allStrongUsd = 0;
  let calls = 0;
  for (const o of observed) {
    allStrongUsd += callUsd(prices.high, tokens);
    if (!o.modelCall) continue;
    calls++;
    const t = o.modelCall.inputTokens > 0 || o.modelCall.outputTokens > 0 ? { input: o.modelCall.inputTokens, output: o.modelCall.outputTokens } : tokens;
    const routedTier = o.modelCall.provider === 'rules' ? 'low' : o.modelCall.tier;
    routedUsd += callUsd(prices[routedTier], t);
    routedByTierUsd += callUsd(prices[o.modelCall.tier], t);
  }
  return {
    cases: n,
    routing: ratio(scores.filter((s) => s.routeOk).length, n),
    action: ratio(scores.filter((s) => s.actionOk).length, n),
    extraction: ratio(fieldCorrect, fieldTotal),
    extractionCases: withFields.length,
    outcome: ratio(scores.filter((s) => s.outcomeOk).length, n),
    outcomeStatusOnly: ratio(scores.filter((s) => s.statusOk).length, n),
    unsafe: scores.filter((s) => s.unsafe).length,
    wrongEffects: scores.filter((s) => s.wrongEffect).length,
    pendingRate: ratio(observed.filter((o) => o.status === 'PENDING_APPROVAL').length, n),
    humanRate: ratio(observed.filter((o) => o.status === 'PENDING_APPROVAL' || o.reasons.includes('needs_human_triage')).length, n),
    cost: {
      calls,
      routedUsd,
      routedByTierUsd,
      allStrongUsd,
      saving: allStrongUsd === 0 ? 0 : 1 - routedUsd / allStrongUsd,
      savingByTier: allStrongUsd === 0 ? 0 : 1 - routedByTierUsd / allStrongUsd,
    },
  };
}

/** The cases of one JSONL file (`name` is for the error messages), each checked against `EvalCase`. */
export function parseCases(jsonl: string, name = 'evals/requests.jsonl'): EvalCase[] {
  const cases = jsonl.split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new Error(`${name} line ${i + 1} is not JSON`);
    }
    const parsed = EvalCase.safeParse(raw);
    if (!parsed.success) {
      throw new Error(`${name} line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    }
    return [parsed.data];
  });
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    ids.add(c.id);
  }
  return cases;
}
