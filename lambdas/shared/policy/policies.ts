import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { actionsDir } from '../../../actions';
import routing from '../../../policies/routing.json';
import type { ActionDefinition, ActionDryRun } from '../catalog/define';
import { actionDefinition, wholeCatalog, fieldsOfDefinition } from '../catalog/registry';
import { lazy } from '../lazy';
import { cumulativeProblems } from '../limits/shares';
import { describeIssues, type ActionName } from '../schemas/actions';
import { SNAKE_CASE } from '../ids';
import { CORE_REASON_CODES, PIPELINE_REASON_CODES } from '../schemas/workflow';
import { AUTHORITY_POLICIES, AUTHORITY_SCHEMA, BASE_POLICIES, BASE_SCHEMA } from './base';
import { checkPolicyJson, policyJson, policyMap, preparse, PolicyEngineError, schemaJson, validateStrict, type CedarSchemaJson, type PolicyJson } from './cedar';
import { ActionPolicy, RoutingPolicy } from './schemas';

/** An action's policy: `policy.json` parsed, and where its Cedar text comes from. */
export interface LoadedActionPolicy extends ActionPolicy {
  /** The action it governs (snake_case). */
  readonly action: string;
  /** The Cedar texts; read from the catalog folder on first use when absent. */
  readonly source?: { readonly policy: string; readonly schema: string };
  /** The action's dry run, shown to the approver when its decision is pending. */
  readonly dryRun?: ActionDryRun<never>;
}

export type PolicySet = { readonly routing: RoutingPolicy } & { readonly [A in ActionName]: LoadedActionPolicy };

/** One action's raw inputs, as `parsePolicySet` takes them (tests and tools pass their own). */
export interface RawActionPolicy {
  policy: unknown;
  source?: { policy: string; schema: string };
}
export interface RawPolicySet {
  routing: unknown;
  actions: Record<string, RawActionPolicy>;
}

/**
 * Parses policy data; throws with every problem's path (a bad policy must never half-load).
 * `catalog` is the registered actions unless a test passes its own.
 */
export function parsePolicySet(
  raw: RawPolicySet,
  catalog: readonly (Pick<ActionDefinition, 'name' | 'dryRun'> & Partial<Pick<ActionDefinition, 'fields'>>)[] = wholeCatalog(),
): PolicySet {
  const set: Record<string, unknown> = { routing: parseRoutingPolicy(raw.routing) };
  for (const action of catalog) {
    const entry = raw.actions[action.name];
    if (!entry) throw new Error(`invalid policy files: ${action.name} has no policy`);
    const parsed = ActionPolicy.safeParse(entry.policy);
    if (!parsed.success) throw new Error(`invalid policy files: ${describeIssues(parsed.error, action.name)}`);
    const problems = action.fields ? cumulativeProblems({ action: action.name, ...parsed.data }, fieldsOfDefinition({ fields: action.fields })) : [];
    if (problems.length > 0) throw new Error(`invalid policy files: ${action.name}: ${problems.join('; ')}`);
    set[action.name] = {
      ...parsed.data,
      action: action.name,
      ...(entry.source ? { source: entry.source } : {}),
      ...(action.dryRun ? { dryRun: action.dryRun } : {}),
    };
  }
  return set as PolicySet;
}

