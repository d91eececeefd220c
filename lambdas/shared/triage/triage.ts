import { findAmounts, findCustomerIds, findDates, findOrderIds, findVendors } from '../models/extract';
import { POLICIES } from '../policy/policies';
import type { RoutingPolicy } from '../policy/schemas';
import { parseFields, type ActionName } from '../schemas/actions';
import type { Principal, ReasonCode, TriageResult } from '../schemas/workflow';

/*
 * Vocabulary, as data: what names an action, what smells like an attempt to steer the model
 * or restate policy, and what makes a request complex. Tune these lists, not the code below.
 */

/** Phrases that name each action. A request matching two actions goes to a human. */
export const ACTION_KEYWORDS: Record<ActionName, readonly RegExp[]> = {
  purchase_order: [
    /\bPOs?\b/, // case-sensitive: "po" in lower case is too often something else
    /\bpurchase[-\s]+orders?\b/i,
    // The request opens with the verb; "Order O-5001 …" names an order, not a purchase.
    /^\W*(?:please\s+)?(?:buy|purchase|procure)\b/i,
    /^\W*(?:please\s+)?order\s+(?![A-Za-z]{0,3}-?\d|#|no\b|number\b|id\b)/i,
    /\b(?:buy|procure)\b/i,
  ],
  tier_upgrade: [/\bupgrad(?:e|es|ed|ing)\b/i, /\btier\b/i],
  refund: [/\brefund(?:s|ed|ing)?\b/i, /\breimburs(?:e|ed|es|ing|ement)\b/i, /\bmoney\s+back\b/i, /\bcredit\s+back\b/i],
};

/**
 * Signs that the text tries to instruct the model or restate limits and approvals. Policy
 * never reads these; they only route the request to a human.
 */
export const INJECTION_PATTERNS: readonly RegExp[] = [
  /\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|earlier|preceding|system|existing)?\s*(?:instructions?|prompts?|rules|guidelines|policies|policy|context)\b/i,
  /\byou\s+are\s+now\b/i,
  /\bpretend\s+(?:to\s+be|you\s+are)\b/i,
  /\b(?:new|updated|real)\s+(?:instructions?|rules|system\s+prompt)\b/i,
  /\b(?:system|assistant|developer)\s*(?:prompt)?\s*:/i,
  /<\|?\s*(?:system|im_start|im_end)\b/i,
  /\b(?:developer|admin|god|dan|jailbreak)\s+mode\b/i,
  /\bjailbreak/i,
  /\bauto[-\s]?approv/i,
  /\b(?:pre-?approved|already\s+(?:been\s+)?approved)\b/i,
  /\b(?:limit|threshold|cap|ceiling)s?\s+(?:is|are|has\s+been|have\s+been|was|were)\s+(?:now\s+|been\s+)?(?:now|raised|increased|lifted|removed|changed|updated|set\s+to|waived)\b/i,
  /\bno\s+(?:approvals?|approvers?|reviews?|sign[-\s]?offs?|human)\s+(?:is\s+|are\s+)?(?:needed|required|necessary)\b/i,
  /\b(?:without|skip|skipping|bypass|bypassing|circumvent)\s+(?:any\s+|the\s+)?(?:approvals?|reviews?|policy|policies|validation|checks?|sign[-\s]?offs?)\b/i,
  /\b(?:do\s+not|don't|dont)\s+(?:ask\s+for|route\s+to|send\s+(?:it\s+)?to|require|need)\s+(?:an?\s+|any\s+)?(?:approvals?|approvers?|humans?|reviews?)\b/i,
];

/** Zero-width, bidi-control, soft-hyphen and Unicode tag characters: text a reviewer cannot see. */
export const HIDDEN_CHARACTERS = /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|[\u{E0000}-\u{E007F}]/u;

/** Words that make a request conditional or exceptional: harder to turn into one proposal. */
export const CONDITIONAL_WORDS: readonly RegExp[] = [
  /\bif\b/gi,
  /\bunless\b/gi,
  /\bprovided\s+that\b/gi,
  /\bexcept\b/gi,
  /\botherwise\b/gi,
  /\bdepending\s+on\b/gi,
  /\bin\s+case\b/gi,
  /\beither\b/gi,
];

/** The complexity score's weights (they sum to 1) and the text length that counts as long. */
export const COMPLEXITY = {
  lengthWeight: 0.3,
  amountsWeight: 0.2,
  entitiesWeight: 0.15,
  conditionalsWeight: 0.2,
  multipleActionsWeight: 0.15,
  /** Up to this many characters a request is short (the seed phrasings are ~70–90). */
  shortChars: 120,
  longChars: 800,
  /** A single proposal names at most this many ids, dates and vendors. */
  usualEntities: 3,
} as const;

export type { RoutingPolicy };

/** The versioned routing policy: the one parse of `policies/routing.json`, in `policy/policies.ts`. */
export const ROUTING_POLICY: RoutingPolicy = POLICIES.routing;

export interface TriageInput {
  text: string;
  submitted?: { action?: ActionName; fields?: Record<string, unknown> };
  /**
   * Who asked. Triage does not judge permissions: policy rejects a requester who may not
   * request the action (`action_not_permitted`), which is a decision, not a human's judgement.
   */
  requestedBy: Principal;
}

/** The actions the text names, in ACTION_KEYWORDS order. */
export function detectActions(text: string): ActionName[] {
  return (Object.keys(ACTION_KEYWORDS) as ActionName[]).filter((action) =>
    ACTION_KEYWORDS[action].some((re) => re.test(text)),
  );
}

/** Which injection checks the text trips, as short labels for the triage reason. */
export function detectInjection(text: string): string[] {
  const found: string[] = [];
  if (HIDDEN_CHARACTERS.test(text)) found.push('hidden characters');
  for (const re of INJECTION_PATTERNS) {
    const m = re.exec(text);
    if (m) found.push(`"${m[0].trim().slice(0, 40)}"`);
  }
  return found;
}

function countMatches(text: string, patterns: readonly RegExp[]): number {
  return patterns.reduce((n, re) => n + (text.match(re)?.length ?? 0), 0);
}

/** 0..1: long text, several amounts or entities, conditionals and several actions push it up. */
export function complexityScore(text: string, actionCount: number = detectActions(text).length): number {
  const c = COMPLEXITY;
  const length = Math.min(1, Math.max(0, (text.length - c.shortChars) / (c.longChars - c.shortChars)));
  const amounts = new Set(findAmounts(text).map((a) => a.value)).size;
  const extraAmounts = Math.min(1, Math.max(0, amounts - 1) / 2);
  const entities =
    new Set(findCustomerIds(text).map((m) => m.value)).size +
    new Set(findOrderIds(text).map((m) => m.value)).size +
    new Set(findDates(text).map((m) => m.value)).size +
    findVendors(text).length;
  const extraEntities = Math.min(1, Math.max(0, entities - c.usualEntities) / 3);
  const conditionals = Math.min(1, countMatches(text, CONDITIONAL_WORDS) / 2);
  const multipleActions = actionCount > 1 ? 1 : 0;
  const score =
    c.lengthWeight * length +
    c.amountsWeight * extraAmounts +
    c.entitiesWeight * extraEntities +
    c.conditionalsWeight * conditionals +
    c.multipleActionsWeight * multipleActions;
  return Math.round(Math.min(1, score) * 100) / 100;
}

const ACTION_LABEL: Record<ActionName, string> = {
  purchase_order: 'purchase order',
  tier_upgrade: 'tier upgrade',
  refund: 'refund',
};

/**
 * Decides how a request is handled: deterministic (the client's own valid fields, no model),
 * generative (a model proposes; the tier follows complexity) or human (risk signals, no
 * recognisable action, or more than one). Pure: same input, same result.
 */
export function triageRequest(input: TriageInput, policy: RoutingPolicy = ROUTING_POLICY): TriageResult {
  const { text, submitted } = input;
  const injection = detectInjection(text);
  const signals: ReasonCode[] = injection.length > 0 ? ['suspected_prompt_injection'] : [];
  const injectionNote = `suspected prompt injection (${injection.join(', ')})`.slice(0, 200);

  if (submitted?.action && submitted.fields && parseFields(submitted.action, submitted.fields).success) {
    const action = submitted.action;
    // The fields never pass through a model, but text that tries to restate policy is still
    // worth a human's look: fail closed.
    if (signals.length > 0) {
      return { route: 'human', action, complexity: 0, modelTier: 'low', signals, reason: `Structured ${ACTION_LABEL[action]}, but the text has a ${injectionNote}.` };
    }
    return {
      route: 'deterministic',
      action,
      complexity: 0,
      modelTier: 'low',
      signals,
      reason: `Structured ${ACTION_LABEL[action]}: the submitted fields pass the action's schema, so no model is needed.`,
    };
  }

  const named = detectActions(text);
  // A client-named action wins over keywords; the text still must not ask for a second one.
  const actions = submitted?.action ? [...new Set([submitted.action, ...named])] : named;
  const complexity = complexityScore(text, actions.length);
  const modelTier = complexity >= policy.complexityHighFrom ? 'high' : 'low';
  const action = actions.length === 1 ? actions[0] : undefined;

  const problems: string[] = [];
  if (injection.length > 0) problems.push(injectionNote);
  if (actions.length === 0) {
    signals.push('needs_human_triage');
    problems.push('no recognisable action (purchase order, tier upgrade or refund)');
  } else if (actions.length > 1) {
    signals.push('needs_human_triage');
    problems.push(`more than one action (${actions.map((a) => ACTION_LABEL[a]).join(', ')})`);
  }

  if (signals.length > 0) {
    return {
      route: 'human',
      ...(action ? { action } : {}),
      complexity,
      modelTier,
      signals,
      reason: `Free text routed to a human: ${problems.join('; ')}.`.slice(0, 500),
    };
  }
  return {
    route: 'generative',
    ...(action ? { action } : {}),
    complexity,
    modelTier,
    signals,
    reason: `Free-text ${ACTION_LABEL[action as ActionName]} with complexity ${complexity.toFixed(2)} (${modelTier} tier: high from ${policy.complexityHighFrom}); a model proposes, the validator decides.`,
  };
}
