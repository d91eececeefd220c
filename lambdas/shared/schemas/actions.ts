import * as z from './zod';
import type { ActionDefinition } from '../catalog/define';
import { ACTION_NAMES, actionDefinition, type Catalog, type CatalogActionName } from '../catalog/registry';

export { Amount, IsoDate } from '../catalog/kinds';
export { describeIssues } from './issues';
export { CustomerTier, TIERS } from './customers';

/*
 * The actions of the catalog (`actions/`), one zod schema each: the API's `fields`, the model's
 * structured output (as JSON schema) and the validator's first check. Derived, never listed here.
 * The helper type maps over a type parameter, so that the catalog's tuple of actions gives a
 * tuple of schemas, and `Proposal` still narrows by `action`. An action's schemas are built on
 * its first use: `FIELDS_SCHEMA` reads them when asked, `Proposal` when a proposal names it.
 */
type ProposalSchemasOf<T extends readonly ActionDefinition[]> = {
  readonly [K in keyof T]: z.ZodMiniObject<{ action: z.ZodMiniLiteral<T[K]['name']>; fields: z.ZodMiniLazy<T[K]['fields']> }, z.core.$strict>;
};

export const ACTIONS = ACTION_NAMES;
export const ActionName = z.enum(ACTIONS);
export type ActionName = CatalogActionName;

type FieldsSchemas = { readonly [A in Catalog[number] as A['name']]: A['fields'] };
export const FIELDS_SCHEMA = Object.defineProperties(
  {},
  Object.fromEntries(ACTIONS.map((name) => [name, { enumerable: true, get: () => actionDefinition(name).fields }])),
) as FieldsSchemas;

export const Proposal = z.discriminatedUnion(
  'action',
  ACTIONS.map((name) => z.strictObject({ action: z.literal(name), fields: z.lazy(() => actionDefinition(name).fields) })) as unknown as ProposalSchemasOf<Catalog>,
);
export type Proposal = z.infer<typeof Proposal>;

/** Parse `fields` for a named action; the result carries zod's issues with their paths. */
export function parseFields(action: ActionName, fields: unknown) {
  return FIELDS_SCHEMA[action].safeParse(fields);
}
