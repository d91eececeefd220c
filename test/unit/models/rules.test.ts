import { RulesProvider } from '../../../lambdas/shared/models/rules';
import { Proposal } from '../../../lambdas/shared/schemas/actions';
import { InferenceResult } from '../../../lambdas/shared/schemas/workflow';

const THRESHOLD = 0.95;

async function propose(text: string, action?: 'purchase_order' | 'tier_upgrade' | 'refund') {
  const result = await new RulesProvider().propose({ text, tier: 'low', ...(action ? { action } : {}) });
  // Whatever the rules find, the result honours the port's contract.
  InferenceResult.parse(result);
  return result;
}

describe('RulesProvider: seed phrasings', () => {
  it.each([
    [
      'Create a PO for Alpha Tech Systems for $7,850 of workstations',
      { action: 'purchase_order', fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations' } },
    ],
    [
      'Create a purchase order for Globex Corporation for $1,200 of office chairs',
      { action: 'purchase_order', fields: { vendor: 'Globex Corporation', amount: 1200, currency: 'USD', description: 'office chairs' } },
    ],
    [
      'Upgrade customer C-1001 from basic to standard from 2027-01-01, they outgrew their plan',
      {
        action: 'tier_upgrade',
        fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: 'they outgrew their plan' },
      },
    ],
    [
      'Refund $120 on order O-5001 for customer C-1002, item arrived damaged',
      { action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'item arrived damaged' } },
    ],
  ])('%s', async (text, expected) => {
    const result = await propose(text);
    expect(result.candidate).toEqual(expected);
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
    expect(Proposal.safeParse(result.candidate).success).toBe(true);
    expect(result.model).toEqual({ provider: 'rules', id: 'rules-v1', inputTokens: 0, outputTokens: 0, costUsd: 0 });
  });

  it('uses the action it is given instead of classifying', async () => {
    const result = await propose('Alpha Tech Systems, $7,850 of workstations please', 'purchase_order');
    expect(result.candidate).toEqual({
      action: 'purchase_order',
      fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations please' },
    });
  });
});