function parseRoutingPolicy(raw: unknown): RoutingPolicy {
  const parsed = RoutingPolicy.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid policy files: ${describeIssues(parsed.error, 'routing')}`);
  return parsed.data;
}

/**
 * The shipped `policies/routing.json`, parsed on first use: triage reads it on every request
 * without the actions' policies, which it never needs.
 */
export const routingPolicy = lazy((): RoutingPolicy => parseRoutingPolicy(routing));

/**
 * The shipped policies: each catalog action's `policy.json`, bundled; parsed on first use, not at
 * import (about 10 ms of every cold start, paid now only by a path that reads a policy), then kept.
 */
export const shippedPolicies = lazy(
  (): PolicySet =>
    parsePolicySet({
      routing,
      actions: Object.fromEntries(wholeCatalog().map((action) => [action.name, { policy: actionDefinition(action.name).policy }])),
    }),
);

/** A policy compiled for the engine: preparsed under `key`, with what the evaluator needs beside it. */
export interface CompiledPolicy {
  readonly key: string;
  readonly policy: LoadedActionPolicy;
  /** Policy ids in file order: reasons are reported in this order. */
  readonly order: readonly string[];
  /** The schema's JSON form: the value conversion follows its declared types. */
  readonly schema: CedarSchemaJson;
  /** Every role a policy names (`Role::"…"`), for `knownRoles`. */
  readonly roles: readonly string[];
  /** The reason codes it can give: its forbid ids on `Request` and `RunAutonomously`, in file order. */
  readonly reasons: readonly string[];
  /** Each reason code's plain-language sentence, from its forbid's `@explain("…")`. */
  readonly explanations: Readonly<Record<string, string>>;
}

const compiled = new WeakMap<LoadedActionPolicy, CompiledPolicy>();
let loads = 0;
const PIPELINE_ONLY: ReadonlySet<string> = new Set(PIPELINE_REASON_CODES);

/**
 * A policy in Cedar's JSON forms, strictly validated: what a Lambda bundle ships
 * (`<action>/policy.pack.json`), so that a cold start never runs Cedar's text parsers — the
 * first schema-text parse alone costs a few hundred ms of lazy wasm compilation.
 */
export interface PolicyPack {
  /** `id@version` of the policy.json it was built with. */
  readonly ref: string;
  readonly schema: CedarSchemaJson;
  /** Policy id → JSON form, in file order (base policies first). */
  readonly policies: Record<string, PolicyJson>;
}

const PACK_FILE = 'policy.pack.json';
const AUTHORITY_PACK_FILE = 'authority.pack.json';

function readSource(policy: LoadedActionPolicy): { policy: string; schema: string } {
  if (policy.source) return policy.source;
  const dir = path.join(actionsDir(), policy.action);
  return { policy: readFileSync(path.join(dir, 'policy.cedar'), 'utf8'), schema: readFileSync(path.join(dir, 'policy.cedarschema'), 'utf8') };
}

/** Parses and strictly validates an action's Cedar texts (with the base) into its pack. */
export function buildPolicyPack(policy: LoadedActionPolicy, source = readSource(policy)): PolicyPack {
  const where = `${policy.action} policy ${policy.id}@${policy.version}`;
  const schema = `${BASE_SCHEMA}\n${source.schema}`;
  const own = policyMap(source.policy, where);
  const base = policyMap(BASE_POLICIES, 'base policy');
  for (const id of Object.keys(own)) if (id in base) throw new PolicyEngineError(`${where}: policy id ${id} is reserved`);
  const texts = { ...base, ...own };
  validateStrict(schema, texts, where);
  const policies = Object.fromEntries(Object.entries(texts).map(([id, text]) => [id, policyJson(text)]));
  for (const [id, json] of Object.entries(policies)) {
    if (json.effect !== 'forbid' || !(id in own)) continue;
    // A forbid id is the action's reason code (API.md): snake_case, and never one the pipeline assigns itself.
    if (!SNAKE_CASE.test(id) || id.length > 64) throw new PolicyEngineError(`${where}: forbid ${id} is not a reason code (snake_case, at most 64 characters)`);
    if (PIPELINE_ONLY.has(id)) throw new PolicyEngineError(`${where}: forbid ${id} is a reason code the pipeline assigns, not a policy`);
    if (isReasonForbid(json)) explanationOf(id, json, where);
  }
  // The JSON forms pass through JavaScript numbers: a Long literal beyond 2^53 would not survive.
  checkPolicyJson(policies, where);
  return { ref: `${policy.id}@${policy.version}`, schema: schemaJson(schema), policies };
}

/** The longest `@explain` sentence: one sentence a client shows as it is, not a document. */
const MAX_EXPLANATION_CHARS = 300;

/** A forbid that gives a reason code: one on `Request` or `RunAutonomously` (a forbid on `Approve` refuses an approver instead). */
function isReasonForbid(json: PolicyJson): boolean {
  return json.effect === 'forbid' && scopeEntity(json.action)?.id !== 'Approve';
}

/**
 * The plain-language sentence a reason code comes with (API.md `next.explanations`): the
 * forbid's `@explain("…")`. Required, so that an action's team cannot add a reason no client can
 * read; the sentence lives beside the rule it explains.
 */
function explanationOf(id: string, json: PolicyJson, where: string): string {
  const sentence = json.annotations?.explain?.trim();
  if (!sentence) throw new PolicyEngineError(`${where}: forbid ${id} has no @explain("…"): say in one sentence why it refuses or sends the request to a human`);
  if (sentence.length > MAX_EXPLANATION_CHARS) throw new PolicyEngineError(`${where}: forbid ${id}'s @explain is over ${MAX_EXPLANATION_CHARS} characters`);
  return sentence;
}

