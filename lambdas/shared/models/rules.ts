import * as z from '../schemas/zod';
import type { ModelProvider } from '../ports';
import type { ActionCues, ActionDefinition } from '../catalog/define';
import type { FieldMeta } from '../catalog/kinds';
import { actionDefinition, fieldsOfDefinition, type CatalogField } from '../catalog/registry';
import { lazy } from '../lazy';
import type { ActionName } from '../schemas/actions';
import type { InferenceResult, ModelTier, ModelUsage } from '../schemas/workflow';
import { asksForSeveral, detectActions } from '../triage/triage';
import { trimEnd } from '../text/names';
import { findRecurrence, keepDigitGrouping, readAmounts } from '../text/values';
import {
  catalogChoiceWords,
  distinct,
  escapeRegExp,
  findAmounts,
  findCatalogRecordIds,
  findChoiceChanges,
  findChoices,
  findCurrencies,
  findDates,
  findRecordIds,
  findVendors,
  isSeedVendor,
  type AmountMatch,
  type Span,
  type ValueMatch,
  type VendorMatch,
} from './extract';

/**
 * The `rules` provider: deterministic extraction with regexes and the seed vocabulary, no
 * model (the local default). Its confidence is honest: only a proposal with every field found
 * exactly once, and read as written, reaches the 0.95 threshold; anything missing, ambiguous or
 * in doubt stays well below it, so the validator sends it to a human rather than guessing. In
 * doubt: an amount whose writing leaves its value uncertain ("$7 850", "$4,999.995", "$500
 * each"), a currency named away from the amount ("$900, billed in JPY"), a vendor named only in
 * passing or beside another one, a request for several of the action at once ("Create 3 POs").
 * Each field is read by its kind in the action's schema; the action's cues say which choice
 * fields a stated change fills and which verbs a description follows.
 */

export const RULES_MODEL: ModelUsage = { provider: 'rules', id: 'rules-v1', inputTokens: 0, outputTokens: 0, costUsd: 0 };

export const RULES_CONFIDENCE = {
  /** Every field found once, and the vendor (if any) is one the system of record knows by name. */
  complete: 0.98,
  /** Every field found once, but the vendor was read from "for/from <Name>": policy will judge it. */
  completeUnknownVendor: 0.96,
  /** Some fields missing or ambiguous: scaled by how much was found, never above this. */
  partialMax: 0.6,
  partialMin: 0.2,
} as const;

type Fields = Record<string, unknown>;

interface Extraction {
  fields: Fields;
  /** Required fields not found, or found with more than one value (then left out). */
  missing: string[];
  ambiguous: string[];
  /**
   * What was read, but maybe not as the requester wrote it: the field keeps its best reading
   * (for the human who decides), and the proposal stays below the threshold.
   */
  doubts: string[];
  required: number;
  /** The party was read from "for/from <Name>" and is not one the system of record knows by name. */
  unknownParty?: boolean;
}

/** Exactly one distinct value, or the reason there is not. */
function single<T>(values: T[], name: string, into: Extraction, set: (v: T) => void): void {
  if (values.length === 1) set(values[0] as T);
  else if (values.length === 0) into.missing.push(name);
  else into.ambiguous.push(name);
}

/** A price per unit or per period, not the order's amount: "$500 each", "$40 per seat", "$99/month". */
const PER_UNIT =
  /^\s*(?:each\b|apiece\b|a\s+piece\b|per\s+(?:unit|item|piece|seat|licen[cs]e|user|head|day|week|month|year)\b|\/\s*(?:unit|item|piece|seat|user|day|wk|week|mo|month|yr|year)\b)/i;

/**
 * The one amount a request states. Several distinct amounts, more than the recognisers read, or
 * one that is only a piece of a number ("$7 85"), leave it out; one whose writing leaves its
 * value in doubt, a price per unit, or one that recurs ("$4,999 per month for 12 months") is
 * kept but doubted.
 */
function readAmount(reading: Reading, into: Extraction, name: string): AmountMatch | undefined {
  const { text, amounts } = reading;
  const values = distinct(amounts);
  if (values.length === 0) into.missing.push(name);
  // More amounts than were read: the one read may not be the one meant.
  else if (values.length > 1 || reading.amountsOverflow || amounts.some((a) => a.doubt === 'fragment')) into.ambiguous.push(name);
  else {
    const amount = amounts[0] as AmountMatch;
    into.fields[name] = amount.value;
    const doubted = amounts.some((a) => a.doubt !== undefined) || PER_UNIT.test(text.slice(amount.end)) || findRecurrence(text, amounts) !== undefined;
    if (doubted) into.doubts.push(name);
    return amount;
  }
  return undefined;
}

