import { findUngroundedFields } from '../../../lambdas/shared/validation';
import type { Proposal } from '../../../lambdas/shared/schemas/actions';

function po(fields: Partial<Extract<Proposal, { action: 'purchase_order' }>['fields']> = {}): Proposal {
  return { action: 'purchase_order', fields: { vendor: 'Alpha Tech Systems', amount: 7850, currency: 'USD', description: 'workstations', ...fields } };
}
function upgrade(fields: Partial<Extract<Proposal, { action: 'tier_upgrade' }>['fields']> = {}): Proposal {
  return {
    action: 'tier_upgrade',
    fields: { customerId: 'C-1001', currentTier: 'basic', targetTier: 'standard', effectiveDate: '2027-01-01', justification: 'they outgrew their plan', ...fields },
  };
}
function refund(fields: Partial<Extract<Proposal, { action: 'refund' }>['fields']> = {}): Proposal {
  return { action: 'refund', fields: { customerId: 'C-1002', orderId: 'O-5001', amount: 120, reason: 'item arrived damaged', ...fields } };
}

describe('grounding: amounts', () => {
  it.each([
    'Create a PO for Alpha Tech Systems for $7,850 of workstations',
    'Create a PO for Alpha Tech Systems for 7850 of workstations',
    'Create a PO for Alpha Tech Systems for 7,850.00 of workstations',
    'Create a PO for Alpha Tech Systems for USD 7850 of workstations',
    'Create a PO for Alpha Tech Systems for usd7850 of workstations',
    'Create a PO for Alpha Tech Systems for 7.85k of workstations',
    'Create a PO for Alpha Tech Systems for $7.85K of workstations',
    'Create a PO for Alpha Tech Systems for US$ 7,850. Workstations.',
  ])('7850 is grounded in %j', (text) => {
    expect(findUngroundedFields(po(), text)).toEqual([]);
  });

  it('"USD 900" grounds 900', () => {
    expect(findUngroundedFields(po({ amount: 900, vendor: 'Initech', description: 'paper' }), 'PO to Initech for paper, USD 900')).toEqual([]);
  });

  it('"1.2 million" and "$1.2m" ground 1,200,000', () => {
    const p = po({ amount: 1_200_000 });
    expect(findUngroundedFields(p, 'Alpha Tech Systems workstations, 1.2 million')).toEqual([]);
    expect(findUngroundedFields(p, 'Alpha Tech Systems workstations, $1.2m')).toEqual([]);
  });

  it.each([
    ['a different amount', 'Create a PO for Alpha Tech Systems for $7,580 of workstations'],
    ['no amount at all', 'Create a PO for Alpha Tech Systems for workstations'],
    ['digits of an id', 'Alpha Tech Systems workstations, see ticket T-7850'],
    ['digits of a date', 'Alpha Tech Systems workstations from 7850-01-01'],
    ['a fragment of a larger number', 'Alpha Tech Systems workstations for $17,850'],
    ['cents that differ', 'Alpha Tech Systems workstations for $7,850.50'],
  ])('7850 is not grounded by %s', (_name, text) => {
    expect(findUngroundedFields(po(), text)).toEqual(['amount']);
  });

  it('a year in a written date is not an amount', () => {
    expect(findUngroundedFields(po({ amount: 2027 }), 'Alpha Tech Systems workstations due 1 Jan 2027')).toEqual(['amount']);
  });
});

describe('grounding: vendor, currency and description', () => {
  it('vendor matches case-insensitively with collapsed whitespace', () => {
    expect(findUngroundedFields(po({ vendor: 'alpha tech systems' }), 'PO for ALPHA   Tech\nSystems: $7,850 workstations')).toEqual([]);
  });

  it('an invented vendor is not grounded, nor a vendor that is only part of a word', () => {
    expect(findUngroundedFields(po({ vendor: 'Globex Corporation' }), 'PO for Alpha Tech Systems for $7,850 of workstations')).toEqual(['vendor']);
    expect(findUngroundedFields(po({ vendor: 'Tech' }), 'PO for AlphaTechSystems for $7,850 of workstations')).toEqual(['vendor']);
  });

  it('USD needs no grounding when the text names no currency, but not against another one', () => {
    expect(findUngroundedFields(po(), 'PO for Alpha Tech Systems for 7850 of workstations')).toEqual([]);
    expect(findUngroundedFields(po(), 'PO for Alpha Tech Systems for €7850 of workstations')).toEqual(['currency']);
    expect(findUngroundedFields(po({ currency: 'EUR' }), 'PO for Alpha Tech Systems for €7850 of workstations')).toEqual([]);
    expect(findUngroundedFields(po({ currency: 'EUR' }), 'PO for Alpha Tech Systems for $7850 of workstations')).toEqual(['currency']);
    expect(findUngroundedFields(po({ currency: 'SEK' }), 'PO for Alpha Tech Systems for SEK 7850 of workstations')).toEqual([]);
  });

  it('free text is grounded by its significant words, plurals folded', () => {
    const text = 'Create a PO for Alpha Tech Systems for $7,850 of workstations for the design team';
    expect(findUngroundedFields(po({ description: 'Workstation for the design team' }), text)).toEqual([]);
    expect(findUngroundedFields(po({ description: 'gaming laptops' }), text)).toEqual(['description']);
  });
});

