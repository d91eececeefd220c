import type { ModelProvider } from '../ports';
import type { ActionName } from '../schemas/actions';
import type { InferenceResult, ModelTier, ModelUsage } from '../schemas/workflow';
import { detectActions } from '../triage/triage';
import {
  distinct,
  findAmounts,
  findCustomerIds,
  findDates,
  findOrderIds,
  findTierChanges,
  findVendors,
  isSeedVendor,
  type Span,
} from './extract';

/**
 * The `rules` provider: deterministic extraction with regexes and the seed vocabulary, no
 * model (the local default). Its confidence is honest: only a proposal with every field found
 * exactly once reaches the 0.95 threshold; anything missing or ambiguous stays well below it,
 * so the validator sends it to a human rather than guessing.
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
  /** Required fields not found, or found with more than one value. */
  missing: string[];
  ambiguous: string[];
  required: number;
  unknownVendor?: boolean;
}

/** Exactly one distinct value, or the reason there is not. */
function single<T>(values: T[], name: string, into: Extraction, set: (v: T) => void): void {
  if (values.length === 1) set(values[0] as T);
  else if (values.length === 0) into.missing.push(name);
  else into.ambiguous.push(name);
}

/** Words that introduce a stated reason, e.g. "… because they outgrew their plan". */
const REASON_MARKER = /\b(?:because(?:\s+of)?|due\s+to|reason(?:\s+is)?\s*:?|justification\s*:?)\s+(?<reason>[^.;!?\n]+)/i;

/** Words that only introduce the value after them: "…, effective", "… on order". */
const TRAILING_CONNECTORS = /(?:[\s,;:–—-]*\b(?:effective|starting|from|on|as\s+of|for|by|to|in|at|the|order|customer|id)\b)*[\s,;:–—-]*$/i;

/**
 * The reason a requester gave: after an explicit marker, or else whatever follows the last
 * structured value ("…for customer C-1002, item arrived damaged"). Kept as written so that
 * it is grounded in the text.
 */
function statedReason(text: string, spans: Span[]): string | undefined {
  const marker = REASON_MARKER.exec(text);
  const marked = marker?.groups?.reason;
  if (marker && marked) {
    // "because they outgrew their plan, effective 1 Jan 2027": the reason ends where the next
    // structured value (and the words that introduce it) begins.
    const from = marker.index + marker[0].length - marked.length;
    const next = Math.min(...spans.filter((s) => s.start >= from).map((s) => s.start), from + marked.length);
    return cleanClause(text.slice(from, next).replace(TRAILING_CONNECTORS, ''));
  }
  const end = Math.max(0, ...spans.map((s) => s.end));
  if (end === 0) return undefined;
  const tail = text
    .slice(end)
    .replace(/^[\s,;:–—-]+/, '')
    .replace(/^(?:as|since|and|so)\s+/i, '');
  return cleanClause(tail.split(/[.;!?\n](?:\s|$)/)[0] ?? '');
}

function cleanClause(s: string): string | undefined {
  const clause = s.trim().replace(/[\s.,;:!?]+$/, '');
  return clause.length > 0 ? clause : undefined;
}

/** The description: "$7,850 of workstations", or "buy 20 laptops from Initech". */
function purchaseDescription(text: string, amountEnd: number | undefined, vendors: string[]): string | undefined {
  const stop = /[;!?\n,]|\.(?:\s|$)|\s+(?:from|for|at|via|with)\s+(?=[A-Z$€£])/;
  // "for $900 for Initech" names the vendor, not what is bought.
  const isVendor = (d: string) => vendors.some((v) => d.toLowerCase().startsWith(v.toLowerCase()));
  const clause = (s: string | undefined) => {
    const d = s === undefined ? undefined : cleanClause(s.split(stop)[0] ?? '');
    return d && !isVendor(d) ? d : undefined;
  };
  const afterAmount =
    amountEnd === undefined ? undefined : /^\s*(?:worth\s+)?(?:of|for)\s+(?<desc>.+)$/s.exec(text.slice(amountEnd))?.groups?.desc;
  const afterVerb = /^\W*(?:please\s+)?(?:buy|purchase|procure|order)\s+(?<desc>.+?)\s+(?:from|for)\s+/is.exec(text)?.groups?.desc;
  return clause(afterAmount) ?? clause(afterVerb);
}