describe('RulesProvider: amounts', () => {
  it.each([
    ['$7,850.00', 7850, 'USD'],
    ['7.85k', 7850, 'USD'],
    ['USD 900', 900, 'USD'],
    ['900 USD', 900, 'USD'],
    ['$12.5k', 12500, 'USD'],
    ['EUR 1,250.50', 1250.5, 'EUR'],
    ['€2k', 2000, 'EUR'],
    ['$1.2 million', 1200000, 'USD'],
    ['450 dollars', 450, 'USD'],
  ])('reads %s as %d %s', async (amount, value, currency) => {
    const result = await propose(`Create a PO for Initech for ${amount} of toner cartridges`);
    expect(result.candidate).toEqual({
      action: 'purchase_order',
      fields: { vendor: 'Initech', amount: value, currency, description: 'toner cartridges' },
    });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('does not mistake ids, dates or quantities for amounts', async () => {
    const result = await propose('Refund on order O-5001 for customer C-1002 placed 2026-10-01, 3 items arrived damaged');
    expect(result.candidate).toMatchObject({ action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001' } });
    expect((result.candidate as { fields: Record<string, unknown> }).fields.amount).toBeUndefined();
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });
});

describe('RulesProvider: dates', () => {
  it.each(['2027-01-01', '1 Jan 2027', '1st January 2027', 'January 1, 2027', 'Jan 1 2027'])('reads "%s" as 2027-01-01', async (date) => {
    const result = await propose(`Upgrade customer C-1001 from basic to standard from ${date}, they outgrew their plan`);
    expect(result.candidate).toEqual({
      action: 'tier_upgrade',
      fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: 'they outgrew their plan' },
    });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('does not accept an impossible date', async () => {
    const result = await propose('Upgrade customer C-1001 from basic to standard from 2027-02-30, they outgrew their plan');
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });

  it('takes the reason after "because" when it comes before the date', async () => {
    const result = await propose('Upgrade customer C-1001 from basic to standard because they outgrew their plan, effective January 1, 2027');
    expect(result.candidate).toMatchObject({ fields: { justification: 'they outgrew their plan', effectiveDate: '2027-01-01' } });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('reads "to premium from basic"', async () => {
    const result = await propose('Move customer C-1003 to premium from basic starting 2027-03-01 — they need priority support', 'tier_upgrade');
    expect(result.candidate).toMatchObject({ fields: { currentTier: 'basic', targetTier: 'premium', justification: 'they need priority support' } });
  });
});

describe('RulesProvider: vendors', () => {
  it('matches a seed vendor case-insensitively and returns its canonical name', async () => {
    const result = await propose('Create a PO for GLOBEX corporation for $300 of paper');
    expect(result.candidate).toMatchObject({ fields: { vendor: 'Globex Corporation' } });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('takes an unknown vendor after "from" as written, so policy can flag it', async () => {
    const result = await propose('Buy 20 laptops from Acme Widgets Ltd for $3,000');
    expect(result.candidate).toEqual({
      action: 'purchase_order',
      fields: { vendor: 'Acme Widgets Ltd', amount: 3000, currency: 'USD', description: '20 laptops' },
    });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('takes an unknown vendor after "for" as written', async () => {
    const result = await propose('Create a PO for Stark Industries for $2,000 of arc reactors');
    expect(result.candidate).toMatchObject({ fields: { vendor: 'Stark Industries', description: 'arc reactors' } });
  });

  it('knows the non-validated seed vendor by name', async () => {
    const result = await propose('Create a PO for umbrella supplies for $800 of umbrellas');
    expect(result.candidate).toMatchObject({ fields: { vendor: 'Umbrella Supplies' } });
  });
});

describe('RulesProvider: honest confidence', () => {
  it.each([
    ['two amounts', 'Create a PO for Alpha Tech Systems for $7,850 or $9,000 of workstations', 'purchase_order'],
    ['no vendor', 'Create a PO for $7,850 of workstations', 'purchase_order'],
    ['two vendors', 'Create a PO for Initech and Globex Corporation for $500 of paper', 'purchase_order'],
    ['no description', 'Create a PO for Initech for $500', 'purchase_order'],
    ['no date', 'Upgrade customer C-1001 from basic to standard, they outgrew their plan', 'tier_upgrade'],
    ['two dates', 'Upgrade customer C-1001 from basic to standard from 2027-01-01 or 2027-02-01, they outgrew their plan', 'tier_upgrade'],
    ['no current tier', 'Upgrade customer C-1001 to premium from 2027-01-01, they outgrew their plan', 'tier_upgrade'],
    ['a too-short justification', 'Upgrade customer C-1001 from basic to standard from 2027-01-01, why not', 'tier_upgrade'],
    ['no customer', 'Refund $120 on order O-5001, item arrived damaged', 'refund'],
    ['no reason', 'Refund $120 on order O-5001 for customer C-1002', 'refund'],
    ['two orders', 'Refund $120 on order O-5001 and order O-5002 for customer C-1002, damaged', 'refund'],
  ])('%s → below the threshold, partial candidate', async (_label, text, action) => {
    const result = await propose(text);
    expect(result.confidence).toBeLessThan(THRESHOLD);
    expect(result.confidence).toBeGreaterThan(0);
    expect(result.candidate).toMatchObject({ action });
    expect(Proposal.safeParse(result.candidate).success).toBe(false);
  });

  it('gives no candidate and confidence 0 when no action is recognisable', async () => {
    const result = await propose('Can you tell me what the weather is like?');
    expect(result).toEqual({ confidence: 0, model: expect.objectContaining({ provider: 'rules' }) });
  });

  it('gives no candidate and confidence 0 when the text asks for two actions', async () => {
    const result = await propose('Refund $120 on order O-5001 for customer C-1002 and upgrade customer C-1002 to premium');
    expect(result.candidate).toBeUndefined();
    expect(result.confidence).toBe(0);
  });

  it('scores more missing fields lower', async () => {
    const one = await propose('Refund $120 on order O-5001 for customer C-1002');
    const three = await propose('Refund for customer C-1002', 'refund');
    expect(three.confidence).toBeLessThan(one.confidence);
  });
});
