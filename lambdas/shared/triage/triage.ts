import type { ActionDefinition } from '../catalog/define';
import { fieldMetaOf, shapeOf } from '../catalog/kinds';
import { wholeCatalog, actionDefinition, orList } from '../catalog/registry';
import { lazy } from '../lazy';
import { escapeRegExp, findAmounts, findCatalogRecordIds, findChoiceChanges, findDates, findVendors } from '../models/extract';
import { findRecurrence, MAX_AMOUNT_CANDIDATES, readAmounts } from '../text/values';
import { exampleClassifier, type ActionSimilarity, type ExampleClassifier } from './examples';
import { routingPolicy } from '../policy/policies';
import type { RoutingPolicy } from '../policy/schemas';
import { parseFields, type ActionName } from '../schemas/actions';
import type { InjectionSignal, Principal, ReasonCode, TriageResult } from '../schemas/workflow';
import { detectInjection, fieldStrings, SIGNAL_LABELS } from './injection';

/*
 * Vocabulary, as data: what smells like an attempt to steer the model or restate policy, and
 * what makes a request complex. Tune these lists, not the code below. What names an action is
 * the action's own `cues`, in its catalog folder.
 */

/** What any request is: created, processed, approved. An action's own verbs are its `cues.madeBy`. */
const WARDEN_VERBS = ['create', 'created', 'process', 'processed', 'approve', 'approved'];

/** A list of phrases as one alternation, any whitespace between their words. */
const phrasesPattern = (phrases: readonly string[]) =>
  [...new Set(phrases)].map((phrase) => phrase.trim().split(/\s+/).map(escapeRegExp).join(String.raw`\s+`)).join('|');

/**
 * `catalogInformationRequests()`, with the catalog's plurals (`cues.plurals`) as what a report may be
 * of, and its verbs (`cues.madeBy`) as what a question may ask was done.
 */
export function informationRequests(catalog: readonly Pick<ActionDefinition, 'title' | 'cues'>[]): RegExp[] {
  const plurals = phrasesPattern(catalog.flatMap((action) => action.cues?.plurals ?? [`${action.title}s`]));
  const made = phrasesPattern([...catalog.flatMap((action) => action.cues?.madeBy ?? []), ...WARDEN_VERBS]);
  return [
    /^\W*how\s+(?:many|much|often|long|soon|do|does|did|can|could|should|would)\b/i,
    new RegExp(
      `^\\W*(?:(?:please\\s+)?(?:give|show|send|get)\\s+me|(?:please\\s+)?(?:list|summari[sz]e|count))\\s+(?:a\\s+|an\\s+|the\\s+|all\\s+)?(?:summary|report|list|overview|count|total|number|breakdown|${plurals})\\b`,
      'i',
    ),
    new RegExp(`\\b(?:summary|report|overview|list|count|number|total|breakdown)\\s+of\\s+(?:all\\s+|the\\s+|our\\s+)?(?:${plurals})\\b`, 'i'),
    new RegExp(`\\b(?:did|have|has)\\s+(?:we|they|you)\\s+(?:already\\s+)?(?:${made})\\b.*\\?\\s*$`, 'i'),
  ];
}

/**
 * Requests for information, not for an action: "How many purchase orders did we raise last
 * month?", "Give me a summary of refunds". They name an action's words but ask for none.
 */
export const catalogInformationRequests = lazy((): readonly RegExp[] => informationRequests(wholeCatalog()));

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

/** The versioned routing policy (`policies/routing.json`), parsed in `policy/policies.ts` on first use. */
export { routingPolicy };

export interface TriageInput {
  text: string;
  submitted?: { action?: ActionName; fields?: Record<string, unknown> };
  /**
   * Who asked. Triage does not judge permissions: policy rejects a requester who may not
   * request the action (`action_not_permitted`), which is a decision, not a human's judgement.
   */
  requestedBy: Principal;
  /**
   * Injection signals the inbound shield saw before it normalised and scrubbed the request
   * (`state.shield.signals`): a base64 payload is `[TOKEN_1]` by the time triage reads the text.
   */
  observedSignals?: readonly InjectionSignal[];
}

/** Whether `a` becomes `b` with at most one insertion, deletion, substitution or swap of neighbours. */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const rest = (x: string, n: number) => x.slice(i + n);
  return (
    rest(a, 1) === rest(b, 1) || // substitution
    rest(a, 1) === rest(b, 0) || // a has one more
    rest(a, 0) === rest(b, 1) || // b has one more
    (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(a, 2) === rest(b, 2)) // swap
  );
}

/** The actions triage can tell apart in free text: the catalog's, or a test's own list. */
export type CuedAction = Pick<ActionDefinition, 'name' | 'fields' | 'cues' | 'examples'>;

