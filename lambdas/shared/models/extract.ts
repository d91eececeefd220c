import { TIERS, type CustomerTier } from '../schemas/actions';
import { SEED } from '../tables';
import { CURRENCY_CODES, findAmounts, withoutOverlaps, type Span, type ValueMatch } from '../text/values';
import { vendorKey } from '../vendors';

/**
 * Deterministic recognisers for the values Warden's actions need: amounts, dates, ids,
 * tiers and vendors. The rules provider builds proposals from them and triage counts them
 * for its complexity score, so both read a request the same way. Amounts, currencies and
 * dates come from `text/values.ts`, which the grounding check reads the text with too.
 * Every finder returns the spans it matched, so callers can tell what is left of the text
 * (a stated reason).
 */

export { CURRENCY_CODES, findAmounts, findCurrencies, findDates } from '../text/values';
export type { AmountMatch, Span, ValueMatch } from '../text/values';

const ID = String.raw`[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*`;

function findIds(text: string, forms: RegExp[]): ValueMatch<string>[] {
  const matches: ValueMatch<string>[] = [];
  for (const form of forms) {
    for (const m of text.matchAll(form)) {
      const value = m.groups?.id ?? '';
      const start = m.index + m[0].lastIndexOf(value);
      if (value.length <= 64) matches.push({ start, end: start + value.length, value });
    }
  }
  return withoutOverlaps(matches);
}

/** `customer C-1001`, `customer id 42`, or a bare id in the seed's `C-1001` convention. */
export function findCustomerIds(text: string): ValueMatch<string>[] {
  return findIds(text, [
    new RegExp(String.raw`\bcustomer\s+(?:id\s*:?\s*|#\s*|number\s+)?(?<id>${ID})`, 'gi'),
    /(?<![\w-])(?<id>C-\d+)(?![\w-])/g,
  ]);
}

/** `order O-5001`, `order #42`, or a bare id in the seed's `O-5001` convention. */
export function findOrderIds(text: string): ValueMatch<string>[] {
  return findIds(text, [
    new RegExp(String.raw`\border\s+(?:id\s*:?\s*|#\s*|number\s+|no\.?\s*)?(?<id>${ID})`, 'gi'),
    /(?<![\w-])(?<id>O-\d+)(?![\w-])/g,
  ]);
}

export interface TierChange extends Span {
  currentTier?: CustomerTier;
  targetTier?: CustomerTier;
}

const TIER = String.raw`(?:the\s+)?(${TIERS.join('|')})(?:\s+(?:tier|plan))?`;
const TIER_FORMS: { re: RegExp; current?: number; target: number }[] = [
  { re: new RegExp(String.raw`\bfrom\s+${TIER}\s+(?:to|into|→|->)\s+${TIER}`, 'gi'), current: 1, target: 2 },
  { re: new RegExp(String.raw`\bto\s+${TIER}\s+from\s+${TIER}`, 'gi'), current: 2, target: 1 },
  { re: new RegExp(String.raw`\b${TIER}\s*(?:→|->|to)\s*${TIER}`, 'gi'), current: 1, target: 2 },
  { re: new RegExp(String.raw`\b(?:to|into)\s+${TIER}`, 'gi'), target: 1 },
];

/** Every stated tier change; a target without a stated current tier leaves `currentTier` out. */
export function findTierChanges(text: string): TierChange[] {
  const matches: TierChange[] = [];
  for (const form of TIER_FORMS) {
    for (const m of text.matchAll(form.re)) {
      const tier = (i: number | undefined) => (i === undefined ? undefined : (m[i]?.toLowerCase() as CustomerTier));
      const currentTier = tier(form.current);
      matches.push({
        start: m.index,
        end: m.index + m[0].length,
        targetTier: tier(form.target),
        ...(currentTier ? { currentTier } : {}),
      });
    }
  }
  return withoutOverlaps(matches);
}

