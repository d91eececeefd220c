import * as z from 'zod';
import type { ActionDefinition } from '../catalog/define';
import { CATALOG, type Catalog, type CatalogActionName } from '../catalog/registry';

export { Amount, IsoDate } from '../catalog/kinds';
export { describeIssues } from './issues';
export { CustomerTier, TIERS } from './customers';

/*
 * The actions of the catalog (`actions/`), one zod schema each: the API's `fields`, the model's
 * structured output (as JSON schema) and the validator's first check. Derived, never listed here.
 * The helper types map over a type parameter, so that the catalog's tuple of actions gives a
 * tuple of names and of schemas, and `Proposal` still narrows by `action`.
 */
type NamesOf<T extends readonly ActionDefinition[]> = { readonly [K in keyof T]: T[K]['name'] };
type ProposalSchemasOf<T extends readonly ActionDefinition[]> = {
  readonly [K in keyof T]: z.ZodObject<{ action: z.ZodLiteral<T[K]['name']>; fields: T[K]['fields'] }, z.core.$strict>;
};

export const ACTIONS = CATALOG.map((action) => action.name) as unknown as NamesOf<Catalog>;
export const ActionName = z.enum(ACTIONS);
export type ActionName = CatalogActionName;

type FieldsSchemas = { readonly [A in Catalog[number] as A['name']]: A['fields'] };
export const FIELDS_SCHEMA = Object.fromEntries(CATALOG.map((action) => [action.name, action.fields])) as unknown as FieldsSchemas;

export const Proposal = z.discriminatedUnion(
  'action',
  CATALOG.map((action) => z.strictObject({ action: z.literal(action.name), fields: action.fields })) as unknown as ProposalSchemasOf<Catalog>,
);
export type Proposal = z.infer<typeof Proposal>;

/** Parse `fields` for a named action; the result carries zod's issues with their paths. */
export function parseFields(action: ActionName, fields: unknown) {
  return FIELDS_SCHEMA[action].safeParse(fields);
}