/** The bundled pack beside the bundle if there is one (a Lambda), else built from the catalog's texts. */
function packFor(policy: LoadedActionPolicy): PolicyPack {
  const file = path.join(actionsDir(), policy.action, PACK_FILE);
  if (policy.source || !existsSync(file)) return buildPolicyPack(policy);
  const pack = JSON.parse(readFileSync(file, 'utf8')) as PolicyPack;
  if (pack.ref !== `${policy.id}@${policy.version}`) throw new PolicyEngineError(`${file} was built for ${pack.ref}, not ${policy.id}@${policy.version}`);
  return pack;
}

/** The files a Lambda bundle ships: each catalog action's pack, relative to the bundle's folder. */
export function bundledPolicyFiles(policies: PolicySet = shippedPolicies()): Record<string, string> {
  return Object.fromEntries(
    [
      ...wholeCatalog().map((action) => [path.join(action.name, PACK_FILE), JSON.stringify(buildPolicyPack(policies[action.name]))]),
      [AUTHORITY_PACK_FILE, JSON.stringify(buildAuthorityPack())],
    ],
  );
}

function buildAuthorityPack(): PolicyPack {
  const texts = policyMap(AUTHORITY_POLICIES, 'authority policy');
  validateStrict(AUTHORITY_SCHEMA, texts, 'authority policy');
  const policies = Object.fromEntries(Object.entries(texts).map(([id, text]) => [id, policyJson(text)]));
  return { ref: 'authority', schema: schemaJson(AUTHORITY_SCHEMA), policies };
}

/** The entity a scope constraint (`principal in Role::"x"`, `action == Action::"y"`) names, if one. */
function scopeEntity(scope: unknown): { type?: string; id?: string } | undefined {
  const entity = (scope as { entity?: unknown }).entity as { type?: string; id?: string; __entity?: { type: string; id: string } } | undefined;
  return entity?.__entity ?? entity;
}

/** Every `Role::"…"` entity a policy's JSON form mentions (scope and conditions). */
function rolesIn(json: unknown, into: Set<string>): void {
  if (Array.isArray(json)) for (const item of json) rolesIn(item, into);
  else if (typeof json === 'object' && json !== null) {
    const record = json as Record<string, unknown>;
    if (record.type === 'Role' && typeof record.id === 'string') into.add(record.id);
    for (const value of Object.values(record)) rolesIn(value, into);
  }
}

/**
 * Loads, checks and preparses an action's policy (once per policy object): strict validation
 * against the schema, every forbid id a reason code of its own (snake_case, never the pipeline's), every tier an `Approve` permit
 * whose principal is one of the tier's approver roles, and nothing else permitting `Approve`.
 */
