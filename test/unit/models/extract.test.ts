import { fieldMetaOf, partyName, type FieldMeta } from '../../../lambdas/shared/catalog';
import { catalogParty, canonicalVendor, findAmounts, findCurrencies, findDates, findVendors, isSeedVendor } from '../../../lambdas/shared/models/extract';
import { SEED } from '../../../lambdas/shared/tables';
import { findRecurrence, MAX_AMOUNT_CANDIDATES, readAmounts } from '../../../lambdas/shared/text/values';
import { vendorKey } from '../../../lambdas/shared/vendors';

const values = <T>(matches: readonly { value: T }[]) => matches.map((m) => m.value);

describe('findAmounts (shared with the grounding check)', () => {
  it.each([
    ['$7,850', 7850, 'USD'],
    ['US$ 7,850', 7850, 'USD'],
    ['usd7850', 7850, 'USD'],
    ['900 USD', 900, 'USD'],
    ['900usd', 900, 'USD'],
    ['450 dollars', 450, 'USD'],
    ['€2k', 2000, 'EUR'],
    ['£49,000', 49000, 'GBP'],
    ['49,000 pounds', 49000, 'GBP'],
    ['C$900', 900, 'CAD'],
    ['A$900', 900, 'AUD'],
    ['¥120,000', 120000, 'JPY'],
    ['SEK 7850', 7850, 'SEK'],
    ['$1.2m', 1_200_000, 'USD'],
    ['$1.2 million', 1_200_000, 'USD'],
  ])('%s → %d %s', (written, value, currency) => {
    expect(findAmounts(`pay ${written} today`)).toEqual([expect.objectContaining({ value, currency })]);
  });

  it('reads "7.85k" exactly (through the decimal literal), with no currency', () => {
    expect(findAmounts('about 7.85k of kit')).toEqual([{ start: 6, end: 11, value: 7850 }]);
  });

  it('keeps every decimal as written: the recogniser does not round', () => {
    expect(values(findAmounts('$12.345'))).toEqual([12.345]);
  });

  it('money only by default; bare numbers on request (the grounding check asks for them)', () => {
    const text = 'Buy 20 laptops from Initech for $3,000, reference 7850';
    expect(values(findAmounts(text))).toEqual([3000]);
    expect(values(findAmounts(text, { bareNumbers: true }))).toEqual([20, 3000, 7850]);
  });

  it.each([
    ['an id', 'order O-5001 and ticket T-7850'],
    ['a date', 'due 1 Jan 2027, or 2027-01-01'],
    ['an impossible date', 'due 30 Feb 2027'],
    ['a number glued to letters', 'model X7850 and 5km'],
    ['a number running on into digits', '7850-01 and 1.2.3'],
    ['a bare zero', 'room 0 and 0.00'],
  ])('finds no amount in %s', (_name, text) => {
    expect(findAmounts(text, { bareNumbers: true })).toEqual([]);
  });

  it('reads "$0" as a stated amount of zero, which policy then refuses (not as no amount at all)', () => {
    expect(findAmounts('PO for $0 of sample kits')).toEqual([{ start: 7, end: 9, value: 0, currency: 'USD' }]);
  });

  it.each([
    ['four thousand dollars', 4000, 'USD'],
    ['a thousand USD', 1000, 'USD'],
    ['twenty-five hundred euros', 2500, 'EUR'],
    ['one hundred and fifty dollars', 150, 'USD'],
    ['forty-two USD', 42, 'USD'],
    ['three million two hundred thousand dollars', 3_200_000, 'USD'],
  ])('reads an amount written in words: %s', (written, value, currency) => {
    expect(findAmounts(`Raise a PO for ${written} of racks`)).toEqual([expect.objectContaining({ value, currency })]);
  });

  it.each(['two three dollars', 'thousand million dollars', 'two purchase orders', 'seven laptops'])(
    'number words that make no amount of money: %s',
    (text) => {
      expect(findAmounts(text)).toEqual([]);
    },
  );

  it('"1.2M" and "3bn" are money; a lower-case "2m" may be metres, so only with a currency', () => {
    expect(values(findAmounts('for 1.2M of construction, or 3bn'))).toEqual([1_200_000, 3_000_000_000]);
    expect(findAmounts('Buy 2m of cable')).toEqual([]);
    expect(values(findAmounts('for $2m of cable'))).toEqual([2_000_000]);
  });
});

describe('findDates (shared with the grounding check)', () => {
  it.each(['2027-01-01', '2027/1/1', '2027-1-01', '1 Jan 2027', '1st of January, 2027', 'January 1, 2027', 'jan. 1st 2027', 'JAN 1 2027'])(
    '%s → 2027-01-01',
    (written) => {
      expect(values(findDates(`from ${written}, please`))).toEqual(['2027-01-01']);
    },
  );

  it('drops impossible dates', () => {
    expect(findDates('2027-02-30 or 31 April 2027')).toEqual([]);
  });
});

