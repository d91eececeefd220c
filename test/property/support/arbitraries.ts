import fc from 'fast-check';

/**
 * Generators for hostile proposal values, shared by the property suites. Weighted towards the
 * values that sit on a policy boundary or look like a seed record, so that approvals, escalations
 * and rejections all happen often enough for each property to bite.
 */

/** The next representable double above (dir 1) or below (dir -1) `x`. */
export function nextDouble(x: number, dir: 1 | -1): number {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return dir * Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, bits + BigInt((x > 0 ? 1 : -1) * dir));
  return view.getFloat64(0);
}

/** Policy thresholds of the catalog's policy.json files and the seed order totals. */
export const BOUNDARIES = [0.01, 450, 999.99, 1000, 2400, 4999.99, 5000, 49_999.99, 50_000, 1_000_000] as const;

const boundaryAmount = fc
  .tuple(fc.constantFrom(...BOUNDARIES), fc.constantFrom<(b: number) => number>(
    (b) => b,
    (b) => b - 0.01,
    (b) => b + 0.01,
    (b) => nextDouble(b, -1),
    (b) => nextDouble(b, 1),
    (b) => b - 0.001,
  ))
  .map(([b, nudge]) => nudge(b));

const weirdNumbers = fc.constantFrom(
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -0,
  0,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
  1e-300,
  -5000,
  -0.01,
  2 ** 53 + 2,
);

/** Amounts a model or a client might send, as JSON would carry them (and worse). */
export const amountArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: boundaryAmount },
  { weight: 2, arbitrary: weirdNumbers },
  { weight: 3, arbitrary: fc.double({ min: 0.01, max: 60_000, noNaN: true }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.double({ min: 1e-12, max: 1e-2, noNaN: true }) },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 2_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom('7850', '4999.99', '1e3', 'NaN', 'Infinity', ' 100 ', '$900', '0x10', '', '5,000', '-0', '４９９') },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, true, false, [900], { value: 900 }, { valueOf: 900 }) },
);

export const SEED_VENDOR_NAMES = ['Alpha Tech Systems', 'Globex Corporation', 'Initech', 'Umbrella Supplies'] as const;

const HOMOGLYPHS: Record<string, string> = { A: '\u0410', a: '\u0430', I: '\u0406', i: '\u0456', G: '\u050C', e: '\u0435', o: '\u043E', c: '\u0441', y: '\u0443' };

/** Ways to write (or disguise) a vendor's name; some mean the same vendor, some must not. */
export const vendorDisguises: readonly ((name: string) => string)[] = [
  (n) => n,
  (n) => n.toUpperCase(),
  (n) => n.toLowerCase(),
  (n) => `  ${n.replace(/ /g, '   ')}\t`,
  (n) => n.replace(/ /g, '\u00A0'), // no-break space: NFKC makes it a space
  (n) => n.replace(/ /g, '\u3000'), // ideographic space
  (n) => n.replace(/ /g, '\n'),
  (n) => [...n].map((ch) => (/[A-Za-z]/.test(ch) ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch)).join(''), // full-width
  (n) => n.replace(/ /g, '\u200B'), // zero-width space: not a space
  (n) => `${n.slice(0, 2)}\u200B${n.slice(2)}`,
  (n) => `${n.slice(0, 2)}\u00AD${n.slice(2)}`, // soft hyphen
  (n) => n.replace(/[AaIiGeocy]/, (ch) => HOMOGLYPHS[ch] ?? ch),
  (n) => `${n}\u0301`,
  (n) => `\u202E${n}`,
  (n) => `${n}\u0000`,
  (n) => `${n} Inc`,
  (n) => `${n}.`,
  (n) => `The ${n}`,
  (n) => n.split(' ')[0] ?? n,
  (n) => n.replace(/ /g, ''),
];

export const vendorArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...SEED_VENDOR_NAMES), fc.constantFrom(...vendorDisguises)).map(([name, disguise]) => disguise(name)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', '   ', 'A'.repeat(201), 'Acme Corp', 'Initrode', null, 42, ['Initech'], { name: 'Initech' }) },
);

export const currencyArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.constant('USD') },
  { weight: 3, arbitrary: fc.constantFrom('usd', 'Usd', 'EUR', 'GBP', 'JPY', 'XXX', 'US$', '$', '', 'USDT', ' USD', 'USD\u0000', '\uFF35\uFF33\uFF24', 'USD ') },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 840, ['USD']) },
);

export const freeTextArb = (plain: readonly string[]): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...plain) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom<unknown>('', '   ', 'x', 'y'.repeat(501), null, 7) },
  );

/** Model confidence as a (misbehaving) model might report it. */
export const confidenceArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0.95, 0.96, 0.98, 0.99, 1) },
  { weight: 2, arbitrary: fc.constantFrom(nextDouble(0.95, -1), 0.9499, 0.5, 0, -0, -0.1, -1, 1.0000001, 1.5, 2, 100, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('0.99', '1', null, undefined, true, [0.99]) },
);

/** Keys a model might add to a proposal's fields to claim something. */
export const EXTRA_KEYS = ['approved', 'outcome', 'tier', 'approverRoles', 'confidence', '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'override', 'Amount', 'vendor ', 'policy'] as const;

/** `fields` plus, sometimes, extra own properties (even `__proto__`), as JSON.parse would make them. */
export function withExtras(fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<{ fields: Record<string, unknown>; extras: string[] }> {
  const extras = fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom(...EXTRA_KEYS), fc.jsonValue(), { maxKeys: 3 }) });
  return fc.tuple(fields, extras).map(([known, extra]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(known)) if (v !== undefined) out[k] = v;
    const added: string[] = [];
    for (const [k, v] of Object.entries(extra)) {
      if (Object.prototype.hasOwnProperty.call(out, k)) continue;
      Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
      added.push(k);
    }
    return { fields: out, extras: added };
  });
}

export const ALL_ROLES = ['support-agent', 'account-manager', 'procurement-manager', 'finance-director', 'support-lead', 'auditor'] as const;

export const rolesArb = (usual: readonly string[]): fc.Arbitrary<string[]> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant<string[]>([...usual]) },
    { weight: 2, arbitrary: fc.subarray<string>([...ALL_ROLES]) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom<string>('Support-Agent', 'support-agent ', 'admin', '*', ''), { maxLength: 2 }) },
  );
