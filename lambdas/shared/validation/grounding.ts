import { vendorKey } from '../policy';
import type { Proposal } from '../schemas/actions';

/**
 * Grounding: every value of a model's proposal must appear in the request text, however the
 * requester wrote it. A value the text does not contain was invented by the model, and an
 * invented value must never reach execution without a human.
 */

interface PreparedText {
  /** NFKC, whitespace collapsed, original case (ids compare exactly). */
  exact: string;
  lower: string;
  amounts: number[];
  dates: Set<string>;
  words: Set<string>;
}

const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6,
  july: 7, jul: 7, august: 8, aug: 8, september: 9, sept: 9, sep: 9, october: 10, oct: 10,
  november: 11, nov: 11, december: 12, dec: 12,
};
// Longest names first so "sept" wins over "sep".
const MONTH = `(${Object.keys(MONTHS).sort((a, b) => b.length - a.length).join('|')})\\.?`;
const ORDINAL = '(?:st|nd|rd|th)?';

const DATE_PATTERNS: { re: RegExp; parts: (m: RegExpExecArray) => [string, string, string] }[] = [
  // 2027-01-01, 2027/1/1
  { re: /(?<![\p{N}])(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?![\p{N}])/gu, parts: (m) => [m[1], m[2], m[3]] },
  // 1 Jan 2027, 1st of January, 2027
  {
    re: new RegExp(`(?<![\\p{L}\\p{N}])(\\d{1,2})${ORDINAL}\\s(?:of\\s)?${MONTH},?\\s(\\d{4})(?![\\p{N}])`, 'gu'),
    parts: (m) => [m[3], String(MONTHS[m[2]]), m[1]],
  },
  // January 1, 2027; Jan 1st 2027
  {
    re: new RegExp(`(?<![\\p{L}\\p{N}])${MONTH}\\s(\\d{1,2})${ORDINAL},?\\s(\\d{4})(?![\\p{N}])`, 'gu'),
    parts: (m) => [m[3], String(MONTHS[m[1]]), m[2]],
  },
];

function isoDate(year: string, month: string, day: string): string | undefined {
  const iso = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === iso ? iso : undefined;
}

const MULTIPLIERS: Record<string, number> = { k: 3, thousand: 3, m: 6, mn: 6, million: 6, bn: 9, billion: 9 };

/**
 * An amount as written: "$7,850", "7850", "7,850.00", "USD 900", "7.85k". Digits glued to a
 * letter or hyphen are ids ("C-1001", "O-5001"), not amounts, unless the letters are a currency.
 */
const AMOUNT_RE =
  /(?:(?<=usd|eur|gbp)|(?<![\p{L}\p{N}_.,-]))(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s?(k|thousand|mn|m|million|bn|billion))?(?![\p{L}\p{N}_]|-\p{N}|[.,]\p{N})/gu;

function parseAmounts(lower: string): number[] {
  const amounts: number[] = [];
  for (const m of lower.matchAll(AMOUNT_RE)) {
    const exponent = m[3] ? MULTIPLIERS[m[3]] : 0;
    // Through the decimal literal, so "7.85k" is exactly 7850 (7.85 * 1000 is not).
    const value = Number(`${m[1].replace(/,/g, '')}${m[2] ? `.${m[2]}` : ''}e${exponent}`);
    if (Number.isFinite(value)) amounts.push(value);
  }
  return amounts;
}

const STOPWORDS = new Set([
  'the', 'and', 'for', 'with', 'from', 'that', 'this', 'these', 'those', 'our', 'their', 'they', 'them', 'his', 'her',
  'was', 'were', 'are', 'has', 'have', 'had', 'its', 'into', 'onto', 'per', 'via', 'but', 'not', 'all', 'any',
]);

