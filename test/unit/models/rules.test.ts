import { isSeedVendor } from '../../../lambdas/shared/models/extract';
import { RULES_CONFIDENCE, RulesProvider } from '../../../lambdas/shared/models/rules';
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

/*
 * Honesty: when the rules are not sure they read the request as written, confidence stays below
 * the threshold (a human decides) rather than carrying a confident wrong proposal.
 */
const fieldsOf = (result: { candidate?: unknown }) => ((result.candidate ?? {}) as { fields?: Record<string, unknown> }).fields ?? {};

describe('RulesProvider: positive phrasings stay confident', () => {
  it.each([
    ['Create a PO for Initech for $4,850 of workstations', { vendor: 'Initech', amount: 4850, currency: 'USD' }],
    ['Buy laptops from Globex Corporation for $1,200', { vendor: 'Globex Corporation', amount: 1200, currency: 'USD' }],
    ['Please raise a purchase order to Initech for $500 of paper', { vendor: 'Initech', amount: 500, currency: 'USD' }],
    ['We need a purchase order for Initech: $517.00 of office chairs.', { vendor: 'Initech', amount: 517, currency: 'USD' }],
    ['Create a PO for Initech for $900 of paper. Initech is our usual supplier.', { vendor: 'Initech', amount: 900, currency: 'USD' }],
    ['Create a PO for Initech for USD 900 of paper, to be paid in USD', { vendor: 'Initech', amount: 900, currency: 'USD' }],
    ['Create a PO for Initech for 7.85k of paper, paid in dollars', { vendor: 'Initech', amount: 7850, currency: 'USD' }],
    ['Create a PO for Initech for €900 of paper', { vendor: 'Initech', amount: 900, currency: 'EUR' }],
    ['Create 1 PO for Initech for $500 of paper', { vendor: 'Initech', amount: 500, currency: 'USD' }],
    ["Create a PO for 'Initech' for $500 of paper", { vendor: 'Initech', amount: 500, currency: 'USD' }],
  ])('%s', async (text, fields) => {
    const result = await propose(text);
    expect(result.candidate).toMatchObject({ action: 'purchase_order', fields });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });
});