export function compilePolicy(policy: LoadedActionPolicy): CompiledPolicy {
  const cached = compiled.get(policy);
  if (cached) return cached;
  const where = `${policy.action} policy ${policy.id}@${policy.version}`;
  const pack = packFor(policy);

  const tierNames = new Set(policy.tiers.map((t) => t.name));
  const roles = new Set<string>();
  for (const [id, json] of Object.entries(pack.policies)) {
    rolesIn(json, roles);
    const isApprove = scopeEntity(json.action)?.id === 'Approve';
    if (json.effect === 'permit' && isApprove && !tierNames.has(id)) throw new PolicyEngineError(`${where}: Approve permit ${id} is not a tier`);
  }
  for (const tier of policy.tiers) {
    const json = pack.policies[tier.name];
    const principal = json && json.principal.op === 'in' ? scopeEntity(json.principal) : undefined;
    const ok =
      json?.effect === 'permit' &&
      json.action.op === '==' &&
      scopeEntity(json.action)?.id === 'Approve' &&
      principal?.type === 'Role' &&
      tier.approverRoles.includes(principal.id ?? '');
    if (!ok) throw new PolicyEngineError(`${where}: tier ${tier.name} has no Approve permit for a principal in one of ${tier.approverRoles.join(', ')}`);
  }

  checkCumulativeFacts(policy, pack.schema, where);

  const reasonForbids = Object.entries(pack.policies).filter(([, json]) => isReasonForbid(json));
  const reasons = reasonForbids.map(([id]) => id);
  // Read from the pack as shipped: a pack built before a forbid had its sentence is refused here too.
  const explanations = Object.fromEntries(reasonForbids.map(([id, json]) => [id, explanationOf(id, json, where)]));

  const key = `${policy.id}@${policy.version}#${++loads}`;
  preparse(key, pack.schema, pack.policies);
  const result: CompiledPolicy = { key, policy, order: Object.keys(pack.policies), schema: pack.schema, roles: [...roles].sort(), reasons, explanations };
  compiled.set(policy, result);
  return result;
}

/**
 * The Cedar schema's `Facts.cumulative` must declare exactly the measures policy.json counts, as
 * Longs: a measure the schema leaves out would be dropped before the policy saw it, and one the
 * schema adds could never be filled.
 */
function checkCumulativeFacts(policy: LoadedActionPolicy, schema: CedarSchemaJson, where: string): void {
  const facts = schema.commonTypes?.Facts;
  const declared = facts?.attributes?.cumulative;
  const names = policy.cumulative.map((m) => m.name).sort();
  if (names.length === 0) {
    if (declared) throw new PolicyEngineError(`${where}: Facts declares cumulative, but policy.json counts none`);
    return;
  }
  const attributes = declared?.type === 'Record' ? (declared.attributes ?? {}) : undefined;
  if (!attributes || declared?.required === false) {
    throw new PolicyEngineError(`${where}: policy.json counts ${names.join(', ')}; declare them in type Facts as a required cumulative: { ${names.map((n) => `${n}: Long`).join(', ')} }`);
  }
  const inSchema = Object.keys(attributes).sort();
  if (inSchema.join(',') !== names.join(',')) {
    throw new PolicyEngineError(`${where}: Facts.cumulative declares [${inSchema.join(', ')}] but policy.json counts [${names.join(', ')}]`);
  }
  for (const [name, type] of Object.entries(attributes)) {
    const isLong = type.type === 'Long' || (type.type === 'EntityOrCommon' && type.name === 'Long');
    if (!isLong || type.required === false) throw new PolicyEngineError(`${where}: Facts.cumulative.${name} must be a required Long`);
  }
}

/**
 * Every reason code a decision can carry: the core's, and each catalog action's own (its
 * policy's forbid ids). Derived from the policies, so an action's folder adds its codes.
 */
export function reasonCodes(policies: PolicySet = shippedPolicies()): string[] {
  const codes = new Set<string>(CORE_REASON_CODES);
  for (const [action, policy] of Object.entries(policies)) {
    if (action !== 'routing') for (const code of compilePolicy(policy as LoadedActionPolicy).reasons) codes.add(code);
  }
  return [...codes].sort();
}

let authorityKey: string | undefined;

/** The approver-authority pack (the same for every action), preparsed once. */
export function authorityPolicy(): string {
  if (authorityKey) return authorityKey;
  const file = path.join(actionsDir(), AUTHORITY_PACK_FILE);
  const pack = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PolicyPack) : buildAuthorityPack();
  preparse('authority', pack.schema, pack.policies);
  authorityKey = 'authority';
  return authorityKey;
}
