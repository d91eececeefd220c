import { IsoDate } from '../schemas/actions';

/**
 * Recognisers for the values a request states: amounts, currencies and dates. The rules
 * provider extracts proposals with them, triage counts them, and the grounding check asks
 * whether a proposal's values were written: one reading of the text, so whatever the rules
 * provider proposes is grounded by the same words. Every finder returns the spans it matched.
 */

export interface Span {
  start: number;
  end: number;
}

export interface ValueMatch<T> extends Span {
  value: T;
}

export interface AmountMatch extends Span {
  value: number;
  /** ISO 4217 code when the text said which currency next to the number; undefined otherwise. */
  currency?: string;
  /** Why the value may not be what the requester wrote; absent when the writing is plain. */
  doubt?: AmountDoubt;
}

/**
 * How the writing of an amount leaves its value in doubt:
 * - `fragment`: the digits run on into more digits across an apostrophe, an invisible character,
 *   or spaces before a group of three or more ("7'85", "$4\u200B850", "$7  850", "$7 8500"): not
 *   a value of its own, only a piece of one.
 * - `grouping`: digit groups separated by ordinary spaces ("$7 850", read as 7850), or by mixed
 *   separators, or a short number with another one right after it ("$900 12 laptops", "$7 85"):
 *   an ordinary space may separate two numbers as well as group one.
 * - `precision`: more than two decimals ("$4,999.995" is not a sum of money; "$1.500" may be a
 *   European 1,500).
 */
export type AmountDoubt = 'fragment' | 'grouping' | 'precision';

/**
 * Drops matches that overlap an earlier-listed one (the list is in priority order), then sorts by
 * position. Marks the characters each kept match covers, so the work is the matches' total
 * length, not their number squared (each finder's own matches do not overlap one another).
 */
