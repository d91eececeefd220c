import { createHash } from 'node:crypto';
import type { AuditEntry } from '../schemas/records';

/**
 * The audit hash chain (DESIGN.md §6): each entry carries the hash of the previous one, so
 * editing, reordering or deleting any entry breaks every hash after it. Pure: the store
 * (`adapters/aws/auditLog.ts`) assigns seq/prevHash and the API re-verifies on read.
 */

/** The prevHash of a request's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export type UnhashedAuditEntry = Omit<AuditEntry, 'hash'>;

/**
 * JSON with object keys sorted (recursively) and no whitespace, so the same value always
 * hashes the same however it was built or round-tripped through a store. Follows
 * JSON.stringify's rules for what is dropped (undefined, functions) or nulled (NaN, ±Infinity).
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  // Only a top-level undefined/function has no JSON form; the chain never hashes one.
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

function canonicalize(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return JSON.stringify(value);
  }
  if (typeof value === 'bigint') throw new TypeError('BigInt has no JSON representation');
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalize(item) ?? 'null').join(',')}]`;
  }
  const members: string[] = [];
  for (const key of Object.keys(value as object).sort()) {
    const member = canonicalize((value as Record<string, unknown>)[key]);
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
  }
  return `{${members.join(',')}}`;
}

/** sha256 (hex) of the canonical JSON of exactly the chained fields: extra attributes never count. */
export function hashEntry(entry: UnhashedAuditEntry): string {
  const { requestId, seq, at, step, actor, event, data, prevHash } = entry;
  return createHash('sha256')
    .update(canonicalJson({ requestId, seq, at, step, actor, event, data, prevHash }), 'utf8')
    .digest('hex');
}

/**
 * True when the entries form one request's unbroken chain: seq runs 1, 2, 3… in order, the
 * first prevHash is GENESIS_HASH, each later prevHash is the previous entry's hash, and every
 * hash recomputes. An empty list is trivially intact.
 *
 * A chain cannot tell on its own that entries were cut off its end; pass `head` (the last
 * entry as recorded elsewhere) to check that too.
 */
export function verifyChain(entries: readonly AuditEntry[], head?: { seq: number; hash: string }): boolean {
  let prevHash = GENESIS_HASH;
  const requestId = entries[0]?.requestId;
  for (const [index, entry] of entries.entries()) {
    if (entry.requestId !== requestId) return false;
    if (entry.seq !== index + 1) return false;
    if (entry.prevHash !== prevHash) return false;
    if (hashEntry(entry) !== entry.hash) return false;
    prevHash = entry.hash;
  }
  if (head && (entries.length !== head.seq || prevHash !== head.hash)) return false;
  return true;
}
