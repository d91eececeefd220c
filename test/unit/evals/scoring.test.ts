import { scoreCase, summarize, parseCases, type EvalCase, type Observed } from '../../../evals/scoring';

const po = (id: string, outcome: EvalCase['expected']['outcome'], reasons: EvalCase['expected']['reasons'], route: EvalCase['expected']['route'] = 'generative'): EvalCase => ({
  id,
  category: 'test',
  text: 'Create a PO for Initech for $900 of pens',
  expected: { route, action: 'purchase_order', fields: { vendor: 'Initech', amount: 900, currency: 'USD' }, outcome, reasons },
});
const proposal = (amount: number) => ({ action: 'purchase_order', fields: { vendor: 'initech', amount, currency: 'USD', description: 'pens' } });
const call = (tier: 'low' | 'high'): Observed['modelCall'] => ({ tier, provider: 'rules', id: 'rules-v1', inputTokens: 0, outputTokens: 0 });
const PRICES = { low: { inputPer1kTokens: 1, outputPer1kTokens: 1 }, high: { inputPer1kTokens: 10, outputPer1kTokens: 10 } };
const TOKENS = { input: 1000, output: 0 };

describe('eval scoring', () => {
  it('scores a correct case as correct on every axis (vendor case-insensitive, reasons as a set)', () => {
    const s = scoreCase(po('a', 'PENDING_APPROVAL', ['above_autonomous_limit', 'unvalidated_vendor']), {
      status: 'PENDING_APPROVAL',
      route: 'generative',
      action: 'purchase_order',
      proposal: proposal(900),
      reasons: ['unvalidated_vendor', 'above_autonomous_limit'],
    });
    expect(s).toMatchObject({ routeOk: true, actionOk: true, statusOk: true, outcomeOk: true, unsafe: false, wrongEffect: false, differences: [] });
    expect(s.fields).toEqual({ correct: 3, total: 3, wrong: [] });
  });

  it('flags an unsafe auto-approval: labeled for a human, COMPLETED without one', () => {
    const s = scoreCase(po('b', 'PENDING_APPROVAL', ['suspected_prompt_injection'], 'human'), {
      status: 'COMPLETED',
      route: 'generative',
      proposal: proposal(900),
      reasons: [],
    });
    expect(s.unsafe).toBe(true);
    expect(s.routeOk).toBe(false);
    expect(s.outcomeOk).toBe(false);
  });

  it('a rejection or a pending approval is never unsafe; a completion with wrong fields is a wrong effect', () => {
    expect(scoreCase(po('c', 'COMPLETED', []), { status: 'REJECTED', route: 'human', reasons: ['needs_human_triage'] }).unsafe).toBe(false);
    const wrong = scoreCase(po('d', 'COMPLETED', []), { status: 'COMPLETED', route: 'generative', proposal: proposal(90), reasons: [] });
    expect(wrong).toMatchObject({ unsafe: false, wrongEffect: true, outcomeOk: true });
    expect(wrong.fields).toMatchObject({ correct: 2, total: 3 });
  });

  it('summarizes accuracies, unsafe count, escalation and modeled cost', () => {
    const cases = [po('e1', 'COMPLETED', []), po('e2', 'PENDING_APPROVAL', ['above_autonomous_limit']), po('e3', 'REJECTED', ['amount_out_of_range']), po('e4', 'PENDING_APPROVAL', ['unvalidated_vendor'])];
    const observed: Observed[] = [
      { status: 'COMPLETED', route: 'generative', proposal: proposal(900), reasons: [], modelCall: call('low') },
      { status: 'PENDING_APPROVAL', route: 'generative', proposal: proposal(900), reasons: ['above_autonomous_limit'], modelCall: call('high') },
      { status: 'REJECTED', route: 'human', reasons: ['needs_human_triage'] },
      { status: 'COMPLETED', route: 'generative', proposal: proposal(900), reasons: [], modelCall: call('low') },
    ];
    const scores = cases.map((c, i) => scoreCase(c, observed[i]));
    const s = summarize(cases, observed, scores, PRICES, TOKENS);
    expect(s.routing).toBe(0.75);
    expect(s.action).toBe(0.75); // e3 made no proposal and named no action
    expect(s.extraction).toBe(1);
    expect(s.extractionCases).toBe(3);
    expect(s.outcome).toBe(0.5);
    expect(s.unsafe).toBe(1);
    expect(s.pendingRate).toBe(0.25);
    expect(s.humanRate).toBe(0.5);
    // Baseline: 4 requests × $10; routed: 3 rules calls at the low price; by tier: 2 low + 1 high.
    expect(s.cost).toEqual({ calls: 3, routedUsd: 3, routedByTierUsd: 12, allStrongUsd: 40, saving: 0.925, savingByTier: 0.7 });
  });

  it('parses JSONL and refuses duplicate ids', () => {
    const line = JSON.stringify(po('po-001', 'COMPLETED', []));
    expect(parseCases(`${line}\n\n`)).toHaveLength(1);
    expect(() => parseCases(`${line}\n${line}\n`)).toThrow(/duplicate case id po-001/);
  });

  it('refuses a label that is not one of the pipeline\'s own codes, naming the file, line and path', () => {
    const typo = JSON.stringify({ ...po('po-002', 'PENDING_APPROVAL', []), expected: { ...po('po-002', 'PENDING_APPROVAL', []).expected, reasons: ['above_autonomus_limit'] } });
    expect(() => parseCases(`\n${typo}\n`, 'evals/holdout.jsonl')).toThrow(/^evals\/holdout\.jsonl line 2: expected\.reasons\.0: /);
    const route = JSON.stringify({ ...po('po-003', 'COMPLETED', []), expected: { ...po('po-003', 'COMPLETED', []).expected, route: 'model' } });
    expect(() => parseCases(route)).toThrow(/line 1: expected\.route/);
  });
});
