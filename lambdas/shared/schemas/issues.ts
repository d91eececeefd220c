import * as z from './zod';
import { DEFAULT_CURRENCY, MAX_AMOUNT_TEXT, minorUnits, type FieldMeta } from '../catalog/kinds';
import { fieldsOfDefinition } from '../catalog/registry';
import type { ActionDefinition } from '../catalog/define';
import { InvalidInput } from '../errors';

/**
 * A schema's issues as a client can act on them: every offending field (API.md "400
 * validation_failed"), each with its path, what is wrong and what the schema expects there.
 * `expected` is derived from the schema (the field kinds of an action, else its JSON schema),
 * never written per action.
 */
export const FieldIssue = z.strictObject({ path: z.string(), message: z.string(), expected: z.string() });
export type FieldIssue = z.infer<typeof FieldIssue>;

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

/** One issue, before `expected`: its path as sent (safe segments) and its message. */
interface IssueLine {
  readonly at: readonly PropertyKey[];
  readonly path: string;
  readonly message: string;
  /** A key the schema does not have. */
  readonly unknownKey?: true;
}

/** `fields.amount: must be > 0` — the path a client needs to fix its body. */
export function describeIssues(error: z.core.$ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      // zod quotes unknown keys verbatim; a key can be anything a client sent, secrets included.
      const message = issue.code === 'unrecognized_keys' ? `unrecognized key(s): ${issue.keys.map(safeSegment).join(', ')}` : issue.message;
      return `${pathOf(prefix, issue.path)}: ${message}`;
    })
    .join('; ');
}

function pathOf(prefix: string, at: readonly PropertyKey[]): string {
  return [prefix, ...at.map(safeSegment)].filter(Boolean).join('.') || '(body)';
}

/** A path segment as sent, when it is a plain short name or an index; anything else is `<key>`. */
function safeSegment(segment: PropertyKey): string {
  if (typeof segment === 'number') return String(segment);
  const plain = typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(segment) && !/^(AKIA|ASIA)[A-Z0-9]{12,}$/.test(segment);
  return plain ? segment : '<key>';
}

function valueAt(input: unknown, at: readonly PropertyKey[]): unknown {
  let value = input;
  for (const segment of at) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/** One line per offending field: an unknown key is a field of its own, a missing one says `required`. */
function issueLines(error: z.core.$ZodError, prefix: string, input: unknown): IssueLine[] {
  return error.issues.flatMap((issue): IssueLine[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ at: [...issue.path, key], path: pathOf(prefix, [...issue.path, key]), message: 'not a known field', unknownKey: true as const }));
    }
    // Whatever zod calls it (a wrong type, an invalid option), a field that was not sent is missing.
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    return [{ at: issue.path, path: pathOf(prefix, issue.path), message: missing ? 'required' : issue.message }];
  });
}

const jsonSchemas = new WeakMap<z.core.$ZodType, JsonSchema>();

function jsonSchemaOf(schema: z.core.$ZodType): JsonSchema {
  let json = jsonSchemas.get(schema);
  if (!json) {
    try {
      json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
    } catch {
      // A schema JSON Schema cannot say (a cycle, say) still gets its 400: with "a valid value" expected.
      json = {};
    }
    jsonSchemas.set(schema, json);
  }
  return json;
}

