import type { FieldKind } from '../catalog/kinds';
import { fieldsOf } from '../catalog/registry';
import type { Proposal } from '../schemas/actions';
import { nameContinuation } from '../text/names';
import { findAmounts, findCurrencies, findDates, isKnownCurrency } from '../text/values';
import { vendorKey } from '../vendors';

/**
 * Grounding: every value of a model's proposal must appear in the request text, however the
 * requester wrote it. A value the text does not contain was invented by the model, and an
 * invented value must never reach execution without a human. Amounts, dates and currencies
 * are read by the same recognisers the rules provider extracts with (`text/values.ts`). A value
 * the text only contains as a piece of something else is not written either: 7 is not in
 * "$7 850" (that is 7850), nor "Initech" in "Initech Holdings" (another company).
 */

interface PreparedText {
  /** NFKC, line breaks kept (a name does not go on across one). */
  nfkc: string;
  /** NFKC, whitespace collapsed, original case (ids compare exactly). */
  exact: string;
  lower: string;
  amounts: number[];
  dates: Set<string>;
  currencies: Set<string>;
  words: Set<string>;
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
  const nfkc = text.normalize('NFKC');
  const exact = nfkc.replace(/\s+/g, ' ').trim();
  const lower = exact.toLowerCase();
  return {
    nfkc,
    exact,
    lower,
    // Bare numbers too: "for 7850 of workstations" states the amount a model may propose. Not a
    // piece of a number ("$7 85"): a reader cannot tell it was meant as an amount of its own.
    amounts: findAmounts(exact, { bareNumbers: true })
      .filter((a) => a.doubt !== 'fragment')
      .map((a) => a.value),
    dates: new Set(findDates(exact).map((d) => d.value)),
    currencies: new Set(findCurrencies(exact).map((c) => c.value)),
    words: new Set(words(lower).map(stem)),
  };
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

/**
 * A name is grounded where the text writes it as itself: "Initech" is not grounded by a text that
 * only says "Initech Holdings" or "Initech Inc" (the start of a longer name is another company).
 */
export function isPhraseGrounded(value: string, text: PreparedText): boolean {
  const key = vendorKey(value);
  if (!containsPhrase(text.lower, key)) return false;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])${key.split(' ').map(escapeRegExp).join('\\s+')}(?![\\p{L}\\p{N}])`, 'giu');
  const written = [...text.nfkc.matchAll(pattern)];
  // Case folding may pair letters that lower-casing does not: then the phrase check stands alone.
  return written.length === 0 || written.some((m) => nameContinuation(text.nfkc, m.index + m[0].length) === '');
}

/** Free text is grounded when each of its significant words appears in the text. */
export function isFreeTextGrounded(value: string, text: PreparedText): boolean {
  const significant = words(value).filter((w) => (w.length >= 3 || /\p{N}/u.test(w)) && !STOPWORDS.has(w));
  if (significant.length === 0) return containsPhrase(text.lower, vendorKey(value));
  return significant.every((w) => text.words.has(stem(w)));
}

/**
 * A currency is grounded by its code, symbol or name. USD is the default: a text that names no
 * currency at all grounds it, but "€900" never grounds a USD amount.
 */
export function isCurrencyGrounded(currency: string, text: PreparedText): boolean {
  if (text.currencies.has(currency)) return true;
  // A code the recognisers do not know is grounded by the code itself.
  if (!isKnownCurrency(currency) && containsPhrase(text.lower, currency.toLowerCase())) return true;
  return currency === 'USD' && [...text.currencies].every((c) => c === 'USD');
}

/** How a value of each field kind is found in the text. */
const GROUNDED_BY_KIND: Record<FieldKind, (value: unknown, text: PreparedText) => boolean> = {
  money: (value, t) => typeof value === 'number' && isAmountGrounded(value, t),
  currency: (value, t) => typeof value === 'string' && isCurrencyGrounded(value, t),
  date: (value, t) => typeof value === 'string' && isDateGrounded(value, t),
  choice: (value, t) => typeof value === 'string' && containsPhrase(t.lower, value.toLowerCase()),
  recordId: (value, t) => typeof value === 'string' && isIdGrounded(value, t),
  partyName: (value, t) => typeof value === 'string' && isPhraseGrounded(value, t),
  freeText: (value, t) => typeof value === 'string' && isFreeTextGrounded(value, t),
};

/**
 * The proposal's fields that the text does not contain (empty when all are grounded), each
 * checked by its kind in the action's schema. A USD filled in by the schema's default is
 * grounded by a text that names no other currency.
 */
export function findUngroundedFields(proposal: Proposal, text: string): string[] {
  const t = prepareText(text);
  const fields: Record<string, unknown> = proposal.fields;
  // An optional field left out states nothing, so there is nothing to ground.
  return fieldsOf(proposal.action)
    .filter((field) => fields[field.name] !== undefined && !GROUNDED_BY_KIND[field.meta.kind](fields[field.name], t))
    .map((field) => field.name);
}