describe('grounding: tier upgrade', () => {
  const text = 'Upgrade customer C-1001 from basic to standard from 2027-01-01, they outgrew their plan';

  it('the seed scenario is fully grounded', () => {
    expect(findUngroundedFields(upgrade(), text)).toEqual([]);
  });

  it.each([
    '1 Jan 2027',
    '1st January 2027',
    '1 January, 2027',
    'January 1, 2027',
    'Jan 1st 2027',
    'jan. 1 2027',
    '2027/01/01',
    '2027-1-1',
  ])('the date is grounded when written as %j', (written) => {
    expect(findUngroundedFields(upgrade(), `Upgrade customer C-1001 from basic to standard on ${written}, they outgrew their plan`)).toEqual([]);
  });

  it('another date, or none, is not', () => {
    expect(findUngroundedFields(upgrade(), text.replace('2027-01-01', '2027-02-01'))).toEqual(['effectiveDate']);
    expect(findUngroundedFields(upgrade(), text.replace(' from 2027-01-01', ''))).toEqual(['effectiveDate']);
    expect(findUngroundedFields(upgrade(), text.replace('2027-01-01', 'New Year 2027'))).toEqual(['effectiveDate']);
  });

  it('ids match exactly: not by case, not inside a longer id', () => {
    expect(findUngroundedFields(upgrade(), text.replace('C-1001', 'c-1001'))).toEqual(['customerId']);
    expect(findUngroundedFields(upgrade(), text.replace('C-1001', 'C-10011'))).toEqual(['customerId']);
    expect(findUngroundedFields(upgrade({ customerId: 'C-100' }), text)).toEqual(['customerId']);
  });

  it('tiers by name', () => {
    expect(findUngroundedFields(upgrade({ targetTier: 'premium' }), text)).toEqual(['targetTier']);
    expect(findUngroundedFields(upgrade(), 'Upgrade customer C-1001 to Standard from 2027-01-01, they outgrew their plan')).toEqual(['currentTier']);
  });

  it('an invented justification is not grounded', () => {
    expect(findUngroundedFields(upgrade({ justification: 'approved by the CEO already' }), text)).toEqual(['justification']);
  });
});

describe('grounding: refund', () => {
  const text = 'Refund $120 on order O-5001 for customer C-1002, item arrived damaged';

  it('the seed scenario is fully grounded', () => {
    expect(findUngroundedFields(refund(), text)).toEqual([]);
  });

  it('reports every ungrounded field', () => {
    expect(findUngroundedFields(refund({ orderId: 'O-5002', customerId: 'C-1003', amount: 1200, reason: 'customer asked nicely' }), text)).toEqual([
      'customerId',
      'orderId',
      'amount',
      'reason',
    ]);
  });
});

describe('grounding: a value the text only holds as a piece of something else', () => {
  it.each([
    ['$7 850', 7850],
    ['$7\u00A0850', 7850],
    ['$7\u202F850', 7850],
    ['$7\u2009850', 7850],
    ["$7'850", 7850],
    ['USD 7\u2019850', 7850],
    ['US$ 12 500.00', 12500],
  ])('%j grounds the whole amount, never its first or last group', (written, whole) => {
    const text = `Create a PO for Alpha Tech Systems for ${written} of workstations`;
    expect(findUngroundedFields(po({ amount: whole }), text)).toEqual([]);
    const [first, ...rest] = written.replace(/^\D+/, '').split(/[^\d.]/);
    expect(findUngroundedFields(po({ amount: Number(first) }), text)).toEqual(['amount']);
    expect(findUngroundedFields(po({ amount: Number(rest.join('')) }), text)).toEqual(['amount']);
  });

  it.each(['$7  850', '$7 8500', '$7\u200B850', "$7'85"])('%j grounds neither piece', (written) => {
    const text = `Create a PO for Alpha Tech Systems for ${written} of workstations`;
    const [first, second] = written.replace(/^\$/, '').split(/[^\d]+/).map(Number);
    expect(findUngroundedFields(po({ amount: first }), text)).toEqual(['amount']);
    expect(findUngroundedFields(po({ amount: second }), text)).toEqual(['amount']);
  });

  it('a number next to another that is not one of its groups is still grounded', () => {
    expect(findUngroundedFields(po({ amount: 4800 }), 'Alpha Tech Systems, $4,800 20 workstations')).toEqual([]);
    expect(findUngroundedFields(refund(), 'Refund $120 on order O-5001 for customer C-1002 from 2026-10-01 120 dollars, item arrived damaged')).toEqual([]);
  });

  it.each([
    ['Initech', 'PO for Initech Holdings for $7,850 of workstations'],
    ['Initech', 'PO for Initech Inc. for $7,850 of workstations'],
    ['Globex Corporation', 'Buy workstations from Globex Corporation Europe for $7,850'],
    ['Alpha Tech', 'PO for Alpha Tech Systems for $7,850 of workstations'],
  ])('%j is not grounded by a text that only writes it as the start of a longer name', (vendor, text) => {
    expect(findUngroundedFields(po({ vendor }), text)).toEqual(['vendor']);
  });

  it('the longer name itself is grounded, and a seed name written as itself anywhere is', () => {
    expect(findUngroundedFields(po({ vendor: 'Initech Holdings' }), 'PO for Initech Holdings for $7,850 of workstations')).toEqual([]);
    expect(findUngroundedFields(po({ vendor: 'Initech' }), 'PO for Initech Holdings for $7,850 of workstations; Initech delivers')).toEqual([]);
    for (const text of ['PO for Initech. $7,850 of workstations', 'PO for Initech USD 7,850 of workstations', 'PO for Initech\nPlease: $7,850 of workstations']) {
      expect({ text, ungrounded: findUngroundedFields(po({ vendor: 'Initech' }), text) }).toEqual({ text, ungrounded: [] });
    }
  });
});
