import type { PiiOriginals } from '../ports';
import { FIELDS_SCHEMA, type Proposal } from '../schemas/actions';
import { CREDENTIAL_TYPES, placeholderType } from './pii';

/**
 * Restoring vaulted originals, for the one place they belong: the free text an effect writes
 * into the system of record. Everything else (ids, amounts, vendors) is never restored, and
 * whatever leaves the execution step goes back through the outbound shield.
 */

/** The proposal fields written as free text to the system of record. */
export const RESTORABLE_FIELDS = ['description', 'justification', 'reason'] as const;

const PLACEHOLDER = /\[[A-Z_]+_\d+\]/g;

/**
 * The proposal with vaulted originals put back into its free-text fields, and the names of the
 * fields that changed. A field whose restored text would break its schema (too long) keeps its
 * placeholders: the effect must not fail because a requester wrote a long email address.
 */
export function restoreFreeText(proposal: Proposal, originals: PiiOriginals): { proposal: Proposal; restored: string[] } {
  const shape = FIELDS_SCHEMA[proposal.action].shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  const fields: Record<string, unknown> = { ...proposal.fields };
  const restored: string[] = [];
  for (const name of RESTORABLE_FIELDS) {
    const value = fields[name];
    if (typeof value !== 'string') continue;
    const withOriginals = value.replace(PLACEHOLDER, (placeholder) => {
      const type = placeholderType(placeholder);
      const original = originals[placeholder];
      return original !== undefined && type !== undefined && !CREDENTIAL_TYPES.has(type) ? original : placeholder;
    });
    if (withOriginals !== value && shape[name]?.safeParse(withOriginals).success) {
      fields[name] = withOriginals;
      restored.push(name);
    }
  }
  return { proposal: { ...proposal, fields } as Proposal, restored };
}