describe('findCurrencies', () => {
  it('names currencies by code, symbol or word; "$" inside "C$" is not USD', () => {
    expect(values(findCurrencies('C$ 5, €5, 5 pounds, 5 chf'))).toEqual(['CAD', 'EUR', 'GBP', 'CHF']);
    expect(values(findCurrencies('usd7850 and US$5'))).toEqual(['USD', 'USD']);
  });

  it('does not see a code inside a word', () => {
    expect(findCurrencies('audit the cadence of usda reports')).toEqual([]);
  });
});

describe('vendors compare with the one vendor key', () => {
  it('isSeedVendor agrees with vendorKey (case, spacing, compatibility forms)', () => {
    expect(isSeedVendor('Alpha Tech Systems')).toBe(true);
    expect(isSeedVendor('  alpha   TECH systems ')).toBe(true);
    expect(isSeedVendor('Ａｌｐｈａ Tech Systems')).toBe(true);
    expect(isSeedVendor('Alpha Tech')).toBe(false);
    expect(vendorKey('  alpha   TECH systems ')).toBe(vendorKey('Alpha Tech Systems'));
  });

  it('canonicalVendor names the seed vendor a whole phrase is, however it is spaced or cased', () => {
    expect(canonicalVendor('GLOBEX   corporation')).toBe('Globex Corporation');
    expect(canonicalVendor(' initech ')).toBe('Initech');
    // A longer name that contains a seed vendor's is another company.
    expect(canonicalVendor('GLOBEX   corporation Ltd')).toBeUndefined();
    expect(canonicalVendor('Initech Holdings')).toBeUndefined();
    expect(canonicalVendor('Initechs')).toBeUndefined();
  });

  it('findVendors reads a seed vendor across a line break, and one vendor written twice is one vendor', () => {
    expect(values(findVendors('PO for Alpha Tech\nSystems, from ALPHA TECH SYSTEMS'))).toEqual(['Alpha Tech Systems']);
    expect(values(findVendors('from Acme Widgets and for ACME WIDGETS'))).toEqual(['Acme Widgets']);
  });
});

describe('findVendors and amounts', () => {
  it.each(['US$ 900', 'C$900', 'A$ 900'])('"for %s" names an amount, not a vendor', (amount) => {
    expect(values(findVendors(`Create a PO for Initech for ${amount} of paper`))).toEqual(['Initech']);
  });
});

describe('findAmounts: digit groups, pieces of numbers and precision', () => {
  const read = (text: string) => findAmounts(text, { bareNumbers: true }).map(({ value, doubt }) => (doubt ? { value, doubt } : { value }));

  it.each([
    ['$7\u00A0850', 7850],
    ['$7\u202F850', 7850],
    ['$7\u2009850', 7850],
    ['$7\u2007850', 7850],
    ["7'850", 7850],
    ['USD 7\u2019850', 7850],
    ['$1\u2019250\u2019000.50', 1_250_000.5],
  ])('a deliberate group separator: %j → %d, no doubt', (written, value) => {
    expect(read(`pay ${written} today`)).toEqual([{ value }]);
  });

  it.each([
    ['$7 850', 7850],
    ['US$ 12 500.00', 12500],
    ['7 850 USD', 7850],
    ["7 850'000", 7_850_000],
  ])('ordinary spaces (or mixed separators): %j → %d whole, in doubt', (written, value) => {
    expect(read(`pay ${written} today`)).toEqual([{ value, doubt: 'grouping' }]);
  });

  it.each([
    ['a double space', '$7  850', [7, 850]],
    ['a broken group', '$7 8500', [7, 8500]],
    ['an invisible character', '$4\u200B850', [4, 850]],
    ['an apostrophe before two digits', "$7'85", [7, 85]],
    ['a comma group after a space', '7 850,000', [7, 850_000]],
  ])('%s: both pieces are fragments, neither is a value of its own', (_name, written, values) => {
    expect(read(`pay ${written} today`)).toEqual(values.map((value) => ({ value, doubt: 'fragment' })));
  });

  it.each([
    ['$900 12 laptops', [{ value: 900, doubt: 'grouping' }, { value: 12, doubt: 'grouping' }]],
    ['$4,800 20 monitors', [{ value: 4800 }, { value: 20 }]],
    ['$7850 12 laptops', [{ value: 7850 }, { value: 12 }]],
    ['$900 on 2027-01-01', [{ value: 900 }]],
    ['from 2027-01-01 500 dollars', [{ value: 500 }]],
    ['order 5001 120 dollars', [{ value: 5001 }, { value: 120 }]],
    ['customer C-1002 120 dollars', [{ value: 120 }]],
    ['Buy 20 laptops for $3,000', [{ value: 20 }, { value: 3000 }]],
  ])('numbers side by side that are not one: %j', (text, expected) => {
    expect(read(text)).toEqual(expected);
  });

  it.each([
    ['$4,999.995', 4999.995],
    ['$12.345', 12.345],
    ['$1.500', 1.5],
    ['$1.234567k', 1234.567],
  ])('more than two decimals: %j is in doubt', (written, value) => {
    expect(read(written)).toEqual([{ value, doubt: 'precision' }]);
  });

  it.each(['$7,850.00', '7.85k', '$1.2345k', '$1.2m', '$49,999.99'])('two decimals, or a multiplier that makes cents: %j is plain', (written) => {
    expect(read(written)[0]?.doubt).toBeUndefined();
  });
});