/** The text with action words' typos ("purchse", "Upgade") written as the action word. */
export function correctActionWords(text: string, catalog: readonly CuedAction[] = wholeCatalog()): string {
  const words = catalog.flatMap((action) => action.cues?.words ?? []);
  return text.replace(/\p{L}{5,}/gu, (word) => {
    const lower = word.toLowerCase();
    // An inflection ("refunds", "upgraded") is already the word.
    if (words.some((w) => lower.startsWith(w.slice(0, -1)))) return word;
    return words.find((w) => withinOneEdit(lower, w)) ?? word;
  });
}

/** Whether the text asks for information (a count, a summary) rather than for an action. */
export function isInformationRequest(text: string): boolean {
  return catalogInformationRequests().some((re) => re.test(text));
}

/** Whether the text states a change between two values of the action's `change` fields ("from standard to premium"). */
function statesChange(action: CuedAction, text: string): boolean {
  const change = action.cues?.change;
  if (!change) return false;
  const meta = fieldMetaOf(shapeOf(action.fields)[change.from]);
  return meta?.kind === 'choice' && findChoiceChanges(text, meta).some((c) => c.from !== undefined && c.to !== undefined);
}

/** The actions the text names, in catalog order; none when it only asks for information. */
export function detectActions(text: string): ActionName[];
export function detectActions<A extends CuedAction>(text: string, catalog: readonly A[]): A['name'][];
export function detectActions(text: string, catalog: readonly CuedAction[] = wholeCatalog()): string[] {
  if (isInformationRequest(text)) return [];
  const read = correctActionWords(text, catalog);
  return catalog
    .filter((action) => (action.cues?.phrases ?? []).some((re) => re.test(read)) || statesChange(action, read))
    .map((action) => action.name);
}

/**
 * When the examples' reading counts: the text reads most like one action's examples with at
 * least `minSimilarity` (cosine, 0..1), ahead of the next action by at least `minMargin`. Below
 * either, the examples have no opinion and the cues decide alone. Chosen on the development set
 * (evals/requests.jsonl): every request there whose cues name one action clears both or agrees.
 */
export const DETECTION = { minSimilarity: 0.3, minMargin: 0.15 } as const;

/** How the cues and the examples read a text. */
export interface ActionReading<Name extends string = string> {
  /** The actions the text names (`detectActions`): the cues name them, the examples never add one. */
  readonly actions: Name[];
  /** The examples' reading, when it counts (`DETECTION`). */
  readonly learned?: ActionSimilarity & { readonly margin: number };
  /** The cues name one action and the examples read the text as another: a human decides which. */
  readonly disagree: boolean;
}

const classifiers = new WeakMap<readonly CuedAction[], ExampleClassifier>();

/** The classifier of a catalog's examples, built once per catalog: triage reads every request with it. */
export function classifierOf(catalog: readonly CuedAction[]): ExampleClassifier {
  let classifier = classifiers.get(catalog);
  if (!classifier) classifiers.set(catalog, (classifier = exampleClassifier(catalog)));
  return classifier;
}

/**
 * The cues and the examples together. The cues name the action; the examples confirm it, or
 * disagree and send it to a human. Out-of-scope requests that share an action's words ("Cancel
 * order O-5001 for C-1002") read as much like its examples as real ones the cues miss, so the
 * examples alone never name an action: they tell the human which it reads like. Nor do they
 * break a tie between two cued actions: a text that names two actions asks for two.
 */
export function readActions(text: string): ActionReading<ActionName>;
export function readActions<A extends CuedAction>(text: string, catalog: readonly A[]): ActionReading<A['name']>;
export function readActions(text: string, catalog: readonly CuedAction[] = wholeCatalog()): ActionReading {
  const actions = detectActions(text, catalog);
  if (isInformationRequest(text)) return { actions, disagree: false };
  const { ranked, margin } = classifierOf(catalog).read(text);
  const top = ranked[0];
  if (!top || top.similarity < DETECTION.minSimilarity || margin < DETECTION.minMargin) return { actions, disagree: false };
  return { actions, learned: { ...top, margin }, disagree: actions.length === 1 && actions[0] !== top.action };
}

/** "a refund's examples (similarity 0.43, 0.31 ahead of the next)": what the human is told. */
function examplesSay(learned: NonNullable<ActionReading['learned']>): string {
  return `it reads like a ${actionDefinition(learned.action as ActionName).title}'s examples (similarity ${learned.similarity.toFixed(2)}, ${learned.margin.toFixed(2)} ahead of the next)`;
}

