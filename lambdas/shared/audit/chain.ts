import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import type { AuditEntry } from '../schemas/records';

/**
 * The audit hash chain (DESIGN.md §6): each entry carries the hash of the previous one, so
 * editing, reordering or deleting any entry breaks every hash after it. Pure: the store
 * (`adapters/aws/auditLog.ts`) assigns seq/prevHash and the API re-verifies on read.
 */

/** The prevHash of a request's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export type UnhashedAuditEntry = Omit<AuditEntry, 'hash'>;

// Re-exported for existing importers (requests/submit.ts): there is one canonical JSON.
export { canonicalJson };

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
