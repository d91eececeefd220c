import * as z from 'zod';
import { ID_PATTERN } from '../ids';

/**
 * Field kinds: what a field of an action is, beyond its zod type. Grounding, extraction and the
 * approval packet read a field by its kind, so core code never needs to know an action's fields.
 * The kind lives in a registry of its own rather than in zod's global one, so it never leaks into
 * the JSON schema the model is given.
 */
export type FieldMeta =
  | { readonly kind: 'money' }
  | { readonly kind: 'currency' }
  | { readonly kind: 'date' }
  | {
      readonly kind: 'choice';
      readonly values: readonly string[];
      /** Words that may follow a value and name what it is: "the premium tier", "the basic plan". */
      readonly nouns?: readonly string[];
    }
  | {
      readonly kind: 'recordId';
      readonly identifies: string;
      /** How an id is written bare, with no word before it: `C-` for `C-1001`. */
      readonly prefix?: string;
    }
  | {
      readonly kind: 'partyName';
      /** Parties the team's system of record knows, as it spells them: read anywhere in a request, in any case. */
      readonly known: readonly string[];
      /** What a party is called: "vendor: X", "supplier is X" put a name in the party's place. */
      readonly nouns: readonly string[];
      /** The action's words a party's name follows with "to" or "with": "PO to X", "purchase order with X". */
      readonly joinedBy: readonly string[];
      /** The action's words a party's name follows directly, or after a colon or dash: "PO: X", "Purchase order X". */
      readonly headedBy: readonly string[];
    }
  | {
      readonly kind: 'freeText';
      /** What the words are: why the action is asked for, or what it concerns (what is bought). */
      readonly says: FreeTextSays;
      readonly min: number;
      readonly max: number;
    };

export type FreeTextSays = 'reason' | 'description';

export type FieldKind = FieldMeta['kind'];

const fieldKinds = z.registry<FieldMeta>();

/** The kind a field schema was built with; undefined for a schema no kind constructor made. */
export function fieldMetaOf(schema: z.ZodType): FieldMeta | undefined {
  return fieldKinds.get(schema);
}

function withKind<S extends z.ZodType>(schema: S, meta: FieldMeta): S {
  fieldKinds.add(schema, meta);
  return schema;
}

/** A positive, finite amount of money (NaN, Infinity and zero are not money). */
export function money() {
  return withKind(z.number().finite().positive(), { kind: 'money' });
}

/** An ISO 4217 code; USD when the request names none. */
export function currency() {
  return withKind(
    z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
      .default('USD'),
    { kind: 'currency' },
  );
}

/** `YYYY-MM-DD` that is a real calendar date. */
export function date() {
  return withKind(
    z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
      .refine((s) => {
        const d = new Date(`${s}T00:00:00Z`);
        return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
      }, 'must be a real calendar date'),
    { kind: 'date' },
  );
}

/** One of a fixed list of values (a tier, a queue); `nouns` are the words a value may go with ("tier", "plan"). */
export function choice<const T extends readonly [string, ...string[]]>(values: T, options: { nouns?: readonly string[] } = {}) {
  return withKind(z.enum(values), { kind: 'choice', values, ...(options.nouns ? { nouns: options.nouns } : {}) });
}

/**
 * The id of a record in the team's systems; `identifies` names what it is (customer, order), and
 * a request may write it after that word ("customer 42"), or bare with the `prefix` ("C-1001").
 */
export function recordId(identifies: string, options: { prefix?: string } = {}) {
  return withKind(z.string().regex(ID_PATTERN, 'must be 1..64 characters of [A-Za-z0-9_-]'), {
    kind: 'recordId',
    identifies,
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
  });
}

export interface PartyNameOptions {
  readonly max?: number;
  readonly known?: readonly string[];
  readonly nouns?: readonly string[];
  readonly joinedBy?: readonly string[];
  readonly headedBy?: readonly string[];
}

/**
 * The name of a party the action deals with, such as a vendor: `known` lists the ones the team's
 * system of record holds (a name read elsewhere is taken as written, for policy to judge), and
 * the words say where a request writes one. "for X" and "from X" always do.
 */
export function partyName(options: PartyNameOptions = {}) {
  return withKind(z.string().trim().min(1).max(options.max ?? 200), {
    kind: 'partyName',
    known: options.known ?? [],
    nouns: options.nouns ?? [],
    joinedBy: options.joinedBy ?? [],
    headedBy: options.headedBy ?? [],
  });
}

/** Words the requester wrote: a reason or justification (the default), or a description of what the action concerns. */
export function freeText(options: { min: number; max: number; says?: FreeTextSays }) {
  return withKind(z.string().trim().min(options.min).max(options.max), {
    kind: 'freeText',
    says: options.says ?? 'reason',
    min: options.min,
    max: options.max,
  });
}

/** Shared by the code that checks a value outside any action (the text recognisers, policy). */
export const Amount = money();
export const IsoDate = date();
