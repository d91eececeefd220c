import { createHash } from 'node:crypto';
import * as z from '../schemas/zod';
import { canonicalJson } from '../canonical-json';
import { DEFAULT_CURRENCY, IsoDate, minorUnits, type FieldMeta } from '../catalog/kinds';
import { recordKey } from '../catalog/records';
import type { RecordKey } from '../ports';
import type { CumulativeMeasure } from '../policy/schemas';
import { vendorKey } from '../vendors';

/**
 * A request's share of each cumulative fact its action's policy declares (`cumulative` in
 * policy.json): which aggregate it adds to (the action, the measure, and the values it is
 * counted per) and how much. Pure: the same proposal and requester always give the same shares,
 * so validation (reserve), execution (commit) and finalize (release) agree on the aggregates.
 */
export interface CumulativeShare {
  readonly action: string;
  readonly name: string;
  /** The values it is counted per, folded as the system of record compares them (a vendor's name by `vendorKey`). */
  readonly per: Readonly<Record<string, string>>;
  /** This request's amount: an integer, in the currency's minor units or in steps. */
  readonly units: number;
  /** A currency code, or `steps`. */
  readonly unit: string;
  /** Minor units per unit of `unit` (100 for USD, 1 for JPY and for steps): what `units` are divided by to show them. */
  readonly scale: number;
  readonly windowDays?: number;
  /** When the share counts from, if later than its reservation (the ISO start of the declared `countedFrom` date). */
  readonly countsFrom?: string;
}

/** What an approver and the audit see of one cumulative fact: this request included. */
export const CumulativeFigure = z.strictObject({
  name: z.string(),
  /** Executed or in flight, this request included, in `unit` (dollars, not cents; or steps). */
  total: z.number(),
  /** This request's share of it. */
  request: z.number(),
  unit: z.string(),
  per: z.record(z.string(), z.string()),
  /** Absent: over the counterparty's lifetime. */
  windowDays: z.optional(z.number().check(z.int())),
});
export type CumulativeFigure = z.infer<typeof CumulativeFigure>;

/** An action's field as the shares read it: its kind decides how a value is folded. */
export interface ShareField {
  readonly name: string;
  readonly meta: FieldMeta;
}

/** The policy facts an action needs to count shares: its declared measures and its ranks. */
export interface ShareDeclaration {
  readonly action: string;
  readonly cumulative: readonly CumulativeMeasure[];
  readonly ranks: readonly { readonly fields: readonly string[]; readonly order: readonly string[] }[];
}

/** A declaration that names fields the action does not have, or ranks it does not declare: refused at load. */
export class CumulativeDeclarationError extends Error {
  override readonly name = 'CumulativeDeclarationError';
}

export const REQUESTER = 'requester';

/** Every problem with an action's `cumulative` declarations, as messages (empty: it is sound). */
export function cumulativeProblems(declaration: ShareDeclaration, fields: readonly ShareField[]): string[] {
  const problems: string[] = [];
  const kindOf = new Map(fields.map((field) => [field.name, field.meta.kind]));
  for (const measure of declaration.cumulative) {
    const where = `cumulative ${measure.name}`;
    for (const per of measure.per) {
      if (per !== REQUESTER && !kindOf.has(per)) problems.push(`${where}: per ${per} is neither "requester" nor a field`);
    }
    if (new Set(measure.per).size !== measure.per.length) problems.push(`${where}: per names a value twice`);
    if (measure.countedFrom !== undefined && kindOf.get(measure.countedFrom) !== 'date') problems.push(`${where}: countedFrom ${measure.countedFrom} is not a date field`);
    if ('sum' in measure) {
      if (kindOf.get(measure.sum) !== 'money') problems.push(`${where}: sum ${measure.sum} is not a money field`);
      if (fields.filter((field) => field.meta.kind === 'currency').length > 1) problems.push(`${where}: the action has more than one currency field`);
    } else {
      const rank = declaration.ranks.find((r) => r.fields.includes(measure.steps.from) && r.fields.includes(measure.steps.to));
      if (!rank) problems.push(`${where}: steps from ${measure.steps.from} to ${measure.steps.to} are not fields of one rank`);
    }
  }
  return problems;
}

/**
 * An amount in minor units as a count the ledger and Cedar hold exactly. A proposal the schema
 * refused can still be evaluated (the policy rejects it): not-a-number and beyond-range amounts
 * count as the most there is, so a limit never lets them through, and a negative one as nothing.
 */