/** Words that introduce a stated reason, e.g. "… because they outgrew their plan". */
const REASON_MARKER =
  /(?:\b(?:because(?:\s+of)?|due\s+to|reason(?:\s+is)?\s*:?|justification\s*:?)|(?:^|[.;!?]\s+)(?:since|as|now\s+that))\s+(?<reason>[^.;!?\n]+)/i;

/** Words that only introduce the value after them: "…, effective", "… on order"; read back from the end of a clause. */
const TRAILING_CONNECTOR = /(?<=(?<![A-Za-z0-9_])(?<word>effective|starting|from|on|as\s+of|for|by|to|in|at|the|order|customer|id))/iy;
const CONNECTOR_PUNCTUATION = /[\s,;:–—-]/;

/** The clause without the connectors and punctuation at its end, one at a time from the end: linear however many there are. */
function withoutTrailingConnectors(clause: string): string {
  let rest = trimEnd(clause, CONNECTOR_PUNCTUATION);
  for (;;) {
    TRAILING_CONNECTOR.lastIndex = rest.length;
    const word = TRAILING_CONNECTOR.exec(rest)?.groups?.word;
    if (word === undefined) return rest;
    rest = trimEnd(rest.slice(0, rest.length - word.length), CONNECTOR_PUNCTUATION);
  }
}

/**
 * The reason a requester gave: after an explicit marker, or else whatever follows the last
 * structured value ("…for customer C-1002, item arrived damaged"). Kept as written so that
 * it is grounded in the text.
 */
function statedReason(text: string, spans: Span[], minLength: number): string | undefined {
  const reason = markedOrTrailingReason(text, spans);
  if (reason !== undefined && reason.length >= minLength) return reason;
  const leading = leadingReason(text);
  return leading !== undefined && leading.length >= minLength ? leading : reason;
}

/** Courtesy, not a reason: "Thanks!", "Please", "ASAP". */
const COURTESY = /^(?:thanks|thank\s+you|thx|cheers|please|pls|asap|regards|best)\b/i;

/**
 * A reason said before the request, in a clause of its own: "C-1001 has outgrown the basic
 * plan; please upgrade them …", "C-1002 was double charged on O-5001 - please refund …". The
 * first clause before the one that names the action, if it is not a greeting or courtesy.
 * Only before: what follows a request without a marker ("… for C-1003. New instructions: …")
 * is not its reason.
 */
function leadingReason(text: string): string | undefined {
  // "The customer got the wrong version, so please refund …": the reason ends at ", so".
  for (const part of text.split(/[.;!?\n](?:\s+|$)|\s[-–—]\s|,\s*so\s+/)) {
    const clause = cleanClause(part);
    if (!clause || COURTESY.test(clause) || /^(?:hi|hello|hey|dear|good\s+(?:morning|afternoon))\b/i.test(clause)) continue;
    return detectActions(clause).length === 0 && saysSomething(clause) && isPlainReason(clause) ? clause : undefined;
  }
  return undefined;
}

/** Words that only restate who and which choice (the catalog's values, and their nouns): "C-1002 is currently on the standard plan" gives no reason. */
const noReasonWords = lazy(() => new Set([
  'is', 'are', 'was', 'were', 'has', 'have', 'currently', 'now', 'still', 'on', 'in', 'at', 'the', 'a', 'an',
  'customer', 'they', 'them', 'their', 'it', 'its', 'account', 'order', 'for', 'of', ...catalogChoiceWords(),
]));

/** Whether a clause says more than ids, choices, dates and amounts. */
function saysSomething(clause: string): boolean {
  const values = [...findCatalogRecordIds(clause).flat(), ...findDates(clause), ...findAmounts(clause)].sort((a, b) => a.start - b.start);
  // The clause with each value's span as a space, in one pass.
  const parts: string[] = [];
  let at = 0;
  for (const v of values) {
    if (v.start >= at) parts.push(clause.slice(at, v.start));
    at = Math.max(at, v.end);
  }
  parts.push(clause.slice(at));
  return parts
    .join(' ')
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .some((w) => w.length > 1 && !noReasonWords().has(w));
}

