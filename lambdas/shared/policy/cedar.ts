import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';
import { vendorKey } from '../vendors';

/**
 * The Cedar engine (`@cedar-policy/cedar-wasm`, the language of Amazon Verified Permissions):
 * loading, strict validation, preparsed evaluation and the conversion of Warden's values to
 * Cedar's. It names no action; the packs it evaluates come from the catalog.
 */

type Cedar = typeof CedarWasm;
let cedar: Cedar | undefined;

/**
 * The wasm module, loaded on first use: Lambdas that never evaluate a policy never pay for it.
 * The `nodejs` build reads `${__dirname}/cedar_wasm_bg.wasm`; in a bundle the banner defines
 * `__dirname` as the bundle's folder and the bundling hook copies the file there.
 */
export function cedarModule(): Cedar {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cedar ??= require('@cedar-policy/cedar-wasm/nodejs') as Cedar;
  return cedar;
}

/** A policy or schema that cannot be loaded, or an evaluation Cedar could not finish: never a decision. */
export class PolicyEngineError extends Error {
  override readonly name = 'PolicyEngineError';
}

const messages = (errors: readonly { message: string }[]) => errors.map((e) => e.message).join('; ');

/** Splits a `.cedar` text into `{ id → policy text }` by each policy's `@id("…")`, keeping file order. */
export function policyMap(text: string, where: string): Record<string, string> {
  const c = cedarModule();
  const parts = c.policySetTextToParts(text);
  if (parts.type !== 'success') throw new PolicyEngineError(`${where}: ${messages(parts.errors)}`);
  const map: Record<string, string> = {};
  for (const policy of parts.policies) {
    const json = c.policyToJson(policy);
    const id = json.type === 'success' ? json.json.annotations?.id : undefined;
    if (!id) throw new PolicyEngineError(`${where}: a policy without @id("…"): ${policy.slice(0, 80)}`);
    if (id in map) throw new PolicyEngineError(`${where}: duplicate policy id ${id}`);
    map[id] = policy;
  }
  return map;
}

/** The JSON form of one policy (effect, scope, conditions), for the loader's cross-checks. */
export function policyJson(text: string): CedarWasm.PolicyJson {
  const json = cedarModule().policyToJson(text);
  if (json.type !== 'success') throw new PolicyEngineError(messages(json.errors));
  return json.json;
}

/** Checks that the JSON forms parse as they are (what a bundle preparses); throws naming the policy. */
export function checkPolicyJson(policies: Record<string, PolicyJson>, where: string): void {
  const result = cedarModule().checkParsePolicySet({ staticPolicies: policies });
  if (result.type !== 'success') throw new PolicyEngineError(`${where}: ${messages(result.errors)}`);
}

/** Parses a schema text and validates the policies against it in strict mode; throws with every error. */
export function validateStrict(schema: string, policies: Record<string, string>, where: string): void {
  const c = cedarModule();
  const parsed = c.checkParseSchema(schema);
  if (parsed.type !== 'success') throw new PolicyEngineError(`${where} schema: ${messages(parsed.errors)}`);
  const result = c.validate({ schema, policies: { staticPolicies: policies }, validationSettings: { mode: 'strict' } });
  if (result.type !== 'success') throw new PolicyEngineError(`${where}: ${messages(result.errors)}`);
  const errors = result.validationErrors.map((e) => `${e.policyId}: ${e.error.message}`);
  if (errors.length > 0) throw new PolicyEngineError(`${where}: ${errors.join('; ')}`);
}

/** The schema's JSON form, which the value conversion walks. */
export function schemaJson(schema: string): CedarSchemaJson {
  const json = cedarModule().schemaToJson(schema);
  if (json.type !== 'success') throw new PolicyEngineError(messages(json.errors));
  return (json.json as Record<string, CedarSchemaJson>)[''];
}

export type PolicyJson = CedarWasm.PolicyJson;

/**
 * Preparses a schema and policy set once under `key`, from their JSON forms (about half the
 * first-use cost of the text parsers); later evaluations name the key only.
 */
