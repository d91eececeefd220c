import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import type { Proposal } from '../schemas/actions';
import { vendorKey } from '../vendors';

/** Free text compares by its words, not by its spacing or case. */
function foldText(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

// Fields whose comparison is looser than "trimmed": ids and tiers stay exact.
const FIELD_FOLDING = new Map<string, (value: string) => string>([
  ['vendor', vendorKey],
  ['currency', (value) => value.trim().toUpperCase()],
  ['description', foldText],
  ['justification', foldText],
  ['reason', foldText],
]);

function normalised(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return (key === undefined ? undefined : FIELD_FOLDING.get(key)?.(value)) ?? value.trim();
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('a proposal to fingerprint has a non-finite number');
    return Object.is(value, -0) ? 0 : value;
  }
  if (Array.isArray(value)) return value.map((item) => normalised(item));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalised(v, k)]));
  }
  return value;
}

/**
 * The proposal's canonical JSON: normalised (numbers, folded strings), then serialised by the
 * one shared canonical JSON (sorted keys, no whitespace); equal proposals give equal text.
 */
export function canonicalProposalJson(proposal: Proposal): string {
  return canonicalJson(normalised(proposal));
}

/**
 * The proposal's fingerprint (sha256 hex of its canonical JSON): the key under which its
 * effect is executed once. Validation and execution must both use this one function.
 */
export function fingerprintProposal(proposal: Proposal): string {
  return createHash('sha256').update(canonicalProposalJson(proposal)).digest('hex');
}
