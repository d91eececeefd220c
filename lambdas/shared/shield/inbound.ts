import { InvalidInput } from '../errors';
import type { PiiOriginals } from '../ports';
import { CREDENTIAL_TYPES, placeholderType, scrubDeep, walk, type PiiFinding } from './pii';
import { normalizeUnicode, stripInvisible } from './unicode';

/**
 * The inbound shield's limits and transformations, in the order the gateway applies them:
 * normalise (NFKC) and check sizes → (triage's injection signals are read here, on the
 * unscrubbed text) → drop invisible characters → scrub PII and secrets with one numbering for
 * the text and the fields. What leaves this module has placeholders; the PII originals go to
 * the vault, the credentials nowhere.
 */

export const INBOUND_LIMITS = {
  /** The API's own cap, checked again after NFKC (which can lengthen text: `ﷺ` is 18 characters). */
  textChars: 4000,
  /** `fields` is level 1; `{"a": {"b": {"c": 1}}}` is 3 levels deep. */
  fieldsDepth: 3,
  /** Keys (and array items) in `fields`, all levels together. */
  fieldsKeys: 50,
  /** Every string inside `fields`, keys included, after NFKC. */
  fieldStringChars: 1000,
} as const;

const invalid = (path: string, problem: string) => new InvalidInput('validation_failed', `${path}: ${problem}`);

/** A key as it appears in an error path: echoed only when it is a plain name (error bodies never echo PII). */
const pathSegment = (key: string) => (/^[A-Za-z0-9_-]{1,64}$/.test(key) ? key : '<key>');

/** The request text in NFKC; 400 when normalisation takes it over the limit. */
export function normalizeRequestText(text: string): string {
  const normalized = normalizeUnicode(text);
  if (normalized.length > INBOUND_LIMITS.textChars) {
    throw invalid('text', `must be at most ${INBOUND_LIMITS.textChars} characters after Unicode normalisation`);
  }
  return normalized;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/**
 * Checks the limits on `fields` (depth, key count, string length; 400 with the path of the
 * first offence) and returns a copy with NFKC keys and strings. Stops at the first level too
 * deep, so a hostile body never costs more than the limits allow.
 */
export function normalizeFields(fields: Record<string, unknown>): Record<string, unknown> {
  let keys = 0;
  const checkString = (s: string, path: string): string => {
    const normalized = normalizeUnicode(s);
    if (normalized.length > INBOUND_LIMITS.fieldStringChars) {
      throw invalid(path, `must be at most ${INBOUND_LIMITS.fieldStringChars} characters`);
    }
    return normalized;
  };
  const visit = (value: unknown, path: string, depth: number): unknown => {
    if (typeof value === 'string') return checkString(value, path);
    if (!isContainer(value)) return value;
    if (depth > INBOUND_LIMITS.fieldsDepth) throw invalid(path, `nested deeper than ${INBOUND_LIMITS.fieldsDepth} levels`);
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    keys += entries.length;
    if (keys > INBOUND_LIMITS.fieldsKeys) throw invalid(path, `fields may hold at most ${INBOUND_LIMITS.fieldsKeys} keys in all`);
    if (Array.isArray(value)) return entries.map(([i, v]) => visit(v, `${path}.${i}`, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const name = checkString(key, `${path}.${pathSegment(key)}`);
      out[name] = visit(v, `${path}.${pathSegment(name)}`, depth + 1);
    }
    return out;
  };
  return visit(fields, 'fields', 1) as Record<string, unknown>;
}

/** A copy with invisible characters removed from every string, keys included. */
export function stripInvisibleDeep<T>(value: T): T {
  return walk(value, stripInvisible) as T;
}

export interface ScrubbedInbound {
  text: string;
  fields?: Record<string, unknown>;
  /** Types and counts of what was replaced (safe to audit). */
  findings: PiiFinding[];
  /** Placeholder → original for personal data only: what the vault keeps. Never log it. */
  originals: PiiOriginals;
}

/**
 * Scrubs the text and the fields as one document (one placeholder per value, wherever it
 * appears) and returns the originals worth keeping: personal data an effect may need written
 * back, never credentials (JWTs, keys, passwords, tokens), which no effect needs.
 */
export function scrubInbound(input: { text: string; fields?: Record<string, unknown> }): ScrubbedInbound {
  const { value, findings, replacements } = scrubDeep({ text: input.text, fields: input.fields });
  const originals = Object.fromEntries(
    Object.entries(replacements).filter(([placeholder]) => {
      const type = placeholderType(placeholder);
      return type !== undefined && !CREDENTIAL_TYPES.has(type);
    }),
  );
  return { text: value.text, ...(value.fields ? { fields: value.fields } : {}), findings, originals };
}
