import * as z from 'zod';
import type { ActionDefinition } from '../catalog/define';
import { CATALOG, type Catalog, type CatalogActionName } from '../catalog/registry';

export { Amount, IsoDate } from '../catalog/kinds';
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

/** `fields.amount: must be > 0` — the path a client needs to fix its body. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(safeSegment)].filter(Boolean).join('.');
      // zod quotes unknown keys verbatim; a key can be anything a client sent, secrets included.
      const message = issue.code === 'unrecognized_keys' ? `unrecognized key(s): ${issue.keys.map(safeSegment).join(', ')}` : issue.message;
      return `${path || '(body)'}: ${message}`;
    })
    .join('; ');
}

/** A path segment as sent, when it is a plain short name or an index; anything else is `<key>`. */
function safeSegment(segment: PropertyKey): string {
  if (typeof segment === 'number') return String(segment);
  const plain = typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(segment) && !/^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(segment);
  return plain ? segment : '<key>';
}
