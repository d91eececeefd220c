import type * as z from '../schemas/zod';
import { ACTION_CATALOG } from '../../../actions';
import { lazy } from '../lazy';
import { ActionDefinitionError, type ActionDefinition } from './define';
import { fieldMetaOf, shapeOf, type FieldMeta } from './kinds';

/*
 * The registered actions, as core code reads them. Only this module imports `actions/`: the
 * rest of the core asks it, and never names an action. Names are known at import; a definition
 * (its schemas) is built when something first asks for that action.
 */
type Entries = typeof ACTION_CATALOG;
// Mapped over a type parameter, so that a tuple maps to a tuple.
type DefinitionsOf<T extends readonly (readonly [string, () => unknown])[]> = { readonly [K in keyof T]: ReturnType<T[K][1]> };
type NamesOf<T extends readonly (readonly [string, () => unknown])[]> = { readonly [K in keyof T]: T[K][0] };
/** The definitions in the catalog's order, as a tuple type: names and schemas map to tuples. */
export type Catalog = DefinitionsOf<Entries>;
export type CatalogAction = Catalog[number];
export type CatalogActionName = CatalogAction['name'];

/** The actions' names in the catalog's order, read without loading any action. */
export const ACTION_NAMES = ACTION_CATALOG.map(([name]) => name) as unknown as NamesOf<Entries>;

const LOADERS = new Map<string, () => CatalogAction>();
for (const [name, load] of ACTION_CATALOG as readonly (readonly [string, () => CatalogAction])[]) {
  if (LOADERS.has(name)) throw new ActionDefinitionError(`action ${name} is registered twice`);
  LOADERS.set(
    name,
    lazy(() => {
      const definition = load();
      if (definition.name !== name) throw new ActionDefinitionError(`actions/index.ts registers ${name}, but its module defines ${definition.name}`);
      return definition;
    }),
  );
}

/** One action's definition, built on its first use. */
export function actionDefinition(name: CatalogActionName): CatalogAction {
  return LOADERS.get(name)?.() as CatalogAction;
}

/** Every action's definition, in order: for what reads the whole catalog (triage's cues, listings, docs). */
export const wholeCatalog = lazy((): Catalog => ACTION_NAMES.map((name) => actionDefinition(name)) as unknown as Catalog);

export interface CatalogField {
  readonly name: string;
  readonly schema: z.core.$ZodType;
  readonly meta: FieldMeta;
}

/** Each field of an action with its kind, in the schema's order. */
export function fieldsOf(name: CatalogActionName): CatalogField[] {
  return fieldsOfDefinition(actionDefinition(name));
}

/** The same for a definition in hand, registered or not. */
export function fieldsOfDefinition(definition: Pick<ActionDefinition, 'fields'>): CatalogField[] {
  const shape = shapeOf(definition.fields);
  // defineAction has checked that every field has a kind.
  return Object.entries(shape).map(([field, schema]) => ({ name: field, schema, meta: fieldMetaOf(schema) as FieldMeta }));
}

/** "a, b or c": how prose lists the actions. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