function extractPurchaseOrder(text: string): Extraction {
  const out: Extraction = { fields: {}, missing: [], ambiguous: [], required: 3 };
  const amounts = findAmounts(text);
  single(distinct(amounts), 'amount', out, (v) => (out.fields.amount = v));
  const currencies = [...new Set(amounts.map((a) => a.currency).filter((c): c is string => c !== undefined))];
  if (currencies.length > 1) out.ambiguous.push('currency');
  out.fields.currency = currencies[0] ?? 'USD';
  const vendors = findVendors(text);
  single(distinct(vendors), 'vendor', out, (v) => {
    out.fields.vendor = v;
    out.unknownVendor = !isSeedVendor(v);
  });
  const amountEnd = amounts.length === 1 ? amounts[0]?.end : undefined;
  const description = purchaseDescription(text, amountEnd, distinct(vendors));
  if (description) out.fields.description = description;
  else out.missing.push('description');
  return out;
}

function extractTierUpgrade(text: string): Extraction {
  const out: Extraction = { fields: {}, missing: [], ambiguous: [], required: 5 };
  const customers = findCustomerIds(text);
  single(distinct(customers), 'customerId', out, (v) => (out.fields.customerId = v));
  const changes = findTierChanges(text);
  const currents = [...new Set(changes.map((c) => c.currentTier).filter((t) => t !== undefined))];
  const targets = [...new Set(changes.map((c) => c.targetTier).filter((t) => t !== undefined))];
  single(currents, 'currentTier', out, (v) => (out.fields.currentTier = v));
  single(targets, 'targetTier', out, (v) => (out.fields.targetTier = v));
  const dates = findDates(text);
  single(distinct(dates), 'effectiveDate', out, (v) => (out.fields.effectiveDate = v));
  const justification = statedReason(text, [...customers, ...changes, ...dates]);
  // The schema wants 10..500 characters; a shorter "reason" is not a justification.
  if (justification && justification.length >= 10) out.fields.justification = justification.slice(0, 500);
  else out.missing.push('justification');
  return out;
}

function extractRefund(text: string): Extraction {
  const out: Extraction = { fields: {}, missing: [], ambiguous: [], required: 4 };
  const customers = findCustomerIds(text);
  single(distinct(customers), 'customerId', out, (v) => (out.fields.customerId = v));
  const orders = findOrderIds(text);
  single(distinct(orders), 'orderId', out, (v) => (out.fields.orderId = v));
  const amounts = findAmounts(text);
  single(distinct(amounts), 'amount', out, (v) => (out.fields.amount = v));
  const reason = statedReason(text, [...customers, ...orders, ...amounts]);
  if (reason && reason.length >= 3) out.fields.reason = reason.slice(0, 500);
  else out.missing.push('reason');
  return out;
}

const EXTRACTORS: Record<ActionName, (text: string) => Extraction> = {
  purchase_order: extractPurchaseOrder,
  tier_upgrade: extractTierUpgrade,
  refund: extractRefund,
};

function confidenceOf(x: Extraction): number {
  const problems = x.missing.length + x.ambiguous.length;
  if (problems === 0) return x.unknownVendor ? RULES_CONFIDENCE.completeUnknownVendor : RULES_CONFIDENCE.complete;
  const found = Math.max(0, x.required - problems) / x.required;
  const c = RULES_CONFIDENCE.partialMin + (RULES_CONFIDENCE.partialMax - RULES_CONFIDENCE.partialMin) * found;
  return Math.round(c * 100) / 100;
}

export class RulesProvider implements ModelProvider {
  readonly name = 'rules';

  /** `tier` is ignored: the rules have one strength. */
  async propose(input: { text: string; action?: ActionName; tier: ModelTier }): Promise<InferenceResult> {
    // Read as the grounding check reads it (NFKC: full-width digits are digits), so that what
    // the rules find is written in the text the validator checks.
    const text = input.text.normalize('NFKC');
    const actions = input.action ? [input.action] : detectActions(text);
    // No action, or several: nothing to extract with any honesty.
    if (actions.length !== 1) return { confidence: 0, model: { ...RULES_MODEL } };
    const action = actions[0] as ActionName;
    const extraction = EXTRACTORS[action](text);
    return {
      candidate: { action, fields: extraction.fields },
      confidence: confidenceOf(extraction),
      model: { ...RULES_MODEL },
    };
  }
}