function jsonAt(root: JsonSchema, at: readonly PropertyKey[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = root;
  for (const segment of at) {
    if (!node) return undefined;
    const options: JsonSchema[] = node.anyOf ?? node.oneOf ?? [node];
    node = options
      .map((option): JsonSchema | undefined =>
        typeof segment === 'number'
          ? option.items
          : (option.properties && Object.hasOwn(option.properties, segment) ? option.properties[segment as string] : undefined) ??
            (typeof option.additionalProperties === 'object' ? option.additionalProperties : undefined),
      )
      .find((n) => n !== undefined);
  }
  return node;
}

function range(min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return `${min}..${max}`;
  if (min !== undefined) return `at least ${min}`;
  if (max !== undefined) return `at most ${max}`;
  return undefined;
}

/** A JSON schema node in words: "string of 1..4000 characters", "integer 1..100", "one of approve, reject". */
function describeJson(node: JsonSchema): string {
  if (node.enum) return `one of ${node.enum.map(String).join(', ')}`;
  if (node.const !== undefined) return `exactly ${JSON.stringify(node.const)}`;
  const options = node.anyOf ?? node.oneOf;
  if (options) return options.map(describeJson).join(' or ');
  switch (node.type) {
    case 'string': {
      const length = range(node.minLength, node.maxLength);
      return ['string', length && `of ${length} characters`, node.pattern && `matching ${node.pattern}`, node.format && `(${node.format})`].filter(Boolean).join(' ');
    }
    case 'number':
    case 'integer': {
      if (node.minimum !== undefined && node.maximum !== undefined) return `${node.type} ${node.minimum}..${node.maximum}`;
      const bounds = [
        node.exclusiveMinimum !== undefined ? `> ${node.exclusiveMinimum}` : node.minimum !== undefined ? `>= ${node.minimum}` : undefined,
        node.exclusiveMaximum !== undefined ? `< ${node.exclusiveMaximum}` : node.maximum !== undefined ? `<= ${node.maximum}` : undefined,
      ].filter(Boolean);
      return bounds.length > 0 ? `${node.type} ${bounds.join(' and ')}` : node.type;
    }
    case 'object': {
      const keys = Object.keys(node.properties ?? {});
      return keys.length > 0 ? `object with fields ${keys.join(', ')}` : 'object';
    }
    case 'array':
      return 'array';
    case 'boolean':
      return 'true or false';
    default:
      return 'a valid value';
  }
}

/** A field of an action in words, by its kind; `undefined` when its JSON schema says it as well. */
function describeKind(meta: FieldMeta): string | undefined {
  switch (meta.kind) {
    case 'money':
      return `number > 0, at most ${MAX_AMOUNT_TEXT}, with no more decimals than its currency has (${minorUnits(DEFAULT_CURRENCY)} for ${DEFAULT_CURRENCY})`;
    case 'currency':
      return `ISO 4217 code such as ${DEFAULT_CURRENCY} (${DEFAULT_CURRENCY} when left out)`;
    case 'date':
      return 'YYYY-MM-DD (a real calendar date)';
    case 'choice':
      return `one of ${meta.values.join(', ')}`;
    case 'recordId':
      return `${meta.identifies} id: 1..64 characters of A-Z, a-z, 0-9, _ and -`;
    case 'freeText':
      return `string of ${meta.min}..${meta.max} characters`;
    case 'partyName':
      return undefined;
  }
}

/** What a schema expects at a path, and which keys an object there has. */
export interface SchemaGuide {
  expected(at: readonly PropertyKey[]): string;
  keys(at: readonly PropertyKey[]): string[];
}

/** The guide of any zod schema (a body, a query): its JSON schema, read in words. */
export function schemaGuide(schema: z.core.$ZodType): SchemaGuide {
  const root = jsonSchemaOf(schema);
  return {
    expected: (at) => {
      const node = jsonAt(root, at);
      return node ? describeJson(node) : 'a valid value';
    },
    keys: (at) => Object.keys(jsonAt(root, at)?.properties ?? {}),
  };
}

/** The guide of an action's fields: each field by its kind, anything else by the JSON schema. */
export function fieldsGuide(action: Pick<ActionDefinition, 'fields'>): SchemaGuide {
  const byJson = schemaGuide(action.fields);
  const kinds = new Map(fieldsOfDefinition(action).map((field) => [field.name, field.meta]));
  return {
    expected: (at) => {
      const meta = at.length === 1 && typeof at[0] === 'string' ? kinds.get(at[0]) : undefined;
      return (meta && describeKind(meta)) ?? byJson.expected(at);
    },
    keys: byJson.keys,
  };
}

/** Every offending field of a parse, once each (its messages joined), with what the schema expects at its path. */
export function fieldIssues(error: z.core.$ZodError, options: { guide: SchemaGuide; input: unknown; prefix?: string }): FieldIssue[] {
  const { guide, input, prefix = '' } = options;
  const byPath = new Map<string, FieldIssue>();
  for (const { at, path, message, unknownKey } of issueLines(error, prefix, input)) {
    const seen = byPath.get(path);
    if (seen) {
      // "01/02/2027" fails both the pattern and the calendar check: one field, one entry.
      if (!seen.message.split('; ').includes(message)) seen.message = `${seen.message}; ${message}`;
      continue;
    }
    const known = unknownKey ? guide.keys(at.slice(0, -1)) : [];
    const expected = !unknownKey ? guide.expected(at) : known.length > 0 ? `no such field; the fields are ${known.join(', ')}` : 'no such field';
    byPath.set(path, { path, message, expected });
  }
  return [...byPath.values()];
}

/** The 400 `validation_failed` of a parse: every offending field in `detail` and in `errors`. */
export function invalidFields(error: z.core.$ZodError, options: { guide: SchemaGuide; input: unknown; prefix?: string }): InvalidInput {
  const issues = fieldIssues(error, options);
  return new InvalidInput('validation_failed', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), issues);
}
