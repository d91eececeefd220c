import { IsoDate, TIERS, type CustomerTier } from '../schemas/actions';
import { SEED } from '../tables';

/**
 * Deterministic recognisers for the values Warden's actions need: amounts, dates, ids,
 * tiers and vendors. The rules provider builds proposals from them and triage counts them
 * for its complexity score, so both read a request the same way. Every finder returns the
 * spans it matched, so callers can tell what is left of the text (a stated reason).
 */

export interface Span {
  start: number;
  end: number;
}

export interface AmountMatch extends Span {
  value: number;
  /** ISO 4217 code when the text said which currency; undefined for a bare `7.85k`. */
  currency?: string;
}

export interface ValueMatch<T> extends Span {
  value: T;
}

/** Currency codes recognised next to a number; a whitelist, so `PO 12` is not an amount. */
export const CURRENCY_CODES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'NZD', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'INR', 'SGD'] as const;
const CURRENCY_SYMBOLS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP' };
const CURRENCY_WORDS: Record<string, string> = { dollar: 'USD', dollars: 'USD', euro: 'EUR', euros: 'EUR' };

const NUMBER = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
// A suffix glued to the number (`12.5k`) or a spelled-out scale (`1.2 million`).
const SCALE = String.raw`(?:(?<suffix>[kKmM])\b|\s(?<word>thousand|million)\b)?`;
const CODES = CURRENCY_CODES.join('|');

/** Each form of amount, most specific first: overlapping matches keep the earlier form. */
const AMOUNT_FORMS: RegExp[] = [
  new RegExp(String.raw`(?<sym>[$€£])\s?(?<num>${NUMBER})${SCALE}`, 'g'),
  new RegExp(String.raw`\b(?<code>${CODES})\s?(?<num>${NUMBER})${SCALE}`, 'g'),
  new RegExp(String.raw`(?<![\w.,])(?<num>${NUMBER})${SCALE}\s?(?<code>${CODES})\b`, 'g'),
  new RegExp(String.raw`(?<![\w.,])(?<num>${NUMBER})${SCALE}\s(?<cword>dollars?|euros?)\b`, 'gi'),
  // A bare number only counts with a `k` (`7.85k`): bare digits are quantities, ids or years.
  new RegExp(String.raw`(?<![\w.,$€£-])(?<num>\d+(?:\.\d+)?)(?<suffix>[kK])\b`, 'g'),
];

const SCALE_FACTOR: Record<string, number> = { k: 1e3, m: 1e6, thousand: 1e3, million: 1e6 };

/** Rounds to cents: `7.85 * 1000` is 7849.999… in floating point. */
function toCents(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Drops matches that overlap an earlier-listed one (the list is in priority order). */
function withoutOverlaps<T extends Span>(matches: T[]): T[] {
  const kept: T[] = [];
  for (const m of matches) {
    if (!kept.some((k) => m.start < k.end && k.start < m.end)) kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}

export function findAmounts(text: string): AmountMatch[] {
  const matches: AmountMatch[] = [];
  for (const form of AMOUNT_FORMS) {
    for (const m of text.matchAll(form)) {
      const g = m.groups ?? {};
      const num = Number((g.num ?? '').replace(/,/g, ''));
      const scale = (g.suffix ?? g.word ?? '').toLowerCase();
      const value = toCents(num * (SCALE_FACTOR[scale] ?? 1));
      if (!Number.isFinite(value) || value <= 0) continue;
      const currency = g.sym
        ? CURRENCY_SYMBOLS[g.sym]
        : g.code ?? (g.cword ? CURRENCY_WORDS[g.cword.toLowerCase()] : undefined);
      matches.push({ start: m.index, end: m.index + m[0].length, value, ...(currency ? { currency } : {}) });
    }
  }
  return withoutOverlaps(matches);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = String.raw`(?<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?`;
const DAY = String.raw`(?<day>\d{1,2})(?:st|nd|rd|th)?`;

const DATE_FORMS: RegExp[] = [
  /\b(?<year>\d{4})-(?<mm>\d{2})-(?<dd>\d{2})\b/g,
  new RegExp(String.raw`\b${DAY}\s+(?:of\s+)?${MONTH},?\s+(?<year>\d{4})\b`, 'gi'),
  new RegExp(String.raw`\b${MONTH}\s+${DAY},?\s+(?<year>\d{4})\b`, 'gi'),
];

/** Dates as `YYYY-MM-DD`; impossible dates (`2027-02-30`) are not dates. */
export function findDates(text: string): ValueMatch<string>[] {
  const matches: ValueMatch<string>[] = [];
  for (const form of DATE_FORMS) {
    for (const m of text.matchAll(form)) {
      const g = m.groups ?? {};
      const month = g.mm ?? String(MONTHS.indexOf((g.month ?? '').slice(0, 3).toLowerCase()) + 1).padStart(2, '0');
      const day = g.dd ?? (g.day ?? '').padStart(2, '0');
      const iso = `${g.year}-${month}-${day}`;
      if (IsoDate.safeParse(iso).success) matches.push({ start: m.index, end: m.index + m[0].length, value: iso });
    }
  }
  return withoutOverlaps(matches);
}

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

/** The seed vendor a phrase names (case-insensitive, anywhere inside it), in its canonical spelling. */
export function canonicalVendor(phrase: string, names: readonly string[] = SEED_VENDOR_NAMES): string | undefined {
  return names.find((name) => new RegExp(String.raw`(?<![\w])${escapeRegExp(name)}(?![\w])`, 'i').test(phrase));
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
    for (const m of text.matchAll(new RegExp(String.raw`(?<![\w])${escapeRegExp(name)}(?![\w])`, 'gi'))) {
      matches.push({ start: m.index, end: m.index + m[0].length, value: name });
    }
  }
  // A run of capitalised words; "of", "and" and "&" only join two capitalised words.
  const phrase = /\b(?:for|from)\s+(?<name>[A-Z][\w&'.-]*(?:\s+(?:(?:of|and|&)\s+)?[A-Z][\w&'.-]*)*)/g;
  for (const m of text.matchAll(phrase)) {
    const raw = (m.groups?.name ?? '').replace(/[.,;:!?'-]+$/, '');
    const first = raw.split(/\s+/)[0] ?? '';
    if (!raw || NOT_VENDOR_WORDS.has(first)) continue;
    const start = m.index + m[0].lastIndexOf(m.groups?.name ?? '');
    const end = start + raw.length;
    // "for GLOBEX corporation": the phrase stops at the lower-case word, but it is the seed vendor.
    const seed = matches.find((s) => s.start < end && start < s.end);
    matches.push({ start, end, value: seed?.value ?? canonicalVendor(raw, names) ?? raw });
  }
  const byValue = new Map<string, ValueMatch<string>>();
  for (const m of matches.sort((a, b) => a.start - b.start)) {
    if (!byValue.has(m.value.toLowerCase())) byValue.set(m.value.toLowerCase(), m);
  }
  return [...byValue.values()];
}

export function isSeedVendor(name: string, names: readonly string[] = SEED_VENDOR_NAMES): boolean {
  return names.includes(name);
}

/** Distinct values of a list of matches (the same amount said twice is one amount). */
export function distinct<T>(matches: readonly ValueMatch<T>[]): T[] {
  return [...new Set(matches.map((m) => m.value))];
}