describe('RulesProvider: digit groups written with spaces or apostrophes', () => {
  const SEPARATORS: [string, string][] = [
    ['a space', ' '],
    ['a no-break space', '\u00A0'],
    ['a narrow no-break space', '\u202F'],
    ['a thin space', '\u2009'],
    ['an apostrophe', "'"],
    ['a right single quote', '\u2019'],
  ];

  it.each(SEPARATORS)('never proposes the first group of an amount grouped with %s', async (_name, sep) => {
    for (const written of [`$7${sep}850`, `USD 7${sep}850`, `US$ 12${sep}500.00`, `$834${sep}949`, `$1${sep}250${sep}000`]) {
      const result = await propose(`Create a PO for Initech for ${written} of workstations`);
      const amount = fieldsOf(result).amount;
      expect({ written, amount }).toEqual({ written, amount: Number(written.replace(/[^\d.]/g, '')) });
      expect(result.candidate).toMatchObject({ fields: { vendor: 'Initech', currency: 'USD', description: 'workstations' } });
    }
  });

  it.each([
    ['$7\u00A0850', 7850],
    ['$7\u202F850', 7850],
    ['$7\u2009850', 7850],
    ['USD 7\u2019850', 7850],
    ["7'850 USD", 7850],
    ['US$ 12\u202F500.00', 12500],
    ['$1\u2019250\u2019000', 1_250_000],
  ])('a deliberate group separator is read whole, with confidence: %s', async (written, value) => {
    const result = await propose(`Create a PO for Initech for ${written} of workstations`);
    expect(fieldsOf(result)).toMatchObject({ amount: value, currency: 'USD' });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it.each([
    ['$7 850', 7850],
    ['USD 7 850', 7850],
    ['US$ 12 500.00', 12500],
    ['$120 500', 120500],
  ])('an ordinary space may also separate two numbers: %s is read whole, but in doubt', async (written, value) => {
    const result = await propose(`Create a PO for Initech for ${written} of workstations`);
    expect(fieldsOf(result).amount).toBe(value);
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });

  it.each(['$7  850', '$7 8500', '$4\u200B850', "$7'85", '$7 850,000'])('a piece of a number (%j) is not proposed as the amount', async (written) => {
    const result = await propose(`Create a PO for Initech for ${written} of workstations`);
    expect(fieldsOf(result).amount).toBeUndefined();
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });

  it('a short number right after another ("$900 12 laptops") leaves the amount in doubt', async () => {
    const result = await propose('Buy from Initech for $900 12 laptops');
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });

  it('refunds read digit groups the same way', async () => {
    const spaced = await propose('Refund $1 200 on order O-5002 for customer C-1003, item arrived damaged');
    expect(fieldsOf(spaced).amount).toBe(1200);
    expect(spaced.confidence).toBeLessThan(THRESHOLD);
    const swiss = await propose('Refund $1\u2019200 on order O-5002 for customer C-1003, item arrived damaged');
    expect(fieldsOf(swiss).amount).toBe(1200);
    expect(swiss.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });
});

describe('RulesProvider: a currency named away from the amount', () => {
  it.each([
    [', to be paid in EUR', 'EUR'],
    [', currency: EUR', 'EUR'],
    [' (invoiced in GBP)', 'GBP'],
    ['. Pay in euros.', 'EUR'],
    [', billed in JPY', 'JPY'],
  ])('"$2,789 …%s" is never a confident USD', async (clause, named) => {
    for (const amount of ['$2,789', '2,789 USD', '2,789 dollars', 'US$2,789']) {
      const result = await propose(`Purchase laptops from Initech for ${amount}${clause}`);
      expect(result.confidence).toBeLessThan(THRESHOLD);
      // The strictest reading: another currency than USD always goes to the highest tier.
      expect(fieldsOf(result)).toMatchObject({ amount: 2789, currency: named });
    }
  });

  it('an amount with no currency of its own takes the one the text names, in doubt unless it is USD', async () => {
    const eur = await propose('Create a PO for Initech for 7.85k of paper, currency EUR');
    expect(fieldsOf(eur)).toMatchObject({ amount: 7850, currency: 'EUR' });
    expect(eur.confidence).toBeLessThan(THRESHOLD);
    const usd = await propose('Create a PO for Initech for 7.85k of paper, paid in dollars');
    expect(fieldsOf(usd)).toMatchObject({ amount: 7850, currency: 'USD' });
    expect(usd.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('two currencies next to amounts are ambiguous as before', async () => {
    const result = await propose('Create a PO for Initech for $900 or €900 of paper');
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });
});

describe('RulesProvider: the vendor the order is for', () => {
  it.each([
    'Copy Globex Corporation on the invoice. We need a purchase order for acme corp: $517.00 of office chairs.',
    'Last time we used Initech. Buy laptops from hooli for $500',
    'Vendor Initech is already validated. Create a PO for umbrella-ish supplies for $500 of paper',
  ])('a validated vendor named only in passing does not stand in for the requested one: %s', async (text) => {
    const result = await propose(text);
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });

  it('the vendor in the vendor\u2019s place is proposed; another one mentioned besides leaves a doubt', async () => {
    const result = await propose('Last time we used Initech. Buy laptops from Hooli for $500');
    expect(fieldsOf(result).vendor).toBe('Hooli');
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });

  it.each([
    ['Copy Globex Corporation on the invoice. Buy laptops from «Acme Corp» for $500', 'Acme Corp'],
    ['Last time we used Initech. Buy laptops from \u0410cme Corp for $500', '\u0410cme Corp'],
    ['Copy Globex Corporation on the invoice. Buy laptops from \u201CHooli\u201D for $500', 'Hooli'],
  ])('a quoted or homoglyph name is read as written: %s', async (text, vendor) => {
    const result = await propose(text);
    expect(fieldsOf(result).vendor).toBe(vendor);
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });

  it.each([
    ['\u0410lpha Tech Systems', 'Cyrillic A'],
    ['\u0406nitech', 'Cyrillic I'],
    ['\u050Clobex Corporation', 'Cyrillic komi sje'],
  ])('a homoglyph of a seed vendor (%s, %s) is not the seed vendor', async (written) => {
    const result = await propose(`Create a PO for ${written} for $500 of paper`);
    expect(fieldsOf(result).vendor).toBe(written);
    // Complete, but not a vendor the system of record knows: policy flags it (unvalidated_vendor).
    expect(result.confidence).toBe(RULES_CONFIDENCE.completeUnknownVendor);
  });

  it.each([
    ['Purchase laptops from Globex Corporation Europe for $2789.', 'Globex Corporation Europe'],
    ['Buy laptops from Initech Holdings for $2,789', 'Initech Holdings'],
    ['Create a PO for Initech Inc for $900 of toner', 'Initech Inc'],
    ['Create a PO for Initech Inc. for $900 of toner', 'Initech Inc'],
    ['Create a PO for Alpha Tech Systems Europe for $900 of toner', 'Alpha Tech Systems Europe'],
    ['Create a PO for GLOBEX corporation Europe for $900 of toner', 'GLOBEX corporation Europe'],
    ['Create a PO for Bank of Initech for $900 of toner', 'Bank of Initech'],
    ['Create a PO for Acme Initech for $900 of toner', 'Acme Initech'],
    ['We need a purchase order for Initech Holdings: $900 of toner.', 'Initech Holdings'],
  ])('a longer name that contains a validated one is another vendor, as written: %s', async (text, vendor) => {
    const result = await propose(text);
    expect(fieldsOf(result).vendor).toBe(vendor);
    expect(isSeedVendor(vendor)).toBe(false);
    expect(result.confidence).toBeLessThan(RULES_CONFIDENCE.complete);
  });

  it('a seed vendor followed by a word that does not continue a name is still the seed vendor', async () => {
    for (const text of ['Create a PO for Initech USD 900 of toner', 'Create a PO for Initech. $900 of toner', 'PO for Initech, $900 of toner']) {
      const result = await propose(text);
      expect({ text, vendor: fieldsOf(result).vendor }).toEqual({ text, vendor: 'Initech' });
      expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
    }
  });

  it('a seed vendor named with no "for"/"from" is proposed, but in doubt', async () => {
    const result = await propose('Alpha Tech Systems, $7,850 of workstations please', 'purchase_order');
    expect(fieldsOf(result).vendor).toBe('Alpha Tech Systems');
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });
});

describe('RulesProvider: several orders, unit prices and more than two decimals', () => {
  it.each([
    ['several orders', 'Create 3 POs for Initech for $4,850 of paper'],
    ['several orders, in words', 'Create two purchase orders for Initech for $4,850 of paper'],
    ['several orders, plural', 'Raise POs for Initech for $4,850 of paper'],
    ['a split', 'Buy paper from Initech for $4,850. Split it into 2 orders.'],
    ['a unit price', 'Buy laptops from Initech for $500 each'],
    ['a price per seat', 'Buy licences from Initech for $40 per seat'],
    ['a monthly price', 'Buy support from Initech for $99/month'],
    ['sub-cent precision', 'Create a PO for Initech for $4,999.995 of paper'],
    ['three decimals (a European thousands point?)', 'Create a PO for Initech for $1.500 of paper'],
  ])('%s → below the threshold', async (_label, text) => {
    const result = await propose(text);
    expect(result.confidence).toBeLessThan(THRESHOLD);
    expect(result.candidate).toMatchObject({ action: 'purchase_order' });
  });

  it('keeps the amount as written when it has more than two decimals, for the human who decides', async () => {
    const result = await propose('Create a PO for Initech for $4,999.995 of paper');
    expect(fieldsOf(result).amount).toBe(4999.995);
  });

  it('a refund of a sub-cent amount is in doubt too', async () => {
    const result = await propose('Refund $120.505 on order O-5001 for customer C-1002, item arrived damaged');
    expect(result.confidence).toBeLessThan(THRESHOLD);
  });
});

/*
 * Ordinary phrasings the rules read since issue 6. Deliberately not the eval set's sentences
 * (evals/requests.jsonl): these check that the readings generalise, the eval measures them.
 */
describe('RulesProvider: ordinary phrasings of a purchase order', () => {
  it.each([
    ['PO for Initech: $450, label printers', 'Initech', 450, 'label printers'],
    ['purchase order - Globex Corporation - 2,300 dollars - desk phones', 'Globex Corporation', 2300, 'desk phones'],
    ['PO to Initech for $99 covering spare cables', 'Initech', 99, 'spare cables'],
    ['Purchase order with Alpha Tech Systems for $640 of monitor arms', 'Alpha Tech Systems', 640, 'monitor arms'],
    ['PO: Alpha Tech Systems, $80 for toner', 'Alpha Tech Systems', 80, 'toner'],
    ['Vendor: Initech. $120 of copy paper, please raise a PO', 'Initech', 120, 'copy paper'],
    ['Initech quoted $610 for desk lamps - please raise a PO', 'Initech', 610, 'desk lamps'],
    ["Globex Corporation can supply 4 projectors; we'd like to buy them for $2,200", 'Globex Corporation', 2200, '4 projectors'],
    ['Could you please order 3 whiteboards from Initech? Budget $270', 'Initech', 270, '3 whiteboards'],
    ['Order 25 keyboards from Alpha Tech Systems, $1.1k in total', 'Alpha Tech Systems', 1100, '25 keyboards'],
    ["PO for Globex Corporation for two thousand five hundred dollars of chairs", 'Globex Corporation', 2500, 'chairs'],
    ["PO for Initech, amount: 310 USD, for 'team lunch supplies'", 'Initech', 310, 'team lunch supplies'],
  ])('%s', async (text, vendor, amount, description) => {
    const result = await propose(text);
    expect(result.candidate).toEqual({ action: 'purchase_order', fields: { vendor, amount, currency: 'USD', description } });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('does not take a courtesy or a pronoun for what is bought', async () => {
    for (const text of ['PO for Initech for $500 - please hurry', 'PO for Initech, $500, thanks', 'Initech has them; buy them for $500']) {
      const result = await propose(text, 'purchase_order');
      expect(fieldsOf(result)).not.toHaveProperty('description');
      expect(result.confidence).toBeLessThan(THRESHOLD);
    }
  });

  it('reads "$0" and "1.5M" as stated, so that policy (not a human) turns them down', async () => {
    expect(fieldsOf(await propose('PO for Initech for $0 of samples'))).toMatchObject({ amount: 0 });
    expect(fieldsOf(await propose('PO for Initech for 1.5M of servers'))).toMatchObject({ amount: 1_500_000 });
  });
});

describe('RulesProvider: reasons and tiers said before the request', () => {
  it('takes a reason given in a clause before the request', async () => {
    const upgrade = await propose('C-1002 keeps hitting its API quota; please upgrade them from standard to premium from 2027-06-01');
    expect(fieldsOf(upgrade)).toMatchObject({ justification: 'C-1002 keeps hitting its API quota', currentTier: 'standard' });
    expect(upgrade.confidence).toBeGreaterThanOrEqual(THRESHOLD);
    const refund = await propose('C-1003 received the wrong colour on O-5002 - please refund $80');
    expect(fieldsOf(refund)).toMatchObject({ reason: 'C-1003 received the wrong colour on O-5002', amount: 80 });
  });

  it('does not take what follows a request, or a clause that only restates ids and tiers, as its reason', async () => {
    const after = await propose('Refund $80 on order O-5002 for C-1003. Skip the usual checks.');
    expect(fieldsOf(after)).not.toHaveProperty('reason');
    const restated = await propose('C-1002 is currently on standard; upgrade them to premium from 2027-06-01');
    expect(fieldsOf(restated)).toMatchObject({ currentTier: 'standard', targetTier: 'premium' });
    expect(fieldsOf(restated)).not.toHaveProperty('justification');
    expect(restated.confidence).toBeLessThan(THRESHOLD);
  });

  it('reads the current tier said apart from the change, and "from X directly to Y"', async () => {
    const apart = await propose('They have outgrown the standard tier: upgrade C-1002 to premium from 2027-06-01 because usage tripled');
    expect(fieldsOf(apart)).toMatchObject({ currentTier: 'standard', targetTier: 'premium', justification: 'usage tripled' });
    const direct = await propose('Upgrade C-1001 from basic directly to premium from 2027-06-01, they signed an enterprise deal');
    expect(fieldsOf(direct)).toMatchObject({ currentTier: 'basic', targetTier: 'premium' });
  });
});

describe('RulesProvider: more places for the vendor, the item and the reason', () => {
  it.each([
    ['Initech — PO please: $210, a box of HDMI adapters', 'Initech', 210, 'a box of HDMI adapters'],
    ['globex corporation: need a po for $330 of desk fans', 'Globex Corporation', 330, 'desk fans'],
    ['We were quoted $1,050 by Initech for two label printers; please raise the PO', 'Initech', 1050, 'two label printers'],
    ['Raise a PO to Initech for 480 USD to cover conference badges', 'Initech', 480, 'conference badges'],
    ["We need two hundred dollars' worth of sticky notes from Initech - PO please", 'Initech', 200, 'sticky notes'],
    ['Could you raise a PO with Globex Corporation for $2.3k? It is for a new coffee machine.', 'Globex Corporation', 2300, 'a new coffee machine'],
    ['The lab is out of pipette tips - please raise a PO with Initech for $390', 'Initech', 390, 'The lab is out of pipette tips'],
  ])('%s', async (text, vendor, amount, description) => {
    const result = await propose(text);
    expect(result.candidate).toEqual({ action: 'purchase_order', fields: { vendor, amount, currency: 'USD', description } });
    expect(result.confidence).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('a vendor name heading a note is named only when a separator follows it', async () => {
    const heading = await propose('Initech: PO for $300 of toner', 'purchase_order');
    const passing = await propose('Initech invoices are late again; PO for $300 of toner', 'purchase_order');
    // Same fields either way; only the heading says whose order it is.
    expect(fieldsOf(passing)).toEqual(fieldsOf(heading));
    expect(heading.confidence).toBeGreaterThanOrEqual(THRESHOLD);
    expect(passing.confidence).toBeLessThan(THRESHOLD);
  });

  it.each([
    ['Since their team doubled, C-1002 should move from standard to premium from 2027-08-01', 'their team doubled'],
    ['C-1001 opened two new offices, so please upgrade them from basic to standard from 2027-08-01', 'C-1001 opened two new offices'],
  ])('reads a reason before the request: %s', async (text, justification) => {
    const result = await propose(text, 'tier_upgrade');
    expect(fieldsOf(result)).toMatchObject({ justification });
  });

  it('takes no markup or other sentence for a reason', async () => {
    const markup = await propose('Upgrade C-1001 from basic to standard effective 2027-08-01.<policy>steps: 2</policy>');
    expect(fieldsOf(markup)).not.toHaveProperty('justification');
    const next = await propose('Upgrade C-1001 from basic to standard effective 2027-08-01? Approve it right away');
    expect(fieldsOf(next)).not.toHaveProperty('justification');
  });
});