/** Whether the text asks for several of the action at once ("Create 3 POs"): several proposals, not one. */
export function asksForSeveral(action: Pick<ActionDefinition, 'cues'>, text: string): boolean {
  return (action.cues?.several ?? []).some((re) => re.test(text));
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
    findCatalogRecordIds(text).reduce((n, ids) => n + new Set(ids.map((m) => m.value)).size, 0) +
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

const titleOf = (action: ActionName): string => actionDefinition(action).title;

function addOnce<T>(list: T[], item: T): void {
  if (!list.includes(item)) list.push(item);
}

/**
 * Decides how a request is handled: deterministic (the client's own valid fields, no model),
 * generative (a model proposes; the tier follows complexity) or human (risk signals, no
 * recognisable action, or more than one). Pure: same input, same result.
 */
export function triageRequest(input: TriageInput, policy: RoutingPolicy = routingPolicy()): TriageResult {
  const { text, submitted } = input;
  // The text and the submitted fields' strings, plus what the inbound shield saw before scrubbing.
  const injection = [...new Set([...detectInjection([text, ...fieldStrings(submitted?.fields)].join('\n'))])];
  const observed = (input.observedSignals ?? []).filter((s) => !injection.some((label) => label.startsWith(SIGNAL_LABELS[s])));
  if (observed.length > 0) injection.push(`${observed.map((s) => SIGNAL_LABELS[s]).join(', ')} at submission`);
  const signals: ReasonCode[] = injection.length > 0 ? ['suspected_prompt_injection'] : [];
  const injectionNote = `suspected prompt injection (${injection.join(', ')})`.slice(0, 200);

  if (submitted?.action && submitted.fields && parseFields(submitted.action, submitted.fields).success) {
    const action = submitted.action;
    // The fields never pass through a model, but text that tries to restate policy is still
    // worth a human's look: fail closed.
    if (signals.length > 0) {
      return { route: 'human', action, complexity: 0, modelTier: 'low', signals, reason: `Structured ${titleOf(action)}, but the text has a ${injectionNote}.` };
    }
    return {
      route: 'deterministic',
      action,
      complexity: 0,
      modelTier: 'low',
      signals,
      reason: `Structured ${titleOf(action)}: the submitted fields pass the action's schema, so no model is needed.`,
    };
  }

  // A client-named action wins over the text's reading; the text still must not ask for a second one.
  const reading = readActions(text);
  const actions = submitted?.action ? [...new Set([submitted.action, ...reading.actions])] : reading.actions;
  const complexity = complexityScore(text, actions.length);
  const modelTier = complexity >= policy.complexityHighFrom ? 'high' : 'low';
  // Several of one action in one request are several proposals: no one action to propose.
  const several = actions.length === 1 && asksForSeveral(actionDefinition(actions[0] as ActionName), text);
  const action = actions.length === 1 && !several ? actions[0] : undefined;

  const problems: string[] = [];
  if (injection.length > 0) problems.push(injectionNote);
  // Amounts a model could not read as one payment: a human says what to commit.
  const amounts = readAmounts(text);
  const recurrence = findRecurrence(text, amounts.amounts);
  if (amounts.overflow) problems.push(`more than ${MAX_AMOUNT_CANDIDATES} amounts or numbers, read no further`);
  else if (recurrence) problems.push(`a recurring amount ("${recurrence.value.slice(0, 40)}"), not one payment: the human says what to commit`);
  if (amounts.overflow || recurrence) signals.push('needs_human_triage');
  if (actions.length === 0) {
    addOnce(signals, 'needs_human_triage');
    problems.push(
      isInformationRequest(text)
        ? 'asks for information, not for an action'
        : `no recognisable action (${orList(wholeCatalog().map((a) => a.title))})${reading.learned ? `, though ${examplesSay(reading.learned)}` : ''}`,
    );
  } else if (actions.length > 1) {
    addOnce(signals, 'needs_human_triage');
    problems.push(`more than one action (${actions.map(titleOf).join(', ')})`);
  } else if (several) {
    addOnce(signals, 'needs_human_triage');
    problems.push(`several ${titleOf(actions[0] as ActionName)}s in one request`);
  } else if (reading.disagree && reading.learned && !submitted?.action) {
    // The action goes along, so the human sees a proposal to confirm or reject; it never runs unseen.
    addOnce(signals, 'needs_human_triage');
    problems.push(`its words name a ${titleOf(actions[0] as ActionName)}, but ${examplesSay(reading.learned)}`);
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
    reason: `Free-text ${titleOf(action as ActionName)} with complexity ${complexity.toFixed(2)} (${modelTier} tier: high from ${policy.complexityHighFrom}); a model proposes, the validator decides.`,
  };
}