export function preparse(key: string, schema: CedarSchemaJson, policies: Record<string, PolicyJson>): void {
  const c = cedarModule();
  const schemaInput = { '': schema } as unknown as CedarWasm.Schema;
  for (const result of [c.preparseSchema(key, schemaInput), c.preparsePolicySet(key, { staticPolicies: policies })]) {
    if (result.type !== 'success') throw new PolicyEngineError(`${key}: ${messages(result.errors)}`);
  }
}

export interface CedarEntity {
  uid: { type: string; id: string };
  attrs: Record<string, unknown>;
  parents: { type: string; id: string }[];
}

export interface CedarRequest {
  principal: CedarEntity;
  action: string;
  resource: CedarEntity;
  context: Record<string, unknown>;
  /** Entities the policies may reach besides the principal and the resource. */
  others?: CedarEntity[];
}

/** The allow/deny and the ids of the policies that decided it. */
export interface CedarAnswer {
  allowed: boolean;
  policyIds: string[];
}

/**
 * One evaluation against a preparsed pack, validated against its schema. Fails closed: a request
 * that does not match the schema, or any policy that errors while evaluating (Cedar skips such a
 * policy, so an erroring `forbid` would let the request through), throws instead of deciding.
 */
export function ask(key: string, request: CedarRequest): CedarAnswer {
  const answer = cedarModule().statefulIsAuthorized({
    principal: request.principal.uid,
    action: { type: 'Action', id: request.action },
    resource: request.resource.uid,
    context: request.context as CedarWasm.Context,
    preparsedPolicySetId: key,
    preparsedSchemaName: key,
    validateRequest: true,
    entities: [request.principal, request.resource, ...(request.others ?? [])] as CedarWasm.EntityJson[],
  });
  if (answer.type !== 'success') throw new PolicyEngineError(`${key} ${request.action}: ${messages(answer.errors)}`);
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0) {
    throw new PolicyEngineError(`${key} ${request.action}: ${diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ')}`);
  }
  return { allowed: decision === 'allow', policyIds: diagnostics.reason };
}

/** A user with their verified roles, as both parents (`principal in Role::"…"`) and a set (`principal.roles`). */
export function userEntity(id: string, roles: readonly string[]): CedarEntity {
  const unique = [...new Set(roles)];
  return { uid: { type: 'User', id }, attrs: { roles: unique }, parents: unique.map((role) => ({ type: 'Role', id: role })) };
}

// ---------------------------------------------------------------------------------------------
// Values: Warden's JSON values to Cedar's, directed by the schema's declared types.

/** A type in a Cedar JSON schema (the subset the converter reads). */
export interface CedarType {
  type: string;
  name?: string;
  element?: CedarType;
  attributes?: Record<string, CedarType & { required?: boolean }>;
}
export interface CedarSchemaJson {
  commonTypes?: Record<string, CedarType>;
  entityTypes: Record<string, { shape?: CedarType }>;
}

// Cents beyond this saturate: no limit is anywhere near it, and every upper bound still catches them.
const MAX_CENTS = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Money as integer cents, both ways rounded: `floorCents` and `ceilCents` of the amount as its
 * shortest decimal form reads (what JSON carried: 119.9 is 11990 cents, not 11990.000000000002).
 * Compared with a whole-cent limit L they are exact for every number: x < L ⇔ floor < L,
 * x ≥ L ⇔ floor ≥ L, x ≤ L ⇔ ceil ≤ L, x > L ⇔ ceil > L. NaN and +∞ count as the largest
 * amount, −∞ as the smallest, so a bound never lets them through.
 */
