import * as z from 'zod';
import { fieldMetaOf } from './kinds';

/** Seed 003's decision matrix: the risk class chooses how much checking and which humans. */
export const RISK_CLASSES = ['low', 'medium', 'high'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];

/** A request as a user writes it, and the fields it should yield: documentation the tests run. */
export interface ActionExample<Fields> {
  readonly text: string;
  readonly fields: Fields;
}

/** Everything about one governed action that core code may read; declared once, in `actions/<name>/`. */
export interface ActionDefinition<Name extends string = string, Fields extends z.ZodObject = z.ZodObject> {
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
  /** What the effect would do, shown to the approver of a pending proposal (from its fields and the facts read). */
  readonly dryRun?: (fields: z.output<Fields>, facts: Readonly<Record<string, unknown>>) => unknown;
}

/** An action that cannot be registered as declared; thrown when its module loads. */
export class ActionDefinitionError extends Error {
  override readonly name = 'ActionDefinitionError';
}

const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Declares an action; a field without a kind fails here, not at the first request that uses it. */
export function defineAction<const Name extends string, Fields extends z.ZodObject>(
  definition: ActionDefinition<Name, Fields>,
): ActionDefinition<Name, Fields> {
  const { name } = definition;
  if (!SNAKE_CASE.test(name)) throw new ActionDefinitionError(`action name ${JSON.stringify(name)} is not snake_case`);
  if (!RISK_CLASSES.includes(definition.riskClass)) throw new ActionDefinitionError(`${name}: unknown risk class ${String(definition.riskClass)}`);
  for (const [field, schema] of Object.entries(definition.fields.shape)) {
    if (!fieldMetaOf(schema as z.ZodType)) throw new ActionDefinitionError(`${name}.${field} has no field kind: build it with a kind constructor`);
  }
  for (const field of definition.summaryFields) {
    if (!(field in definition.fields.shape)) throw new ActionDefinitionError(`${name}: summary field ${field} is not a field`);
  }
  return definition;
}
