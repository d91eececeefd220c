import { canonicalVendor, findAmounts, findCurrencies, findDates, findVendors, isSeedVendor } from '../../../lambdas/shared/models/extract';
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
    ['zero', '$0'],
  ])('finds no amount in %s', (_name, text) => {
    expect(findAmounts(text, { bareNumbers: true })).toEqual([]);
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

  it('canonicalVendor finds a seed vendor inside a phrase, however it is spaced or cased', () => {
    expect(canonicalVendor('GLOBEX   corporation Ltd')).toBe('Globex Corporation');
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