export function moneyToCents(value: number): { floorCents: number; ceilCents: number } {
  if (Number.isNaN(value) || value === Number.POSITIVE_INFINITY) return { floorCents: Number(MAX_CENTS), ceilCents: Number(MAX_CENTS) };
  if (value === Number.NEGATIVE_INFINITY) return { floorCents: -Number(MAX_CENTS), ceilCents: -Number(MAX_CENTS) };
  const negative = value < 0;
  // toFixed is exact decimal only up to 1e21; above that the amount saturates anyway.
  const abs = Math.abs(value);
  if (abs >= 1e15) return negative ? { floorCents: -Number(MAX_CENTS), ceilCents: -Number(MAX_CENTS) } : { floorCents: Number(MAX_CENTS), ceilCents: Number(MAX_CENTS) };
  const [intPart, fracPart = ''] = decimalString(abs).split('.');
  const cents = BigInt(intPart) * 100n + BigInt((fracPart + '00').slice(0, 2));
  const remainder = /[1-9]/.test(fracPart.slice(2));
  const [down, up] = remainder ? [cents, cents + 1n] : [cents, cents];
  const clamp = (n: bigint) => Number(n > MAX_CENTS ? MAX_CENTS : n);
  return negative ? { floorCents: -clamp(up), ceilCents: -clamp(down) } : { floorCents: clamp(down), ceilCents: clamp(up) };
}

/** The shortest decimal that reads back as `abs` (JavaScript's own), without exponent notation. */
function decimalString(abs: number): string {
  const text = String(abs);
  const exp = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!exp) return text;
  const digits = exp[1] + (exp[2] ?? '');
  const power = Number(exp[3]);
  if (power < 0) return `0.${'0'.repeat(-power - 1)}${digits}`;
  return digits.padEnd(power + 1, '0');
}

const datetime = (value: string) => ({ __extn: { fn: 'datetime', arg: value } });

/**
 * Converts a value to the Cedar JSON the schema declares for it. Common types in the base schema
 * carry Warden's meaning: `Money` (a number → cents, see moneyToCents), `PartyName` (folded as
 * the system of record keys names), `datetime` (`YYYY-MM-DD`). Record attributes the schema does
 * not declare are left out; a value of the wrong type throws, so it can never reach a policy.
 */
export function toCedarValue(value: unknown, type: CedarType, schema: CedarSchemaJson, path: string): unknown {
  const name = type.type === 'EntityOrCommon' ? type.name : type.type;
  const common = name !== undefined ? schema.commonTypes?.[name] : undefined;
  switch (name) {
    case 'Money':
      if (typeof value !== 'number') throw new PolicyEngineError(`${path}: expected money, got ${typeof value}`);
      return moneyToCents(value);
    case 'PartyName':
      if (typeof value !== 'string') throw new PolicyEngineError(`${path}: expected a name`);
      return vendorKey(value);
    case 'datetime':
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new PolicyEngineError(`${path}: expected YYYY-MM-DD`);
      return datetime(value);
    case 'String':
      if (typeof value !== 'string') throw new PolicyEngineError(`${path}: expected a string`);
      return value;
    case 'Bool':
    case 'Boolean':
      if (typeof value !== 'boolean') throw new PolicyEngineError(`${path}: expected a boolean`);
      return value;
    case 'Long':
      if (!Number.isSafeInteger(value)) throw new PolicyEngineError(`${path}: expected an integer`);
      return value;
    case 'Set':
      if (!Array.isArray(value) || !type.element) throw new PolicyEngineError(`${path}: expected a set`);
      return value.map((item, i) => toCedarValue(item, type.element as CedarType, schema, `${path}[${i}]`));
    case 'Record': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PolicyEngineError(`${path}: expected a record`);
      const out: Record<string, unknown> = {};
      for (const [attr, attrType] of Object.entries(type.attributes ?? {})) {
        const v = (value as Record<string, unknown>)[attr];
        if (v === undefined) {
          if (attrType.required === false) continue;
          throw new PolicyEngineError(`${path}.${attr}: missing`);
        }
        out[attr] = toCedarValue(v, attrType, schema, `${path}.${attr}`);
      }
      return out;
    }
    default:
      if (common) return toCedarValue(value, common, schema, path);
      throw new PolicyEngineError(`${path}: type ${String(name)} is not one Warden converts`);
  }
}