function words(value: string): string[] {
  return value.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

// A plural and its singular are the same word here ("workstations" / "workstation").
function stem(word: string): string {
  return word.length > 3 && word.endsWith('s') ? word.slice(0, -1) : word;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Prepares the text once for all the field checks. */
export function prepareText(text: string): PreparedText {
  const exact = text.normalize('NFKC').replace(/\s+/g, ' ').trim();
  const lower = exact.toLowerCase();
  const dates = new Set<string>();
  let withoutDates = lower;
  for (const { re, parts } of DATE_PATTERNS) {
    for (const m of lower.matchAll(re)) {
      const iso = isoDate(...parts(m));
      if (iso) dates.add(iso);
    }
    // A date's digits are not amounts ("1 Jan 2027" does not ground an amount of 2027).
    withoutDates = withoutDates.replace(re, ' ');
  }
  return { exact, lower, amounts: parseAmounts(withoutDates), dates, words: new Set(words(lower).map(stem)) };
}

function containsPhrase(haystack: string, phrase: string): boolean {
  if (phrase.length === 0) return false;
  return new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(phrase)}(?![\\p{L}\\p{N}])`, 'u').test(haystack);
}

export function isAmountGrounded(amount: number, text: PreparedText): boolean {
  return text.amounts.some((written) => written === amount);
}

export function isIdGrounded(id: string, text: PreparedText): boolean {
  return new RegExp(`(?<![A-Za-z0-9_-])${escapeRegExp(id)}(?![A-Za-z0-9_-])`).test(text.exact);
}

export function isDateGrounded(iso: string, text: PreparedText): boolean {
  return text.dates.has(iso);
}

export function isPhraseGrounded(value: string, text: PreparedText): boolean {
  return containsPhrase(text.lower, vendorKey(value));
}

/** Free text is grounded when each of its significant words appears in the text. */
export function isFreeTextGrounded(value: string, text: PreparedText): boolean {
  const significant = words(value).filter((w) => (w.length >= 3 || /\p{N}/u.test(w)) && !STOPWORDS.has(w));
  if (significant.length === 0) return containsPhrase(text.lower, vendorKey(value));
  return significant.every((w) => text.words.has(stem(w)));
}

const CURRENCY_MARKERS: Record<string, RegExp> = {
  USD: /(?<![\p{L}])\$|\bus\$|\busd\b|\bdollars?\b/u,
  EUR: /€|\beur\b|\beuros?\b/u,
  GBP: /£|\bgbp\b|\bpounds?\b|\bsterling\b/u,
  JPY: /¥|\bjpy\b|\byen\b/u,
  CAD: /\bc\$|\bcad\b/u,
  AUD: /\ba\$|\baud\b/u,
  CHF: /\bchf\b|\bfrancs?\b/u,
  INR: /₹|\binr\b|\brupees?\b/u,
};

/**
 * A currency is grounded by its code, symbol or name. USD is the default: a text that names no
 * currency at all grounds it, but "€900" never grounds a USD amount.
 */
export function isCurrencyGrounded(currency: string, text: PreparedText): boolean {
  const marker = CURRENCY_MARKERS[currency];
  if (marker ? marker.test(text.lower) : containsPhrase(text.lower, currency.toLowerCase())) return true;
  if (currency !== 'USD') return false;
  return !Object.entries(CURRENCY_MARKERS).some(([code, re]) => code !== 'USD' && re.test(text.lower));
}

/**
 * The proposal's fields that the text does not contain (empty when all are grounded). A USD
 * filled in by the schema's default is grounded by a text that names no other currency.
 */
export function findUngroundedFields(proposal: Proposal, text: string): string[] {
  const t = prepareText(text);
  const checks: [string, boolean][] = [];
  switch (proposal.action) {
    case 'purchase_order': {
      const f = proposal.fields;
      checks.push(
        ['vendor', isPhraseGrounded(f.vendor, t)],
        ['amount', isAmountGrounded(f.amount, t)],
        ['currency', isCurrencyGrounded(f.currency, t)],
        ['description', isFreeTextGrounded(f.description, t)],
      );
      break;
    }
    case 'tier_upgrade': {
      const f = proposal.fields;
      checks.push(
        ['customerId', isIdGrounded(f.customerId, t)],
        ['currentTier', containsPhrase(t.lower, f.currentTier)],
        ['targetTier', containsPhrase(t.lower, f.targetTier)],
        ['effectiveDate', isDateGrounded(f.effectiveDate, t)],
        ['justification', isFreeTextGrounded(f.justification, t)],
      );
      break;
    }
    case 'refund': {
      const f = proposal.fields;
      checks.push(
        ['customerId', isIdGrounded(f.customerId, t)],
        ['orderId', isIdGrounded(f.orderId, t)],
        ['amount', isAmountGrounded(f.amount, t)],
        ['reason', isFreeTextGrounded(f.reason, t)],
      );
      break;
    }
  }
  return checks.filter(([, grounded]) => !grounded).map(([field]) => field);
}