const SEED_VENDOR_NAMES: readonly string[] = SEED.vendors.map((v) => v.name);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A vendor name as a pattern over raw text: its folded words, any whitespace between them, any case. */
function vendorPattern(name: string, flags: string): RegExp {
  const words = vendorKey(name).split(' ').map(escapeRegExp).join(String.raw`\s+`);
  return new RegExp(String.raw`(?<![\p{L}\p{N}_])${words}(?![\p{L}\p{N}_])`, flags);
}

/** The seed vendor a phrase names (compared by `vendorKey`, anywhere inside it), in its canonical spelling. */
export function canonicalVendor(phrase: string, names: readonly string[] = SEED_VENDOR_NAMES): string | undefined {
  const folded = vendorKey(phrase);
  return names.find((name) => vendorPattern(name, 'u').test(folded));
}

/** Capitalised words that open a phrase after "for"/"from" but never name a vendor. */
const NOT_VENDOR_WORDS = new Set([
  ...CURRENCY_CODES,
  'PO',
  'Customer',
  'Order',
  'The',
  'A',
  'An',
  'Jan', 'January', 'Feb', 'February', 'Mar', 'March', 'Apr', 'April', 'May', 'Jun', 'June', 'Jul', 'July',
  'Aug', 'August', 'Sep', 'Sept', 'September', 'Oct', 'October', 'Nov', 'November', 'Dec', 'December',
]);

/**
 * Vendors a request names: seed vendors anywhere (case-insensitive, canonical spelling) plus
 * any capitalised name right after "for"/"from", taken as written so that policy can flag a
 * vendor it does not know. Distinct values, in order of appearance.
 */
export function findVendors(text: string, names: readonly string[] = SEED_VENDOR_NAMES): ValueMatch<string>[] {
  const matches: ValueMatch<string>[] = [];
  for (const name of names) {
    for (const m of text.matchAll(vendorPattern(name, 'giu'))) {
      matches.push({ start: m.index, end: m.index + m[0].length, value: name });
    }
  }
  // "for US$ 900", "for C$900": the capitals open an amount, not a name.
  const amounts = findAmounts(text);
  // A run of capitalised words; "of", "and" and "&" only join two capitalised words.
  const phrase = /\b(?:for|from)\s+(?<name>[A-Z][\w&'.-]*(?:\s+(?:(?:of|and|&)\s+)?[A-Z][\w&'.-]*)*)/g;
  for (const m of text.matchAll(phrase)) {
    const raw = (m.groups?.name ?? '').replace(/[.,;:!?'-]+$/, '');
    const first = raw.split(/\s+/)[0] ?? '';
    if (!raw || NOT_VENDOR_WORDS.has(first)) continue;
    const start = m.index + m[0].lastIndexOf(m.groups?.name ?? '');
    const end = start + raw.length;
    if (amounts.some((a) => start < a.end && a.start < end)) continue;
    // "for GLOBEX corporation": the phrase stops at the lower-case word, but it is the seed vendor.
    const seed = matches.find((s) => s.start < end && start < s.end);
    matches.push({ start, end, value: seed?.value ?? canonicalVendor(raw, names) ?? raw });
  }
  const byValue = new Map<string, ValueMatch<string>>();
  for (const m of matches.sort((a, b) => a.start - b.start)) {
    if (!byValue.has(vendorKey(m.value))) byValue.set(vendorKey(m.value), m);
  }
  return [...byValue.values()];
}

/** Whether the name is a seed vendor's, compared as the system of record compares it (`vendorKey`). */
export function isSeedVendor(name: string, names: readonly string[] = SEED_VENDOR_NAMES): boolean {
  const key = vendorKey(name);
  return names.some((n) => vendorKey(n) === key);
}

/** Distinct values of a list of matches (the same amount said twice is one amount). */
export function distinct<T>(matches: readonly ValueMatch<T>[]): T[] {
  return [...new Set(matches.map((m) => m.value))];
}