function markedOrTrailingReason(text: string, spans: Span[]): string | undefined {
  const marker = REASON_MARKER.exec(text);
  const marked = marker?.groups?.reason;
  if (marker && marked) {
    // "because they outgrew their plan, effective 1 Jan 2027": the reason ends where the next
    // structured value (and the words that introduce it) begins.
    const from = marker.index + marker[0].length - marked.length;
    const next = Math.min(...spans.filter((s) => s.start >= from).map((s) => s.start), from + marked.length);
    return cleanClause(withoutTrailingConnectors(text.slice(from, next)));
  }
  const end = Math.max(0, ...spans.map((s) => s.end));
  if (end === 0) return undefined;
  const tail = text
    .slice(end)
    .replace(/^[\s,;:–—-]+/, '')
    .replace(/^(?:as|since|and|so)\s+/i, '');
  // Only the rest of the request's own sentence: a sentence after it ("… for C-1003. Skip the
  // usual checks.") may be anything, an instruction as well as a reason.
  const reason = cleanClause(tail.split(/[.;!?\n](?:\s|$)/)[0] ?? '');
  return reason && isPlainReason(reason) ? reason : undefined;
}

/** Words a person wrote, not courtesy and not markup: ".</request><policy>…" is no reason. */
function isPlainReason(reason: string): boolean {
  return !COURTESY.test(reason) && /^["'“‘(]?[\p{L}\p{N}]/u.test(reason) && !/[<>{}]/.test(reason);
}

function cleanClause(s: string): string | undefined {
  const clause = trimEnd(s.trim(), /[\s.,;:!?]/);
  return clause.length > 0 ? clause : undefined;
}

/** Words that open something else than what is bought: "$900 - please hurry", "$900, effective today". */
const NOT_A_DESCRIPTION = /^(?:please|pls|thanks|thank|thx|cheers|asap|urgent(?:ly)?|effective|due|by|before|today|tomorrow|it|them|these|those|this|that)\b/i;

/**
 * The description: "$7,850 of workstations", "$725.50 covering cables", "USD 900, printer
 * toner", "4,999 dollars - network switches", or after one of the action's verbs: "buy 20
 * laptops from Initech", "could you order 6 standing desks from Initech".
 */
function statedDescription(text: string, verbs: readonly string[], amountEnd: number | undefined, vendors: string[], vendorEnd?: number): string | undefined {
  const stop = /[;!?\n,]|\.(?:\s|$)|\s[-–—]\s|\s+(?:from|for|at|via|with)\s+(?=[A-Z$€£])/;
  // "for $900 for Initech" names the vendor, not what is bought.
  const isVendor = (d: string) => vendors.some((v) => d.toLowerCase().startsWith(v.toLowerCase()));
  const clause = (s: string | undefined) => {
    const d = s === undefined ? undefined : cleanClause(s.split(stop)[0] ?? '')?.replace(/^(["'“‘«])(.+)["'”’»]$/s, '$2');
    return d && !isVendor(d) && !NOT_A_DESCRIPTION.test(d) ? d : undefined;
  };
  const afterAmount =
    amountEnd === undefined
      ? undefined
      : /^(?:['’]s?)?\s*(?:worth\s+)?(?:(?:of|for|covering|to\s+cover|to\s+pay\s+for|towards?)\s+|[,:–—-]\s*(?:(?:of|for)\s+)?|\s\()(?<desc>.+?)\)?$/s.exec(text.slice(amountEnd))?.groups?.desc;
  // "quoted €2,780 by Alpha Tech Systems for the Berlin office fit-out": after the vendor.
  const afterVendor =
    vendorEnd === undefined ? undefined : /^\s*(?:for|of)\s+(?![$€£¥₹]|[A-Z]{3}\s?\d|\d)(?<desc>.+)$/s.exec(text.slice(vendorEnd))?.groups?.desc;
  // "It's for a batch of USB-C hubs."
  const itIsFor = /\b(?:it['’]s|it\s+is|this\s+is|these\s+are|they['’]re|they\s+are)\s+for\s+(?<desc>.+)$/is.exec(text)?.groups?.desc;
  const afterVerb =
    verbs.length === 0
      ? undefined
      : new RegExp(String.raw`(?:^\W*|\b(?:please|you|to)\s+)(?:${verbs.map(escapeRegExp).join('|')})\s+(?<desc>.+?)\s+(?:from|for)\s+`, 'is').exec(text)?.groups?.desc;
  // "Alpha Tech Systems can deliver 10 webcams; we'd like to purchase them": what is offered.
  const offered = /\b(?:can|will|could)\s+(?:deliver|supply|provide)\s+(?<desc>.+)$/is.exec(text)?.groups?.desc;
  // "Our server room needs new cooling units - please raise a PO …": the need, said first.
  const need = leadingReason(text);
  return clause(afterAmount) ?? clause(afterVerb) ?? clause(afterVendor) ?? clause(itIsFor) ?? clause(offered) ?? clause(need);
}

/** What the fields read so far found: a description is read around the amount and the party, a reason ends where a value begins. */
interface Reading {
  readonly text: string;
  readonly amounts: readonly AmountMatch[];
  /** The text held more candidate amounts than the recognisers read (`MAX_AMOUNT_CANDIDATES`). */
  readonly amountsOverflow: boolean;
  amount?: AmountMatch;
  parties: VendorMatch[];
  party?: VendorMatch;
  readonly spans: Span[];
}

/** A reason of fewer characters is no reason, whatever the field allows. */
const MIN_REASON_CHARS = 3;

/**
 * The currency: next to the amount, or named anywhere else ("…, billed in JPY", "currency:
 * EUR", "pay in euros"). Sure only when every currency the text names is the same one, and it
 * was written next to the amount or is USD. Otherwise the proposal carries the strictest
 * reading (another currency than USD always goes to the highest tier) and is doubted.
 */
function readCurrency(text: string, amounts: readonly AmountMatch[], into: Extraction, name: string): void {
  const own = [...new Set(amounts.map((a) => a.currency).filter((c): c is string => c !== undefined))];
  const elsewhere = findCurrencies(text)
    .filter((c) => !amounts.some((a) => c.start < a.end && a.start < c.end))
    .map((c) => c.value);
  const currencies = [...new Set([...own, ...elsewhere])];
  into.fields[name] = currencies.find((c) => c !== 'USD') ?? 'USD';
  if (own.length > 1) into.ambiguous.push(name);
  else if (currencies.length > 1 || (own.length === 0 && currencies[0] !== undefined && currencies[0] !== 'USD')) into.doubts.push(name);
}

/**
 * The party: the one named in its place ("for X", "from X"). A seed vendor named only in passing
 * ("Copy Globex Corporation on the invoice") may not be the order's vendor, and another vendor
 * mentioned besides the named one leaves a doubt which one the request is for.
 */
function readParty(reading: Reading, into: Extraction, name: string, meta: Extract<FieldMeta, { kind: 'partyName' }>): void {
  const vendors = findVendors(reading.text, meta);
  reading.parties = vendors;
  reading.spans.push(...vendors);
  const inPlace = vendors.filter((v) => v.named);
  const vendor = inPlace.length === 1 ? inPlace[0] : inPlace.length === 0 && vendors.length === 1 ? vendors[0] : undefined;
  if (vendor) {
    into.fields[name] = vendor.value;
    into.unknownParty = !isSeedVendor(vendor.value, meta.known);
    if (!vendor.named || vendors.length > 1) into.doubts.push(name);
    reading.party = vendor;
  } else if (vendors.length === 0) into.missing.push(name);
  else into.ambiguous.push(name);
}

/** One value of a choice field: from a stated change when the action declares one ("from basic to standard"), else as named. */
function readChoice(reading: Reading, into: Extraction, name: string, meta: Extract<FieldMeta, { kind: 'choice' }>, cues: ActionCues | undefined): void {
  const side = cues?.change?.from === name ? 'from' : cues?.change?.to === name ? 'to' : undefined;
  if (side) {
    const changes = findChoiceChanges(reading.text, meta);
    single([...new Set(changes.map((c) => c[side]).filter((v) => v !== undefined))], name, into, (v) => (into.fields[name] = v));
    // A value said on its own ("they have outgrown basic") is part of a reason, not a value before it.
    reading.spans.push(...changes.filter((c) => c.to !== undefined));
    return;
  }
  const choices = findChoices(reading.text, meta);
  single(distinct(choices), name, into, (v) => (into.fields[name] = v));
  reading.spans.push(...choices);
}

/** Reads one field by its kind; the kind's finders are in `./extract`. */
function readField(field: CatalogField, cues: ActionCues | undefined, reading: Reading, into: Extraction): void {
  const { name, meta } = field;
  const { text } = reading;
  const once = (matches: ValueMatch<string>[]) => {
    single(distinct(matches), name, into, (v) => (into.fields[name] = v));
    reading.spans.push(...matches);
  };
  switch (meta.kind) {
    case 'money':
      reading.amount = readAmount(reading, into, name);
      reading.spans.push(...reading.amounts);
      return;
    case 'currency':
      return readCurrency(text, reading.amounts, into, name);
    case 'date':
      return once(findDates(text));
    case 'recordId':
      return once(findRecordIds(text, meta));
    case 'choice':
      return readChoice(reading, into, name, meta, cues);
    case 'partyName':
      return readParty(reading, into, name, meta);
    case 'freeText': {
      if (meta.says === 'description') {
        const description = statedDescription(text, cues?.verbs ?? [], reading.amount?.end, distinct(reading.parties), reading.party?.end);
        if (description) into.fields[name] = description;
        else into.missing.push(name);
        return;
      }
      const min = Math.max(MIN_REASON_CHARS, meta.min);
      const reason = statedReason(text, reading.spans, min);
      if (reason && reason.length >= min) into.fields[name] = reason.slice(0, meta.max);
      else into.missing.push(name);
      return;
    }
  }
}

/** What the rules read an action's fields with: its field kinds and its cues. */
export type ReadableAction = Pick<ActionDefinition, 'fields' | 'cues'>;

/** The action's fields, each read by its kind; free text last, as it is read around the other values. */
function extract(action: ReadableAction, text: string): Extraction {
  const { cues } = action;
  const fields = fieldsOfDefinition(action);
  const out: Extraction = { fields: {}, missing: [], ambiguous: [], doubts: [], required: fields.filter((f) => !z.safeParse(f.schema, undefined).success).length };
  if (asksForSeveral(action, text)) out.doubts.push('several');
  const { amounts, overflow } = readAmounts(text);
  const reading: Reading = { text, amounts, amountsOverflow: overflow, parties: [], spans: [] };
  for (const field of [...fields.filter((f) => f.meta.kind !== 'freeText'), ...fields.filter((f) => f.meta.kind === 'freeText')]) {
    readField(field, cues, reading, out);
  }
  return out;
}

/** The fields the rules read from a text for an action, registered or not, and how sure they are. */
export function readFields(action: ReadableAction, text: string): { fields: Record<string, unknown>; confidence: number } {
  const extraction = extract(action, text);
  return { fields: extraction.fields, confidence: confidenceOf(extraction) };
}

function confidenceOf(x: Extraction): number {
  const problems = x.missing.length + x.ambiguous.length + x.doubts.length;
  if (problems === 0) return x.unknownParty ? RULES_CONFIDENCE.completeUnknownVendor : RULES_CONFIDENCE.complete;
  const found = Math.max(0, x.required - problems) / x.required;
  const c = RULES_CONFIDENCE.partialMin + (RULES_CONFIDENCE.partialMax - RULES_CONFIDENCE.partialMin) * found;
  return Math.round(c * 100) / 100;
}

export class RulesProvider implements ModelProvider {
  readonly name = 'rules';

  /** `tier` is ignored: the rules have one strength. */
  async propose(input: { text: string; action?: ActionName; tier: ModelTier }): Promise<InferenceResult> {
    // Read as the grounding check reads it (NFKC: full-width digits are digits), so that what
    // the rules find is written in the text the validator checks; a deliberate digit-group
    // space ("7\u202F850") is kept as such, where NFKC alone would make it an ordinary space.
    const text = keepDigitGrouping(input.text).normalize('NFKC');
    const actions = input.action ? [input.action] : detectActions(text);
    // No action, or several: nothing to extract with any honesty.
    if (actions.length !== 1) return { confidence: 0, model: { ...RULES_MODEL } };
    const action = actions[0] as ActionName;
    const extraction = extract(actionDefinition(action), text);
    return {
      candidate: { action, fields: extraction.fields },
      confidence: confidenceOf(extraction),
      model: { ...RULES_MODEL },
    };
  }
}
