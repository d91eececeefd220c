import type { FieldMeta } from '../catalog/kinds';
import { wholeCatalog, fieldsOf } from '../catalog/registry';
import { lazy } from '../lazy';
import { NAME_WORD, NOT_NAME_WORDS, nameContinuation, trimName } from '../text/names';
import { findAmounts, withoutOverlaps, type Span, type ValueMatch } from '../text/values';
import { vendorKey } from '../vendors';

/**
 * Deterministic recognisers for the values Warden's actions need, by field kind: amounts,
 * dates, record ids, choices and vendors. The rules provider builds proposals from them and triage counts them
 * for its complexity score, so both read a request the same way. Amounts, currencies and
 * dates come from `text/values.ts`, which the grounding check reads the text with too.
 * Every finder returns the spans it matched, so callers can tell what is left of the text
 * (a stated reason).
 */

export { CURRENCY_CODES, findAmounts, findCurrencies, findDates } from '../text/values';
export type { AmountDoubt, AmountMatch, Span, ValueMatch } from '../text/values';

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

type RecordIdMeta = Extract<FieldMeta, { kind: 'recordId' }>;
type ChoiceMeta = Extract<FieldMeta, { kind: 'choice' }>;

/** Compiled once per field kind's declaration: triage reads every request with them. */
function memo<K extends object, V>(build: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) cache.set(key, (value = build(key)));
    return value;
  };
}

const recordIdForms = memo((meta: RecordIdMeta): RegExp[] => [
  new RegExp(String.raw`\b${escapeRegExp(meta.identifies)}\s+(?:id\s*:?\s*|#\s*|number\s+|no\.?\s*)?(?<id>${ID})`, 'gi'),
  ...(meta.prefix ? [new RegExp(String.raw`(?<![\w-])(?<id>${escapeRegExp(meta.prefix)}\d+)(?![\w-])`, 'g')] : []),
]);

/** Ids of the record a field identifies: after its word (`customer C-1001`, `order #42`, `order no. 7`) or bare with its prefix (`O-5001`). */
export function findRecordIds(text: string, meta: RecordIdMeta): ValueMatch<string>[] {
  return findIds(text, recordIdForms(meta));
}

/** Each kind of record id the catalog's actions declare, once: a customer id is one whichever action names it. Read on first use, as the lists below. */
const catalogRecordIds = lazy((): readonly RecordIdMeta[] => [
  ...new Map(
    wholeCatalog().flatMap((action) => fieldsOf(action.name).map((f) => f.meta))
      .filter((meta): meta is RecordIdMeta => meta.kind === 'recordId')
      .map((meta) => [`${meta.identifies}\u0000${meta.prefix ?? ''}`, meta] as const),
  ).values(),
]);

/** The record ids a text names, one list per kind of record the catalog knows. */
export function findCatalogRecordIds(text: string): ValueMatch<string>[][] {
  return catalogRecordIds().map((meta) => findRecordIds(text, meta));
}

/** Every value of the catalog's choice fields, and the words they go with ("tier", "plan"). */
export const catalogChoiceWords = lazy((): readonly string[] => [
  ...new Set(
    wholeCatalog().flatMap((action) => fieldsOf(action.name).map((f) => f.meta)).flatMap((meta) =>
      meta.kind === 'choice' ? [...meta.values, ...(meta.nouns ?? [])] : [],
    ),
  ),
]);

/** A stated change between two values of a choice field; a value said on its own leaves the other out. */
export interface ChoiceChange extends Span {
  from?: string;
  to?: string;
}