export function withoutOverlaps<T extends Span>(matches: readonly T[]): T[] {
  const covered = new Uint8Array(matches.reduce((end, m) => Math.max(end, m.end), 0));
  const kept: T[] = [];
  for (const m of matches) {
    if (covered.subarray(m.start, m.end).includes(1)) continue;
    covered.fill(1, m.start, m.end);
    kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/**
 * Whether spans met in order of position overlap any of `sorted` (sorted, not overlapping one
 * another): one pass over both lists, however many there are.
 */
function overlapChecker(sorted: readonly Span[]): (span: Span) => boolean {
  let next = 0;
  return (span) => {
    while (next < sorted.length && (sorted[next] as Span).end <= span.start) next++;
    const candidate = sorted[next];
    return candidate !== undefined && candidate.start < span.end;
  };
}

/** Whether `pattern` (sticky) matches at `index`; lookbehinds read back from there, never the whole text. */
function matchesAt(pattern: RegExp, text: string, index: number): RegExpExecArray | null {
  pattern.lastIndex = index;
  return pattern.exec(text);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// Currencies

/** Currency codes recognised next to a number or anywhere in the text; a whitelist, so `PO 12` is not an amount. */
export const CURRENCY_CODES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'NZD', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'INR', 'SGD'] as const;
export type CurrencyCode = (typeof CURRENCY_CODES)[number];

/** How each currency is written besides its code (lower case; the recognisers ignore case). */
const CURRENCY_VOCABULARY: Record<CurrencyCode, { symbols: readonly string[]; words: readonly string[] }> = {
  USD: { symbols: ['us$', '$'], words: ['dollars', 'dollar'] },
  EUR: { symbols: ['€'], words: ['euros', 'euro'] },
  GBP: { symbols: ['£'], words: ['pounds', 'pound', 'sterling'] },
  CAD: { symbols: ['c$'], words: [] },
  AUD: { symbols: ['a$'], words: [] },
  NZD: { symbols: ['nz$'], words: [] },
  CHF: { symbols: [], words: ['francs', 'franc'] },
  JPY: { symbols: ['¥'], words: ['yen'] },
  SEK: { symbols: [], words: [] },
  NOK: { symbols: [], words: [] },
  DKK: { symbols: [], words: [] },
  INR: { symbols: ['₹'], words: ['rupees', 'rupee'] },
  SGD: { symbols: [], words: [] },
};

/** Every way of writing a currency, mapped to its code. */
const CURRENCY_MARKERS: ReadonlyMap<string, CurrencyCode> = new Map(
  CURRENCY_CODES.flatMap((code) => [
    [code.toLowerCase(), code] as const,
    ...CURRENCY_VOCABULARY[code].symbols.map((s) => [s, code] as const),
    ...CURRENCY_VOCABULARY[code].words.map((w) => [w, code] as const),
  ]),
);

export function isKnownCurrency(code: string): code is CurrencyCode {
  return (CURRENCY_CODES as readonly string[]).includes(code);
}

// Longest first, so "us$" wins over "$" and "dollars" over "dollar".
const byLength = (a: string, b: string) => b.length - a.length;
const SYMBOLS = CURRENCY_CODES.flatMap((c) => CURRENCY_VOCABULARY[c].symbols).sort(byLength);
const CODES = CURRENCY_CODES.map((c) => c.toLowerCase());
const WORDS = CURRENCY_CODES.flatMap((c) => CURRENCY_VOCABULARY[c].words).sort(byLength);
const alternatives = (items: readonly string[]) => items.map(escapeRegExp).join('|');

// A marker is not part of a longer word: "$" in "US$" or "C$" is not a USD marker of its own.
const CURRENCY_MENTION = new RegExp(
  `(?<!\\p{L})(?:${alternatives(SYMBOLS)})|(?<!\\p{L})(?:${alternatives([...CODES, ...WORDS].sort(byLength))})(?!\\p{L})`,
  'giu',
);

function currencyOf(marker: string | undefined): CurrencyCode | undefined {
  return marker === undefined ? undefined : CURRENCY_MARKERS.get(marker.toLowerCase());
}

/** The currencies the text names anywhere, by code, symbol or name. */
export function findCurrencies(text: string): ValueMatch<CurrencyCode>[] {
  const found: ValueMatch<CurrencyCode>[] = [];
  for (const m of text.matchAll(CURRENCY_MENTION)) {
    const value = currencyOf(m[0]);
    if (value) found.push({ start: m.index, end: m.index + m[0].length, value });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Dates

const MONTH_NUMBERS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6,
  july: 7, jul: 7, august: 8, aug: 8, september: 9, sept: 9, sep: 9, october: 10, oct: 10,
  november: 11, nov: 11, december: 12, dec: 12,
};
const MONTH = `(?<month>${alternatives(Object.keys(MONTH_NUMBERS).sort(byLength))})\\.?`;
const DAY = '(?<day>\\d{1,2})(?:st|nd|rd|th)?';
const YEAR = '(?<year>\\d{4})(?!\\p{N})';

const DATE_FORMS: readonly RegExp[] = [
  // 2027-01-01, 2027/1/1
  /(?<!\p{N})(?<year>\d{4})[-/](?<mm>\d{1,2})[-/](?<dd>\d{1,2})(?!\p{N})/gu,
  // 1 Jan 2027, 1st of January, 2027
  new RegExp(`(?<![\\p{L}\\p{N}])${DAY}\\s+(?:of\\s+)?${MONTH},?\\s+${YEAR}`, 'giu'),
  // January 1, 2027; Jan 1st 2027
  new RegExp(`(?<![\\p{L}\\p{N}])${MONTH}\\s+${DAY},?\\s+${YEAR}`, 'giu'),
];

/** Every date-shaped span, with its ISO value when it is a real calendar date. */
function scanDates(text: string): (Span & { value?: string })[] {
  const spans: (Span & { value?: string })[] = [];
  for (const form of DATE_FORMS) {
    for (const m of text.matchAll(form)) {
      const g = m.groups ?? {};
      const month = g.mm ?? String(MONTH_NUMBERS[(g.month ?? '').toLowerCase()] ?? 0);
      const iso = `${g.year}-${month.padStart(2, '0')}-${(g.dd ?? g.day ?? '').padStart(2, '0')}`;
      const valid = IsoDate.safeParse(iso).success;
      spans.push({ start: m.index, end: m.index + m[0].length, ...(valid ? { value: iso } : {}) });
    }
  }
  return withoutOverlaps(spans);
}

/** Dates as `YYYY-MM-DD`; impossible dates (`2027-02-30`) are not dates. */
export function findDates(text: string): ValueMatch<string>[] {
  return scanDates(text).filter((d): d is ValueMatch<string> => d.value !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Amounts

const EXPONENTS: Record<string, number> = { k: 3, thousand: 3, m: 6, mn: 6, million: 6, bn: 9, billion: 9 };

/**
 * Multipliers that say "money" on their own ("7.85k", "1.2M", "3bn"). A lower-case `m` does
 * not ("2m of cable" is two metres), nor does a word ("1.2 million users").
 */
const MONEY_ABBREVIATIONS: ReadonlySet<string> = new Set(['k', 'K', 'M', 'mn', 'MN', 'Mn', 'bn', 'BN', 'Bn']);

/** Number words, for amounts written out: "four thousand dollars", "twenty-five hundred euros". */
const NUMBER_WORDS: Record<string, { value: number; kind: 'unit' | 'teen' | 'tens' | 'hundred' | 'scale' }> = {
  ...Object.fromEntries(
    ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'].map((w, i) => [w, { value: i + 1, kind: 'unit' as const }]),
  ),
  ...Object.fromEntries(
    ['ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'].map((w, i) => [
      w,
      { value: i + 10, kind: 'teen' as const },
    ]),
  ),
  ...Object.fromEntries(
    ['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'].map((w, i) => [w, { value: (i + 2) * 10, kind: 'tens' as const }]),
  ),
  hundred: { value: 100, kind: 'hundred' },
  thousand: { value: 1e3, kind: 'scale' },
  million: { value: 1e6, kind: 'scale' },
  billion: { value: 1e9, kind: 'scale' },
};

/**
 * The value of a run of number words, or undefined when the words do not make one number
 * ("two three", "thousand million"): "a"/"one" thousand, "forty-two", "one hundred and fifty",
 * "twenty-five hundred", "three million two hundred thousand".
 */
function wordNumber(phrase: string): number | undefined {
  const words = phrase.toLowerCase().split(/[\s-]+/).filter((w) => w !== 'and');
  if (words[0] === 'a') words[0] = 'one';
  let total = 0;
  let group = 0;
  let previous: string | undefined;
  let lastScale = Infinity;
  for (const word of words) {
    const w = NUMBER_WORDS[word];
    if (!w) return undefined;
    switch (w.kind) {
      case 'unit':
        if (previous === 'unit' || previous === 'teen') return undefined;
        group += w.value;
        break;
      case 'teen':
      case 'tens':
        if (previous !== undefined && previous !== 'hundred' && previous !== 'scale') return undefined;
        group += w.value;
        break;
      case 'hundred':
        if (previous === 'hundred' || previous === 'scale' || previous === undefined || group === 0) return undefined;
        group *= 100;
        break;
      case 'scale':
        if (previous === 'scale' || group === 0 || w.value >= lastScale) return undefined;
        total += group * w.value;
        group = 0;
        lastScale = w.value;
        break;
    }
    previous = w.kind;
  }
  const value = total + group;
  return value > 0 ? value : undefined;
}

/** The longest number the words reach ("nine hundred ninety-nine billion … nine hundred ninety-nine") is 19 words. */
const MAX_NUMBER_WORDS = 24;
const NUMBER_WORD = alternatives(Object.keys(NUMBER_WORDS).sort(byLength));
/**
 * Number words followed by a currency: "four thousand dollars", "a thousand USD". At most
 * `MAX_NUMBER_WORDS` words, so a long run of them costs a bounded look from each word.
 */
const WORD_AMOUNT = new RegExp(
  `(?<![\\p{L}\\p{N}])(?<words>(?:a\\s+)?(?:${NUMBER_WORD})(?:(?:\\s+and\\s+|[\\s-]+)(?:${NUMBER_WORD})){0,${MAX_NUMBER_WORDS - 1}})\\s+(?<post>${alternatives([...CODES, ...WORDS].sort(byLength))})(?![\\p{L}\\p{N}])`,
  'giu',
);

/**
 * Digit-group separators besides the comma: a space of any width ("7 850", "7\u00A0850",
 * "7\u202F850", "7\u2009850") or an apostrophe ("7'850", "7’850", the Swiss convention). Only the
 * ordinary space is in doubt (it also separates two numbers); the others are written on purpose.
 */
const GROUP_SEPARATORS = " \u00A0\u2007\u2009\u202F'\u2019";

/** What may join two runs of digits into what a reader takes for one number. */
const JOINER = String.raw`[\s'\u2019\p{Cf}]+`;
/** Digits right after an amount, past a joiner: "$7| 850", and whether they go on into a date, time or id. */
const RUNS_ON = new RegExp(String.raw`(?<joiner>${JOINER})(?<digits>\p{N}+)(?<glued>[\-/:]\p{N}|\p{L})?`, 'uy');
/**
 * A leading digit group right before an amount, past a joiner: "$7 |850" (not "2027-01-01 |500"
 * or "O-5001 |120"). A lookbehind at the amount's start: it reads back over the joiner only.
 */
const RUNS_INTO = new RegExp(String.raw`(?<=(?<![\p{L}\p{N}_\-.,/])\p{N}{1,3}(?<joiner>${JOINER}))`, 'uy');

/**
 * Two runs of digits side by side: a piece of one number when an apostrophe or an invisible
 * character joins them ("7'85", "4\u200B850"), or when spaces do and the second run is a group
 * of three or more digits ("7  850", "7 8500"); otherwise the space may as well separate two
 * numbers ("$900 12 laptops", "$7 85"), which leaves the reading in doubt.
 */
function runOnDoubt(joiner: string, digits: number): AmountDoubt {
  return /['\u2019\p{Cf}]/u.test(joiner) || digits >= 3 ? 'fragment' : 'grouping';
}

/**
 * An amount as written: "$7,850", "7,850.00", "$7 850", "USD 7’850", "USD 900", "usd7850",
 * "900 USD", "450 dollars", "7.85k", "$1.2m", "1.2 million". Digits glued to a letter or a
 * hyphen are ids ("C-1001"), not amounts, unless the letters are a currency; a number running
 * on into more digits ("7,850.5.1", "7850-01") is not one either.
 */
const AMOUNT = new RegExp(
  [
    `(?:(?<![\\p{L}\\p{N}])(?<pre>${alternatives([...SYMBOLS, ...CODES].sort(byLength))})\\s?|(?<![\\p{L}\\p{N}_.,\\-]))`,
    `(?<int>\\d{1,3}(?:,\\d{3})+|\\d{1,3}(?:[${GROUP_SEPARATORS}]\\d{3})+|\\d+)(?:\\.(?<frac>\\d+))?`,
    '(?:(?<abbr>k|mn|m|bn)|\\s?(?<scale>thousand|million|billion))?',
    `(?:\\s?(?<post>${alternatives([...CODES, ...WORDS].sort(byLength))}))?`,
    '(?![\\p{L}\\p{N}_]|-\\p{N}|[.,]\\p{N})',
  ].join(''),
  'giu',
);

interface ScannedAmount extends AmountMatch {
  /** Said to be money: a currency next to it, or a `k` (`7.85k`). A bare `20` may be a quantity. */
  money: boolean;
}

/** The doubt a written amount leaves, if any (see `AmountDoubt`). */
function doubtOf(text: string, span: Span, g: Record<string, string | undefined>, exponent: number): AmountDoubt | undefined {
  const int = g.int ?? '';
  const frac = g.frac ?? '';
  let runOn: AmountDoubt | undefined;
  // Only a leading group (1-3 digits, or space or apostrophe groups already) with nothing
  // written after it can run on into the digits that follow; "$4,800 20 monitors" (grouped with
  // commas) and "$7850 12 laptops" are complete.
  const after = matchesAt(RUNS_ON, text, span.end);
  const bare = frac === '' && g.abbr === undefined && g.scale === undefined && g.post === undefined;
  if (after?.groups && bare && /^\d{1,3}(?:[^\d,]\d{3})*$/.test(int) && after.groups.glued === undefined) {
    runOn = runOnDoubt(after.groups.joiner ?? '', (after.groups.digits ?? '').length);
  }
  // The digits of an amount with no currency before them may be the rest of a number: "7 |850".
  const before = g.pre === undefined ? matchesAt(RUNS_INTO, text, span.start) : null;
  if (before?.groups && runOn !== 'fragment') runOn = runOnDoubt(before.groups.joiner ?? '', /^\d+/.exec(int)?.[0].length ?? 0);
  if (runOn === 'fragment') return runOn;
  // Sub-cent, or three decimals with no multiplier ("$1.500"): not a plain sum of money.
  const cents = Number(`${int.replace(/\D/g, '')}${frac}e${exponent - frac.length + 2}`);
  if ((exponent === 0 && frac.length > 2) || !Number.isInteger(cents)) return 'precision';
  const separators = new Set(int.replace(/\d/g, ''));
  if (separators.size > 1 || separators.has(' ')) return 'grouping';
  return runOn;
}

/**
 * More candidate amounts (bare numbers included) than a request for one action states: the
 * recognisers stop reading there, and triage sends the text to a human (issue 12: a text of
 * thousands of "1€" is an attack on the reader, not a request).
 */
export const MAX_AMOUNT_CANDIDATES = 20;

interface AmountScan {
  amounts: ScannedAmount[];
  /** More than `MAX_AMOUNT_CANDIDATES`: `amounts` holds the first ones only. */
  overflow: boolean;
}

function scanAmounts(text: string): AmountScan {
  // A date's digits are not amounts ("1 Jan 2027" does not state an amount of 2027).
  const dates = scanDates(text);
  const inDate = overlapChecker(dates);
  const found: ScannedAmount[] = [];
  const full = () => found.length > MAX_AMOUNT_CANDIDATES;
  for (const m of text.matchAll(AMOUNT)) {
    const g = m.groups ?? {};
    const span = { start: m.index, end: m.index + m[0].length };
    if (inDate(span)) continue;
    const multiplier = (g.abbr ?? g.scale)?.toLowerCase();
    const exponent = multiplier ? (EXPONENTS[multiplier] ?? 0) : 0;
    // Through the decimal literal, so "7.85k" is exactly 7850 (7.85 * 1000 is not).
    const value = Number(`${(g.int ?? '').replace(/\D/g, '')}${g.frac ? `.${g.frac}` : ''}e${exponent}`);
    const currency = currencyOf(g.pre) ?? currencyOf(g.post);
    // "$0" is a stated amount (one no policy accepts); a bare 0 is nothing.
    if (!(Number.isFinite(value) && (value > 0 || (value === 0 && currency !== undefined)))) continue;
    const doubt = doubtOf(text, span, g, exponent);
    found.push({
      ...span,
      value,
      ...(currency ? { currency } : {}),
      ...(doubt ? { doubt } : {}),
      money: currency !== undefined || MONEY_ABBREVIATIONS.has(g.abbr ?? ''),
    });
    if (full()) break;
  }
  if (!full()) {
    const wordsInDate = overlapChecker(dates);
    const inDigits = overlapChecker([...found]);
    for (const m of text.matchAll(WORD_AMOUNT)) {
      const span = { start: m.index, end: m.index + m[0].length };
      const value = wordNumber(m.groups?.words ?? '');
      const currency = currencyOf(m.groups?.post);
      if (value === undefined || currency === undefined || wordsInDate(span) || inDigits(span)) continue;
      found.push({ ...span, value, currency, money: true });
      if (full()) break;
    }
  }
  const overflow = full();
  return { amounts: found.sort((a, b) => a.start - b.start).slice(0, MAX_AMOUNT_CANDIDATES), overflow };
}

/**
 * Amounts of money the text states: with a currency next to them, or a `k`. Bare numbers are
 * quantities, ids or years to an extractor; pass `bareNumbers` to get them too, as the
 * grounding check does (a model may read "for 7850 of workstations" as an amount). Each
 * carries its `doubt` when the writing leaves the value uncertain.
 */
export function findAmounts(text: string, options: { bareNumbers?: boolean } = {}): AmountMatch[] {
  return readAmounts(text, options).amounts;
}

/** `findAmounts`, and whether the text held more candidates than `MAX_AMOUNT_CANDIDATES` (then only the first are read). */
export function readAmounts(text: string, options: { bareNumbers?: boolean } = {}): { amounts: AmountMatch[]; overflow: boolean } {
  const { amounts, overflow } = scanAmounts(text);
  return {
    amounts: amounts.filter((a) => options.bareNumbers === true || a.money).map(({ money: _money, ...amount }) => amount),
    overflow,
  };
}

/**
 * A no-break, figure, thin or narrow no-break space between digits is a digit-group separator
 * written on purpose ("7\u202F850"). NFKC turns it into an ordinary space, which may also separate
 * two numbers; this keeps it as the apostrophe that means the same ("7'850") before NFKC, so a
 * reader of the result still knows the grouping was deliberate.
 */
export function keepDigitGrouping(text: string): string {
  return text.replace(/(?<=\p{N})[\u00A0\u2007\u2009\u202F](?=\p{N})/gu, "'");
}

// ---------------------------------------------------------------------------------------------
// Recurring amounts

const PERIOD = '(?:hour|day|week|fortnight|month|quarter|year|annum)';
const PERIODS = '(?:hours|days|weeks|fortnights|months|quarters|years)';
const PERIODICALLY = '(?:daily|weekly|fortnightly|bi-?weekly|monthly|bi-?monthly|quarterly|semi-?annually|annually|yearly)';
const HOW_MANY = '(?:\\d{1,3}|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|eighteen|twenty-four|thirty-six|several)';

/** Right after an amount: "$4,999 per month", "$4,999/mo", "$4,999 a year", "$4,999 monthly", "$4,999 p.a.". */
const RECURS_AFTER_AMOUNT = new RegExp(
  `\\s*(?:(?:per|a|an|each|every)\\s+${PERIOD}\\b|\\/\\s*(?:h|hr|hour|day|wk|week|mo|mth|month|qtr|quarter|yr|year|annum)\\b|${PERIODICALLY}\\b|p\\.\\s?a\\.)`,
  'iy',
);

/**
 * Anywhere in a text that states an amount: a schedule or a term of payments ("billed monthly",
 * "every month", "for 12 months", "in 3 instalments", "monthly fee"). An annual renewal or a
 * three-year contract is one payment; "annual" alone is not read as a schedule.
 */
const RECURRENCE = new RegExp(
  [
    `\\b(?:billed|paid|charged|invoiced|payable|debited|recurring|renews|renewing|repeating)\\s+${PERIODICALLY}\\b`,
    `\\b(?:every|each)\\s+(?:${HOW_MANY}\\s+)?(?:${PERIOD}|${PERIODS})\\b`,
    `\\bper\\s+${PERIOD}\\b`,
    `\\b(?:for|over)\\s+(?:the\\s+next\\s+|another\\s+|a\\s+further\\s+)?${HOW_MANY}\\s+(?:more\\s+)?${PERIODS}\\b`,
    `\\b(?:in|over)\\s+${HOW_MANY}\\s+(?:equal\\s+)?(?:installments|instalments|payments|tranches)\\b`,
    `\\b(?:daily|weekly|fortnightly|monthly|quarterly)\\s+(?:fees?|payments?|charges?|subscriptions?|rent|retainers?|rates?|installments?|instalments?|invoices?|billing)\\b`,
    `\\b${PERIOD}[-\\s]to[-\\s]${PERIOD}\\b`,
  ].join('|'),
  'i',
);

/**
 * A sign that the text's amount recurs ("$4,999 per month for 12 months"): then it is not one
 * payment of that amount, and what to commit (each payment, or the total) is for a human to say.
 * Read only where an amount is stated; `value` is the phrase, whitespace collapsed.
 */
export function findRecurrence(text: string, amounts: readonly Span[]): ValueMatch<string> | undefined {
  if (amounts.length === 0) return undefined;
  const found = (start: number, written: string): ValueMatch<string> => {
    const lead = written.length - written.trimStart().length;
    return { start: start + lead, end: start + written.length, value: written.trim().replace(/\s+/g, ' ').toLowerCase() };
  };
  for (const amount of amounts) {
    const after = matchesAt(RECURS_AFTER_AMOUNT, text, amount.end);
    if (after) return found(amount.end, after[0]);
  }
  const anywhere = RECURRENCE.exec(text);
  return anywhere ? found(anywhere.index, anywhere[0]) : undefined;
}
