import type { PiiOriginals } from '../ports';
import { FIELDS_SCHEMA, Proposal } from '../schemas/actions';
import { Scrubber, placeholderType, scrubDeep, walk, type PiiFinding } from './pii';
import { normalizeUnicode, stripInvisible } from './unicode';

/**
 * The outbound shield: what a model wrote (or what an effect echoes back) on its way to the
 * request record, the audit trail or an API response. PII and secrets become placeholders; a
 * long opaque token (the shape of an approval token or a task token) becomes `[TOKEN_n]`; and
 * a value the inbound shield vaulted goes back to its own placeholder, so no original leaves.
 */

export interface OutboundScan<T> {
  value: T;
  /** What was redacted, by type (counts only). Empty: the value went out unchanged in substance. */
  redactions: PiiFinding[];
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Originals shorter than this are not searched for: too likely to be ordinary text. */
const MIN_ORIGINAL_CHARS = 4;

export function shieldOutbound<T>(value: T, originals: PiiOriginals = {}): OutboundScan<T> {
  const scrubber = new Scrubber();
  const known = Object.entries(originals)
    .map(([placeholder, original]) => ({ placeholder, original: normalizeUnicode(original) }))
    .filter(({ original }) => original.length >= MIN_ORIGINAL_CHARS)
    // Longest first: an original inside another is replaced as part of the longer one.
    .sort((a, b) => b.original.length - a.original.length)
    .map(({ placeholder, original }) => ({
      placeholder,
      type: placeholderType(placeholder),
      pattern: new RegExp(escapeRegExp(original), 'gi'),
    }));
  // Detectors see NFKC text without invisible characters: full-width or zero-width tricks do not hide a value.
  const cleaned = walk(value, (s) => {
    let out = stripInvisible(normalizeUnicode(s));
    for (const k of known) {
      out = out.replace(k.pattern, () => {
        if (k.type) scrubber.count(k.type);
        return k.placeholder;
      });
    }
    return out;
  });
  const { value: redacted, findings } = scrubDeep(cleaned as T, scrubber);
  return { value: redacted, redactions: findings };
}

/**
 * `shieldOutbound` for a request's approval: the approver's comment and identity pass the shield;
 * the task id and the status are Warden's own values and pass as they are. (A task id ends in 16
 * random hex digits, and about one in a thousand holds a run the card detector takes for a card
 * number: redacted, it is no longer an id, and the record no longer reads back.)
 */
export function shieldApproval<A extends { taskId: string; status: string }>(approval: A, originals: PiiOriginals = {}): OutboundScan<A> {
  const { taskId, status, ...rest } = approval;
  const { value, redactions } = shieldOutbound(rest, originals);
  return { value: { ...value, taskId, status } as A, redactions };
}

/** What stands in for a field whose redacted form no longer fits its schema (text, then id). */
export const REDACTED_STANDINS = ['[REDACTED]', 'REDACTED'] as const;

type FieldSchema = { safeParse(v: unknown): { success: boolean } };

/**
 * `shieldOutbound` for a proposal that will be stored in the request record, which is read back
 * through its schema: a field the redaction took out of its schema (a placeholder longer than a
 * short value, an id that was a token) becomes `[REDACTED]` (or `REDACTED` where only an id
 * fits), and a proposal that still does not fit is not shown at all (undefined).
 */
export function shieldProposal(proposal: Proposal, originals: PiiOriginals = {}): OutboundScan<Proposal | undefined> {
  const { value, redactions } = shieldOutbound(proposal, originals);
  if (redactions.length === 0) return { value: proposal, redactions };
  const shape = FIELDS_SCHEMA[proposal.action].shape as Record<string, FieldSchema>;
  const fit = (schema: FieldSchema | undefined, v: unknown) =>
    !schema || schema.safeParse(v).success ? v : (REDACTED_STANDINS.find((s) => schema.safeParse(s).success) ?? v);
  const fields = Object.fromEntries(Object.entries(value.fields as Record<string, unknown>).map(([key, v]) => [key, fit(shape[key], v)]));
  const parsed = Proposal.safeParse({ action: proposal.action, fields });
  return { value: parsed.success ? parsed.data : undefined, redactions };
}