describe('findVendors: which vendor is named in the vendor\u2019s place', () => {
  const read = (text: string) => findVendors(text).map(({ value, named }) => ({ value, named }));

  it('a seed vendor after "for", "from" or "PO to" is named; one in passing is not', () => {
    expect(read('Copy Globex Corporation on the invoice. Create a PO for Initech for $900 of paper')).toEqual([
      { value: 'Globex Corporation', named: false },
      { value: 'Initech', named: true },
    ]);
    expect(read('Please raise a purchase order to Initech for $500')).toEqual([{ value: 'Initech', named: true }]);
    expect(read('buy paper FROM INITECH')).toEqual([{ value: 'Initech', named: true }]);
    expect(read('Last time we used Initech.')).toEqual([{ value: 'Initech', named: false }]);
  });

  it('one vendor named in place and mentioned again is one named vendor', () => {
    expect(read('Create a PO for Initech for $900. Initech is our usual supplier.')).toEqual([{ value: 'Initech', named: true }]);
  });

  it('a name in quotes or in another script is taken as written', () => {
    expect(read('Buy laptops from «Acme Corp» for $500')).toEqual([{ value: 'Acme Corp', named: true }]);
    expect(read('Buy laptops from \u0410cme Corp for $500')).toEqual([{ value: '\u0410cme Corp', named: true }]);
    expect(read('Create a PO for \u0410lpha Tech Systems for $500')).toEqual([{ value: '\u0410lpha Tech Systems', named: true }]);
  });

  it.each([
    ['from Initech Holdings for $900', 'Initech Holdings'],
    ['from Initech Inc. We need it soon', 'Initech Inc'],
    ['from Globex Corporation Europe for $900', 'Globex Corporation Europe'],
    ['from GLOBEX corporation Europe for $900', 'GLOBEX corporation Europe'],
    ['for Acme Initech for $900', 'Acme Initech'],
    ['for Bank of Initech for $900', 'Bank of Initech'],
    ['Last time we used Initech Holdings.', 'Initech Holdings'],
  ])('a longer name around a seed vendor\u2019s is another vendor: %s', (text, value) => {
    expect(values(findVendors(text))).toEqual([value]);
  });

  it('a seed name ends at punctuation, a line break, or a word that does not continue a name', () => {
    for (const text of ['from Initech. Thanks', 'from Initech, for $900', 'from Initech\nPlease hurry', 'from Initech USD 900', 'from Initech PO 12', 'from Initech I think']) {
      expect({ text, vendors: values(findVendors(text)) }).toEqual({ text, vendors: ['Initech'] });
    }
  });

  it('two vendors in the one place are both named (ambiguous to the rules)', () => {
    expect(read('Create a PO for Initech and Globex Corporation for $500 of paper')).toEqual([
      { value: 'Initech', named: true },
      { value: 'Globex Corporation', named: true },
    ]);
  });
});