const choiceChangeForms = memo((meta: ChoiceMeta): { re: RegExp; from?: number; to?: number }[] => {
  const nouns = meta.nouns && meta.nouns.length > 0 ? String.raw`(?:\s+(?:${meta.nouns.map(escapeRegExp).join('|')}))?` : '';
  const V = String.raw`(?:the\s+)?(${meta.values.map(escapeRegExp).join('|')})${nouns}`;
  return [
    { re: new RegExp(String.raw`\bfrom\s+${V}\s+(?:(?:straight|directly|right|all\s+the\s+way)\s+)?(?:up\s+)?(?:to|into|→|->)\s+${V}`, 'gi'), from: 1, to: 2 },
    { re: new RegExp(String.raw`\bto\s+${V}\s+from\s+${V}`, 'gi'), from: 2, to: 1 },
    { re: new RegExp(String.raw`\b${V}\s*(?:→|->|to)\s*${V}`, 'gi'), from: 1, to: 2 },
    { re: new RegExp(String.raw`\b(?:to|into)\s+${V}`, 'gi'), to: 1 },
    // The value something is on, said apart from the change: "has outgrown the basic plan".
    {
      re: new RegExp(String.raw`\b(?:(?:currently|now)\s+(?:on|in)|(?:is|are)\s+(?:currently\s+|now\s+)?on|outgr(?:own|ew|owing))\s+${V}`, 'gi'),
      from: 1,
    },
  ];
});

/** Every stated change between values of a choice field ("from standard to premium", "basic -> standard"), values as declared. */
export function findChoiceChanges(text: string, meta: ChoiceMeta): ChoiceChange[] {
  const canonical = (written: string | undefined) => meta.values.find((v) => v.toLowerCase() === written?.toLowerCase());
  const matches: ChoiceChange[] = [];
  for (const form of choiceChangeForms(meta)) {
    for (const m of text.matchAll(form.re)) {
      const from = form.from === undefined ? undefined : canonical(m[form.from]);
      const to = form.to === undefined ? undefined : canonical(m[form.to]);
      matches.push({ start: m.index, end: m.index + m[0].length, ...(to ? { to } : {}), ...(from ? { from } : {}) });
    }
  }
  return withoutOverlaps(matches);
}

const choicePattern = memo(
  (meta: ChoiceMeta) => new RegExp(String.raw`(?<![\p{L}\p{N}_])(?:${meta.values.map(escapeRegExp).join('|')})(?![\p{L}\p{N}_])`, 'giu'),
);

/** Each value of a choice field the text names, as declared ("Security" is `security`). */
export function findChoices(text: string, meta: ChoiceMeta): ValueMatch<string>[] {
  return [...text.matchAll(choicePattern(meta))].flatMap((m) => {
    const value = meta.values.find((v) => v.toLowerCase() === m[0].toLowerCase());
    return value === undefined ? [] : [{ start: m.index, end: m.index + m[0].length, value }];
  });
}

type PartyMeta = Extract<FieldMeta, { kind: 'partyName' }>;

/**
 * Every party name field of the catalog as one: the parties its actions know and the words that
 * put a name in a party's place. Triage counts parties with it; the rules read each field with its own.
 */
export const catalogParty = lazy((): PartyMeta => {
  const parties = wholeCatalog().flatMap((action) => fieldsOf(action.name).map((f) => f.meta)).filter((meta): meta is PartyMeta => meta.kind === 'partyName');
  const all = (pick: (meta: PartyMeta) => readonly string[]) => [...new Set(parties.flatMap(pick))];
  return { kind: 'partyName', known: all((m) => m.known), nouns: all((m) => m.nouns), joinedBy: all((m) => m.joinedBy), headedBy: all((m) => m.headedBy) };
});

