import type * as z from 'zod';
import { ACTION_CATALOG } from '../../../actions';
import { ActionDefinitionError, type ActionDefinition } from './define';
import { fieldMetaOf, type FieldMeta } from './kinds';

/**
 * The registered actions, as core code reads them. Only this module imports `actions/`: the
 * rest of the core asks it, and never names an action.
 */
export const CATALOG = ACTION_CATALOG;
export type Catalog = typeof CATALOG;
export type CatalogAction = Catalog[number];
export type CatalogActionName = CatalogAction['name'];

const BY_NAME = new Map<string, CatalogAction>();
for (const action of CATALOG) {
  if (BY_NAME.has(action.name)) throw new ActionDefinitionError(`action ${action.name} is registered twice`);
  BY_NAME.set(action.name, action);
}

export function actionDefinition(name: CatalogActionName): CatalogAction {
  return BY_NAME.get(name) as CatalogAction;
}

export interface CatalogField {
  readonly name: string;
  readonly schema: z.ZodType;
  readonly meta: FieldMeta;
}

/** Each field of an action with its kind, in the schema's order. */
export function fieldsOf(name: CatalogActionName): CatalogField[] {
  return fieldsOfDefinition(actionDefinition(name));
}

/** The same for a definition in hand, registered or not. */
export function fieldsOfDefinition(definition: Pick<ActionDefinition, 'fields'>): CatalogField[] {
  const shape = definition.fields.shape as Record<string, z.ZodType>;
  // defineAction has checked that every field has a kind.
  return Object.entries(shape).map(([field, schema]) => ({ name: field, schema, meta: fieldMetaOf(schema) as FieldMeta }));
}

/** "a, b or c": how prose lists the actions. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