describe("a party name field's own known names and words", () => {
  // A team's action with parties of its own: nothing about them is in core code.
  const carrier = fieldMetaOf(
    partyName({ known: ['Swift Freight', 'Blue Lorry Ltd'], nouns: ['carrier', 'haulier'], joinedBy: ['shipment', 'shipments'], headedBy: ['shipment'] }),
  ) as Extract<FieldMeta, { kind: 'partyName' }>;
  const read = (text: string, meta = carrier) => findVendors(text, meta).map(({ value, named }) => ({ value, named }));

  it('reads its own known parties in their canonical spelling, and not the catalog’s', () => {
    expect(read('pallets going out, blue lorry ltd has the slot')).toEqual([{ value: 'Blue Lorry Ltd', named: false }]);
    expect(isSeedVendor('swift  FREIGHT', carrier.known)).toBe(true);
    expect(isSeedVendor('Initech', carrier.known)).toBe(false);
    expect(read('Last time we used Initech.')).toEqual([]);
  });

  it('puts a name in the party’s place after its own words: nouns, "<word> to/with", "<word>: "', () => {
    expect(read('Carrier: Swift Freight, 12 pallets')).toEqual([{ value: 'Swift Freight', named: true }]);
    expect(read('the haulier is Northway Transport')).toEqual([{ value: 'Northway Transport', named: true }]);
    expect(read('Book the shipment with Northway Transport on Friday')).toEqual([{ value: 'Northway Transport', named: true }]);
    expect(read('SHIPMENT: Northway Transport')).toEqual([{ value: 'Northway Transport', named: true }]);
    // The catalog's words are not its words: "PO to X" puts nothing in a carrier's place.
    expect(read('Send the PO to Northway Transport')).toEqual([]);
  });

  it('the catalog’s party reads the purchase order’s vendors and words, as before', () => {
    expect(catalogParty().known).toEqual(SEED.vendors.map((vendor) => vendor.name));
    expect(read('Purchase order Globex Corporation, 4 desks', catalogParty())).toEqual([{ value: 'Globex Corporation', named: true }]);
    expect(read('orders with Hooli Inc are late', catalogParty())).toEqual([{ value: 'Hooli Inc', named: true }]);
    expect(read('Supplier is Hooli Inc', catalogParty())).toEqual([{ value: 'Hooli Inc', named: true }]);
    expect(read('Send the shipment with Northway Transport', catalogParty())).toEqual([]);
  });
});

describe('readAmounts: a bound on the work, and what a bounded reading says (issue 12)', () => {
  const numbers = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1} €`).join(', ');

  it(`reads up to MAX_AMOUNT_CANDIDATES (${MAX_AMOUNT_CANDIDATES}) candidates and says when the text held more`, () => {
    expect(readAmounts(numbers(MAX_AMOUNT_CANDIDATES), { bareNumbers: true })).toMatchObject({ overflow: false });
    expect(readAmounts(numbers(MAX_AMOUNT_CANDIDATES), { bareNumbers: true }).amounts).toHaveLength(MAX_AMOUNT_CANDIDATES);
    const over = readAmounts(numbers(MAX_AMOUNT_CANDIDATES + 1), { bareNumbers: true });
    expect(over.overflow).toBe(true);
    expect(values(over.amounts)).toEqual(Array.from({ length: MAX_AMOUNT_CANDIDATES }, (_, i) => i + 1));
  });

  it('counts bare numbers and amounts written in words alike, and not a date\u2019s digits', () => {
    const words = Array.from({ length: MAX_AMOUNT_CANDIDATES + 1 }, () => 'four thousand dollars').join(', ');
    expect(readAmounts(words).overflow).toBe(true);
    expect(readAmounts(Array.from({ length: 30 }, () => '2027-01-01').join(' ')).overflow).toBe(false);
    expect(readAmounts(`$100 ${'7 '.repeat(MAX_AMOUNT_CANDIDATES)}`)).toMatchObject({ overflow: true, amounts: [expect.objectContaining({ value: 100 })] });
  });
});

describe('findRecurrence: an amount that recurs (issue 12, finding 9)', () => {
  const recurrence = (text: string) => findRecurrence(text, findAmounts(text))?.value;

  it.each([
    ['$4,999 per month for 12 months', 'per month'],
    ['$4,999/mo', '/mo'],
    ['$4,999 a year', 'a year'],
    ['$4,999 monthly', 'monthly'],
    ['$4,999 p.a.', 'p.a.'],
    ['$4,999 of hosting, billed quarterly', 'billed quarterly'],
    ['$4,999 of hosting for the next 6 months', 'for the next 6 months'],
    ['$4,999 of hosting, each week', 'each week'],
    ['$4,999 in 3 instalments', 'in 3 instalments'],
    ['the $900 weekly fee', 'weekly'],
    ['a weekly fee of $900', 'weekly fee'],
    ['$900, month-to-month', 'month-to-month'],
  ])('"%s" recurs ("%s")', (text, phrase) => {
    expect(recurrence(text)).toBe(phrase);
  });

  it.each(['$3,915 annual renewal', 'a three-year contract for $64,200', '$655 for a year\u2019s supply', '$20,000 after the yearly review', '$4,999 each'])('"%s" is one payment', (text) => {
    expect(recurrence(text)).toBeUndefined();
  });

  it('reads nothing where no amount is stated: "renewed for three years"', () => {
    expect(recurrence('Upgrade C-1002 to premium as they renewed for three years')).toBeUndefined();
  });
});
