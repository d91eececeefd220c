import * as z from '../schemas/zod';
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
export function fieldMetaOf(schema: z.core.$ZodType): FieldMeta | undefined {
  return fieldKinds.get(schema);
}

/** The fields of an action's fields object, whichever build of zod (classic or mini) made it. */
export function shapeOf(fields: z.core.$ZodObject): Readonly<Record<string, z.core.$ZodType>> {
  return fields._zod.def.shape;
}

function withKind<S extends z.core.$ZodType>(schema: S, meta: FieldMeta): S {
  fieldKinds.add(schema, meta);
  return schema;
}

/**
 * The largest amount any action takes: no governed action moves a trillion, and below it every
 * amount, in the smallest unit of any currency, is a number DynamoDB and the policy engine hold
 * exactly (1e200 is refused here, not by the store after the request was accepted).
 */
export const MAX_AMOUNT = 1e12;

/**
 * MAX_AMOUNT as messages write it (en-US digit grouping), without Intl: the first
 * `toLocaleString` loads ICU's locale data, about 12 ms of every cold start that builds a schema.
 */
export const MAX_AMOUNT_TEXT = String(MAX_AMOUNT).replace(/\B(?=(\d{3})+$)/g, ',');

/** ISO 4217 minor units of the currencies that do not have 2; any other code has 2. Data: extend the table. */
export const MINOR_UNITS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/** How many decimals a currency's amounts have (USD 2, JPY 0, KWD 3); 2 for a code the table does not list. */
export function minorUnits(currency: string): number {
  return MINOR_UNITS[currency] ?? 2;
}

/** The decimals a number is written with, read from its shortest round-trip form: 4999.999 → 3, 1e-9 → 9, 1e21 → 0. */
export function decimalPlaces(value: number): number {
  const m = /^-?\d+(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (!m) return Number.POSITIVE_INFINITY;
  return Math.max(0, (m[1]?.length ?? 0) - Number(m[2] ?? 0));
}

/**
 * A positive, finite amount of money (NaN, Infinity and zero are not money), at most
 * `MAX_AMOUNT`. Its decimals depend on the currency, so an action's fields check them together
 * (`amountsInMinorUnits`, applied by `defineAction`).
 */
export function money() {
  return withKind(z.number().check(z.positive(), z.lte(MAX_AMOUNT, `must be at most ${MAX_AMOUNT_TEXT}`)), { kind: 'money' });
}

/**
 * The schema with one more check, built by its own flavour of zod (classic or mini: `clone` keeps
 * its class), with the schema as its parent, as both flavours' `.check()` do: a description or
 * other metadata registered on it still belongs to the result.
 */
function withCheck<S extends z.core.$ZodType>(schema: S, check: z.core.$ZodCheck): S {
  return z.clone(schema, { ...schema._zod.def, checks: [...(schema._zod.def.checks ?? []), check] }, { parent: true });
}

/**
 * The fields with every amount checked against the currency the same fields name (the action's
 * one currency field; 2 decimals when it has none): $4,999.999 and ¥100.5 are not amounts of
 * money. The issue is on the amount's own path, so a 400 names the field.
 */
export function amountsInMinorUnits<S extends z.core.$ZodObject>(fields: S): S {
  const kinds = Object.entries(shapeOf(fields)).map(([name, schema]) => ({ name, meta: fieldMetaOf(schema) }));
  const amounts = kinds.filter((f) => f.meta?.kind === 'money').map((f) => f.name);
  const currencies = kinds.filter((f) => f.meta?.kind === 'currency').map((f) => f.name);
  if (amounts.length === 0) return fields;
  const currencyField = currencies.length === 1 ? currencies[0] : undefined;
  return withCheck(fields, z.superRefine((value: Record<string, unknown>, ctx) => {
    const code = currencyField !== undefined && typeof value[currencyField] === 'string' ? (value[currencyField] as string) : undefined;
    const units = code === undefined ? 2 : minorUnits(code);
    for (const name of amounts) {
      const amount = value[name];
      if (typeof amount !== 'number' || decimalPlaces(amount) <= units) continue;
      ctx.addIssue({ code: 'custom', path: [name], message: `must have at most ${units} decimals${code ? ` in ${code}` : ''}`, input: amount });
    }
  })) as S;
}

/** The currency of an amount whose request names none, and of an action's amounts when it has no currency field. */
export const DEFAULT_CURRENCY = 'USD';

/** An ISO 4217 code; USD when the request names none. */
export function currency() {
  return withKind(
    z._default(z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')), DEFAULT_CURRENCY),
    { kind: 'currency' },
  );
}

/** `YYYY-MM-DD` that is a real calendar date. */
export function date() {
  return withKind(
    z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'), z.refine((s) => {
        const d = new Date(`${s}T00:00:00Z`);
        return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
      }, 'must be a real calendar date')),
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
  return withKind(z.string().check(z.regex(ID_PATTERN, 'must be 1..64 characters of [A-Za-z0-9_-]')), {
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
  return withKind(z.string().check(z.trim(), z.minLength(1), z.maxLength(options.max ?? 200)), {
    kind: 'partyName',
    known: options.known ?? [],
    nouns: options.nouns ?? [],
    joinedBy: options.joinedBy ?? [],
    headedBy: options.headedBy ?? [],
  });
}

/** Words the requester wrote: a reason or justification (the default), or a description of what the action concerns. */
export function freeText(options: { min: number; max: number; says?: FreeTextSays }) {
  return withKind(z.string().check(z.trim(), z.minLength(options.min), z.maxLength(options.max)), {
    kind: 'freeText',
    says: options.says ?? 'reason',
    min: options.min,
    max: options.max,
  });
}

/** Shared by the code that checks a value outside any action (the text recognisers, policy). */
export const Amount = money();
export const IsoDate = date();