/** Whether a sticky pattern matches at `index` of the text (no copy of the text before or after it). */
function testAt(pattern: RegExp, text: string, index: number): boolean {
  pattern.lastIndex = index;
  return pattern.test(text);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A name as a pattern over raw text: its folded words, any whitespace between them, any case. */
function vendorPattern(name: string, flags: string): RegExp {
  const words = vendorKey(name).split(' ').map(escapeRegExp).join(String.raw`\s+`);
  return new RegExp(String.raw`(?<![\p{L}\p{N}_])${words}(?![\p{L}\p{N}_])`, flags);
}

/** The known party a phrase is (compared by `vendorKey`, the whole phrase), in its canonical spelling. */
export function canonicalVendor(phrase: string, names: readonly string[] = catalogParty().known): string | undefined {
  const key = vendorKey(phrase);
  return names.find((name) => vendorKey(name) === key);
}

export interface VendorMatch extends ValueMatch<string> {
  /**
   * Named where a request names the party it is for ("PO for X", "buy … from X", "purchase
   * order to X"), not in passing ("Copy Globex Corporation on the invoice", "Last time we used
   * Initech"). Only a named party is the action's party with any certainty.
   */
  named: boolean;
}

/**
 * A word as a case-sensitive pattern (names are told by their capitals, so the place is read
 * case-sensitively): as written when it has capitals ("PO"), else each word capitalised or not,
 * or all in capitals ("purchase order": "Purchase order", "purchase Order", "PURCHASE ORDER").
 */
function writtenAs(phrase: string): string {
  const words = phrase.trim().split(/\s+/);
  if (/\p{Lu}/u.test(phrase)) return words.map(escapeRegExp).join(String.raw`\s+`);
  const either = words.map((w) => `[${w[0]?.toUpperCase()}${w[0]}]${escapeRegExp(w.slice(1))}`).join(String.raw`[-\s]+`);
  return `${either}|${words.map((w) => escapeRegExp(w.toUpperCase())).join(String.raw`[-\s]+`)}`;
}

const anyOf = (phrases: readonly string[]) => phrases.map(writtenAs).join('|');

/**
 * The words that put a party's name in its place, and an opening quote: "for X", "from X", and
 * the field's own: "PO to X", "purchase order with X", "PO: X", "Purchase order X", "vendor: X".
 */
const partyPlace = memo((meta: PartyMeta): string => {
  const places = [
    '[Ff]or|[Ff]rom|FOR|FROM',
    ...(meta.joinedBy.length > 0 ? [String.raw`(?:${anyOf(meta.joinedBy)})\s+(?:to|TO|with|WITH)`] : []),
    ...(meta.headedBy.length > 0 ? [String.raw`(?:${anyOf(meta.headedBy)})\s*[:–—-]?`] : []),
    ...meta.nouns.map((noun) => String.raw`(?:${writtenAs(noun)})\s*(?::|is)`),
    // "quoted €2,780 by Alpha Tech Systems"
    String.raw`(?:quoted|offered|priced|supplied|invoiced)\b[^.;!?\n]{0,40}?\s[Bb]y`,
  ];
  return String.raw`(?<![\p{L}\p{N}_])(?:${places.join('|')})\s+["'«“‘‹(]?`;
});
/** The party's place right before a position: a lookbehind from there, so it reads back over the place's words only. */
const namedBefore = memo((meta: PartyMeta) => new RegExp(String.raw`(?<=${partyPlace(meta)})`, 'uy'));
/** A known party's name heading the request: "Globex Corporation - PO please, …", "alpha tech systems: need a PO …". */
const HEADING_BEFORE = /(?<=^\W*)/y;
const HEADING_AFTER = /\s*[:–—-]\s/y;
/**
 * A party named as the one who offers the goods: "Globex Corporation quoted $1,640",
 * "Alpha Tech Systems can deliver 10 webcams". Read after a known party's name only.
 */
const NAMED_AFTER =
  /\s+(?:has\s+|have\s+)?(?:quoted|offered|invoiced|can\s+(?:deliver|supply|provide)|will\s+(?:deliver|supply|provide)|sent\s+(?:us\s+)?(?:a\s+)?quote)\b/iy;
/** The first capitalised word in the party's place; `nameContinuation` reads the rest of the name. */
const nameInPlace = memo((meta: PartyMeta) => new RegExp(String.raw`${partyPlace(meta)}(?<name>${NAME_WORD})`, 'gu'));

/** A name as the text writes it, whitespace collapsed. */
const asWritten = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * Parties a request names: known ones anywhere (case-insensitive, canonical spelling) plus
 * any capitalised name in the vendor's place (after "for", "from", "PO to"), taken as written so
 * that policy can flag a vendor it does not know. A seed vendor's name that goes on into a
 * longer one ("Initech Holdings", "Globex Corporation Europe", "Acme Initech") is that longer
 * name, as written: another company, never shortened to the validated one. Distinct values, in
 * order of appearance; each says whether it was `named` in the vendor's place.
 */
export function findVendors(text: string, party: PartyMeta = catalogParty()): VendorMatch[] {
  const names = party.known;
  const namedAt = (start: number, end: number) =>
    testAt(namedBefore(party), text, start) || testAt(NAMED_AFTER, text, end) || (testAt(HEADING_BEFORE, text, start) && testAt(HEADING_AFTER, text, end));
  const matches: VendorMatch[] = [];
  for (const name of names) {
    for (const m of text.matchAll(vendorPattern(name, 'giu'))) {
      const start = m.index;
      const end = start + m[0].length;
      const more = nameContinuation(text, end);
      const value = more ? asWritten(text.slice(start, end + more.length)) : name;
      matches.push({ start, end: end + more.length, value, named: namedAt(start, end + more.length) });
    }
  }
  // "for US$ 900", "for C$900": the capitals open an amount, not a name.
  const amounts = findAmounts(text);
  // Places come in order of position: only the matches not yet behind the current one can
  // overlap it, so each place is compared with its neighbours, not with every match so far.
  const known = [...matches].sort((a, b) => a.start - b.start);
  let nextKnown = 0;
  let near: VendorMatch[] = [];
  const widened = new Set<VendorMatch>();
  for (const m of text.matchAll(nameInPlace(party))) {
    const written = m.groups?.name ?? '';
    const first = trimName(written);
    if (!first || NOT_NAME_WORDS.has(first)) continue;
    const start = m.index + m[0].length - written.length;
    // "for Initech. Thanks": a word that ends its sentence ends the name.
    const more = first === written ? nameContinuation(text, start + first.length, { joiners: true }) : '';
    const end = start + first.length + more.length;
    const raw = text.slice(start, end);
    if (amounts.some((a) => start < a.end && a.start < end)) continue;
    while (nextKnown < known.length && (known[nextKnown] as VendorMatch).start < end) near.push(known[nextKnown++] as VendorMatch);
    near = near.filter((s) => s.end > start);
    const seeds = near.filter((s) => s.start < end);
    // "for Initech and Globex Corporation": two vendors in the vendor's place.
    if (seeds.length > 1) {
      for (const s of seeds) s.named = true;
      continue;
    }
    const seed = seeds[0];
    if (seed && start >= seed.start && end <= seed.end) {
      // The phrase is the seed vendor, or its start: "for GLOBEX corporation" stops at the lower-case word.
      seed.named = true;
      continue;
    }
    if (seed) {
      // "for Acme Initech", "for Initech and Sons": a longer name around a seed vendor's is another company.
      const from = Math.min(start, seed.start);
      const to = Math.max(end, seed.end);
      // Its name is read once all places are: a run of places may widen it again and again.
      Object.assign(seed, { start: from, end: to, named: true });
      widened.add(seed);
      continue;
    }
    const placed = { start, end, value: canonicalVendor(raw, names) ?? asWritten(raw), named: true };
    matches.push(placed);
    near.push(placed);
  }
  for (const m of widened) m.value = asWritten(text.slice(m.start, m.end));
  const byKey = new Map<string, VendorMatch>();
  for (const m of matches.sort((a, b) => a.start - b.start)) {
    const key = vendorKey(m.value);
    const seen = byKey.get(key);
    if (seen) seen.named ||= m.named;
    else byKey.set(key, { ...m });
  }
  return [...byKey.values()];
}

/** Whether the name is a known party's, compared as the system of record compares it (`vendorKey`). */
export function isSeedVendor(name: string, names: readonly string[] = catalogParty().known): boolean {
  const key = vendorKey(name);
  return names.some((n) => vendorKey(n) === key);
}

/** Distinct values of a list of matches (the same amount said twice is one amount). */
export function distinct<T>(matches: readonly ValueMatch<T>[]): T[] {
  return [...new Set(matches.map((m) => m.value))];
}