export function countOf(minorUnits: number): number {
  if (Number.isNaN(minorUnits) || minorUnits >= Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  return minorUnits <= 0 ? 0 : Math.round(minorUnits);
}

function fold(value: unknown, meta: FieldMeta | undefined): string {
  const text = String(value);
  return meta?.kind === 'partyName' ? vendorKey(text) : text.trim();
}

/**
 * The request's shares, one per declared measure. `fields` are the proposal's (schema-valid),
 * `requester` the verified subject. Money is counted in the currency's minor units: a valid
 * amount has no more decimals than its currency, so the rounding below is exact.
 */
export function sharesOf(
  declaration: ShareDeclaration,
  fieldKinds: readonly ShareField[],
  values: Readonly<Record<string, unknown>>,
  requester: string,
): CumulativeShare[] {
  const metaOf = new Map(fieldKinds.map((field) => [field.name, field.meta]));
  const currencyField = fieldKinds.find((field) => field.meta.kind === 'currency')?.name;
  return declaration.cumulative.map((measure) => {
    const per: Record<string, string> = {};
    for (const name of measure.per) per[name] = name === REQUESTER ? requester : fold(values[name], metaOf.get(name));
    let units: number;
    let unit: string;
    let scale: number;
    if ('sum' in measure) {
      unit = currencyField !== undefined && typeof values[currencyField] === 'string' ? (values[currencyField] as string) : DEFAULT_CURRENCY;
      scale = scaleOf(unit);
      units = countOf(Number(values[measure.sum]) * scale);
      // Amounts in different currencies are different aggregates.
      per.currency = unit;
    } else {
      const rank = declaration.ranks.find((r) => r.fields.includes(measure.steps.from) && r.fields.includes(measure.steps.to));
      if (!rank) throw new CumulativeDeclarationError(`${declaration.action} cumulative ${measure.name}: no rank orders ${measure.steps.from} and ${measure.steps.to}`);
      const from = rank.order.indexOf(String(values[measure.steps.from]));
      const to = rank.order.indexOf(String(values[measure.steps.to]));
      // A step down or sideways is refused by policy; it moves nothing up.
      units = from < 0 || to < 0 ? 0 : Math.max(0, to - from);
      unit = 'steps';
      scale = 1;
    }
    const countsFrom = measure.countedFrom !== undefined ? startOfDate(values[measure.countedFrom]) : undefined;
    return {
      action: declaration.action,
      name: measure.name,
      per,
      units,
      unit,
      scale,
      ...(measure.windowDays !== undefined ? { windowDays: measure.windowDays } : {}),
      ...(countsFrom !== undefined ? { countsFrom } : {}),
    };
  });
}

/** The start (00:00 UTC) of a date field's value as an ISO timestamp, or undefined for anything that is not a date. */
function startOfDate(value: unknown): string | undefined {
  const date = IsoDate.safeParse(value);
  return date.success ? `${date.data}T00:00:00.000Z` : undefined;
}

/**
 * An aggregate's own item in the record table: one per action, measure and values (hashed: names
 * are free text). A measure another hosts keeps its shares in the host's item (ledger.ts); its own
 * item only holds shares from before measures shared items.
 */
export function ledgerKey(share: Pick<CumulativeShare, 'action' | 'name' | 'per'>): RecordKey {
  return recordKey(LEDGER_TYPE, `${share.action}.${share.name}.${aggregateDigest(share)}`);
}

/** The aggregate's identity as hex: the action, the measure and the values it is counted per. */
export function aggregateDigest(share: Pick<CumulativeShare, 'action' | 'name' | 'per'>): string {
  return createHash('sha256').update(canonicalJson({ action: share.action, name: share.name, per: share.per })).digest('hex').slice(0, 40);
}

/** The record type of the aggregates: IAM lets validation and finalize write only items under `LIMIT#`. */
export const LEDGER_TYPE = 'LIMIT';

/** A figure as shown, from an aggregate's total in minor units (or steps). */
export function figureOf(share: CumulativeShare, totalUnits: number): CumulativeFigure {
  return {
    name: share.name,
    total: totalUnits / share.scale,
    request: share.units / share.scale,
    unit: share.unit,
    per: { ...share.per },
    ...(share.windowDays !== undefined ? { windowDays: share.windowDays } : {}),
  };
}

/** Minor units per unit: 100 for USD, 1 for JPY and for steps. */
function scaleOf(unit: string): number {
  return unit === 'steps' ? 1 : 10 ** minorUnits(unit);
}

