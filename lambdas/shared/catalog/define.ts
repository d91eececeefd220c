import * as z from '../schemas/zod';
import { ID_PATTERN, SNAKE_CASE } from '../ids';
import type { RecordReader, RecordTable } from '../ports';
import { amountsInMinorUnits, fieldMetaOf, shapeOf } from './kinds';

/** Seed 003's decision matrix: the risk class chooses how much checking and which humans. */
export const RISK_CLASSES = ['low', 'medium', 'high'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

/** A request as a user writes it, and the fields it should yield: documentation the tests run. */
export interface ActionExample<Fields> {
  readonly text: string;
  readonly fields: Fields;
}

/** What a builtin effect is given: the approved fields (the requester's own words restored) and the request. */
export interface BuiltinEffectInput<Fields> {
  readonly requestId: string;
  readonly fields: Fields;
  /** When the effect runs (ISO timestamp): what the records it writes are dated. */
  readonly at: string;
}

/** What a builtin facts read is given besides the fields: the day the decision is made for. */
export interface FactsContext {
  readonly today: string;
}

/**
 * A record the example system of record starts with, stored under `recordKey(type, id)`: local
 * mode loads it into a new data directory and `npm run seed` into a deployed table.
 */
export interface SeedRecord {
  /** Upper case, as the keys write it: `TICKET` for `TICKET#T-2001`. */
  readonly type: string;
  readonly id: string;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/**
 * The action's part of Warden's example system of record (`actions/<name>/builtin.ts`): which
 * records its policy reads, what its effect writes, exactly once per request, and the records it
 * needs to start from (records several actions share, such as customers, are in `tables.ts`).
 */
export interface BuiltinConnector<Fields = never, Facts = unknown, Receipt = unknown> {
  /** `context.today` (UTC, `YYYY-MM-DD`) is the decision's day: records dated later are not yet in force. */
  facts(fields: Fields, records: RecordReader, context?: FactsContext): Promise<Facts>;
  effect(input: BuiltinEffectInput<Fields>, records: RecordTable): Promise<Receipt>;
  readonly seed?: readonly SeedRecord[];
}

const RECORD_TYPE = /^[A-Z][A-Z0-9_]{0,31}$/;

/**
 * What the effect would do, shown to the approver of a pending proposal. Core code carries it as
 * a plain JSON object: its shape is the action's, and the policy step checks it against `schema`.
 */
export interface ActionDryRun<Fields = never, Shape extends z.core.$ZodObject = z.core.$ZodObject> {
  readonly schema: Shape;
  /** From the proposal's fields and the facts read; undefined when there is nothing to show. */
  of(fields: Fields, facts: Readonly<Record<string, unknown>>): z.input<Shape> | undefined;
}

/**
 * How a request's words name an action, as data that triage and the rules provider loop over:
 * no core code holds an action's vocabulary.
 */
export interface ActionCues<FieldName extends string = string> {
  /** Phrases that name the action. A request that matches two actions' phrases goes to a human. */
  readonly phrases: readonly RegExp[];
  /**
   * Words a typo should not hide: a word one edit away ("purchse", "Refnd") is read as one of
   * these for recognising the action. Values are always read from the text as written.
   */
  readonly words?: readonly string[];
  /**
   * Phrasings that ask for several of this action at once ("Create 3 POs"): each would be its
   * own proposal, so the request goes to a human, like two actions.
   */
  readonly several?: readonly RegExp[];
  /**
   * Two choice fields with the same values whose stated change ("from standard to premium")
   * names the action whatever the verb; the rules provider reads the two fields from it.
   */
  readonly change?: { readonly from: FieldName; readonly to: FieldName };
  /**
   * How a request names several of them ("purchase orders", "POs"): a summary, report or count
   * of them asks for information, not for the action. Without it, the title with an "s".
   */
  readonly plurals?: readonly string[];
  /**
   * Verbs that make one, in each form a question uses ("raise", "raised"): "Have we already
   * raised one for Initech?" asks whether it was made, not for it. Warden's own verbs (create,
   * process, approve) need not be listed.
   */
  readonly madeBy?: readonly string[];
  /** Verbs that ask for the action before what it concerns ("buy 12 monitors from …"): where a description is read. */
  readonly verbs?: readonly string[];
}

/** Everything about one governed action that core code may read; declared once, in `actions/<name>/`. */
export interface ActionDefinition<
  Name extends string = string,
  Fields extends z.core.$ZodObject = z.core.$ZodObject,
  Facts extends z.core.$ZodObject = z.core.$ZodObject,
  Receipt extends z.core.$ZodObject = z.core.$ZodObject,
  DryRun extends z.core.$ZodObject = z.core.$ZodObject,
> {
  /** snake_case, as in the API's `action`. */
  readonly name: Name;
  /** As a sentence says it: "purchase order". */
  readonly title: string;
  readonly description: string;
  readonly riskClass: RiskClass;
  /** Every field built with a kind constructor (`money()`, `recordId('customer')`…). */
  readonly fields: Fields;
  /** What an approver sees at a glance, in this order; the full proposal is in the evidence. */
  readonly summaryFields: readonly (keyof z.output<Fields> & string)[];
  readonly examples: readonly ActionExample<z.output<Fields>>[];
  /**
   * The action's `policy.json` (tiers, limits, duplicate window); its rule is `policy.cedar` and
   * `policy.cedarschema` beside it. Checked by the policy loader, not here.
   */
  readonly policy: unknown;
  /** What the effect would do, for the approver of a pending proposal; where the risk class calls for one. */
  readonly dryRun?: ActionDryRun<z.output<Fields>, DryRun>;
  /**
   * The records its policy reads, as any facts connector must answer (`warden.facts.v1`); the
   * validator adds `today`.
   */
  readonly facts: Facts;
  /** What its effect returns, as any effect connector must answer (`warden.effect.v1`). */
  readonly receipt: Receipt;
  /** Its facts and effect on the example system of record; without one, its connectors must be configured. */
  readonly builtin?: BuiltinConnector<z.output<Fields>, z.input<Facts>, z.input<Receipt>>;
  /** Without cues, free text never names the action: it can only be requested with structured fields. */
  readonly cues?: ActionCues<keyof z.output<Fields> & string>;
}

/** An action that cannot be registered as declared; thrown when its module loads. */
export class ActionDefinitionError extends Error {
  override readonly name = 'ActionDefinitionError';
}

/** Declares an action; a field without a kind fails here, not at the first request that uses it. */
export function defineAction<
  const Name extends string,
  Fields extends z.core.$ZodObject,
  Facts extends z.core.$ZodObject,
  Receipt extends z.core.$ZodObject,
  DryRun extends z.core.$ZodObject = z.core.$ZodObject,
>(definition: ActionDefinition<Name, Fields, Facts, Receipt, DryRun>): ActionDefinition<Name, Fields, Facts, Receipt, DryRun> {
  const { name } = definition;
  const shape = shapeOf(definition.fields);
  if (!SNAKE_CASE.test(name)) throw new ActionDefinitionError(`action name ${JSON.stringify(name)} is not snake_case`);
  if (!RISK_CLASSES.includes(definition.riskClass)) throw new ActionDefinitionError(`${name}: unknown risk class ${String(definition.riskClass)}`);
  for (const [field, schema] of Object.entries(shape)) {
    if (!fieldMetaOf(schema)) throw new ActionDefinitionError(`${name}.${field} has no field kind: build it with a kind constructor`);
  }
  for (const field of definition.summaryFields) {
    if (!(field in shape)) throw new ActionDefinitionError(`${name}: summary field ${field} is not a field`);
  }
  for (const record of definition.builtin?.seed ?? []) {
    const where = `${name}: seed record ${JSON.stringify(record.type)} ${JSON.stringify(record.id)}`;
    if (!RECORD_TYPE.test(record.type) || !ID_PATTERN.test(record.id)) throw new ActionDefinitionError(`${where} needs an upper-case type and an id of [A-Za-z0-9_-]`);
    if ('pk' in record.attributes || 'sk' in record.attributes) throw new ActionDefinitionError(`${where}: pk and sk are its key, not attributes`);
  }
  const change = definition.cues?.change;
  if (change) {
    const [from, to] = [change.from, change.to].map((field) => {
      const meta = field in shape ? fieldMetaOf(shape[field]) : undefined;
      if (meta?.kind !== 'choice') throw new ActionDefinitionError(`${name}: change field ${field} is not a choice field`);
      return meta;
    });
    if (from?.values.join('|') !== to?.values.join('|')) throw new ActionDefinitionError(`${name}: change fields ${change.from} and ${change.to} offer different values`);
  }
  // Every action's amounts have no more decimals than its currency: a check of the fields together.
  return { ...definition, fields: amountsInMinorUnits(definition.fields) };
}
