import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json';
import type { AuditEntry, AuditHead, AuditUnverifiedReason, SignedAuditEntry, SignedHeadRef } from '../schemas/records';
import type { ChainHead } from '../schemas/workflow';
import { AuditWriteFailed } from '../errors';

/** An appended entry; with the head signed over it when the append was asked for one. */
export type AppendedEntry = SignedAuditEntry & { head?: SignedHeadRef };

/**
 * The audit hash chain (DESIGN.md §6): each entry carries the hash of the previous one, so
 * editing, reordering or deleting any entry breaks every hash after it. A chain only agrees with
 * itself, though: its head (last seq and hash) is signed at each append by a key only Warden's
 * Lambdas can use, so that cutting off the tail or re-hashing an edit is caught too. Pure: the
 * store (`adapters/aws/auditLog.ts`) assigns seq/prevHash and signs, the API re-verifies on read.
 */

/** The prevHash of a request's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a request's first append is told the chain ends at: nothing yet (its entry is seq 1). */
export const CHAIN_START: ChainHead = { seq: 0, hash: GENESIS_HASH };

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

/**
 * The bytes the audit key signs for a head: the request, the number of entries and the last
 * hash, tagged so that no other message Warden might sign can pass for one.
 */
export function headMessage(requestId: string, seq: number, hash: string): Uint8Array {
  return Buffer.from(canonicalJson({ purpose: 'warden-audit-head-v1', requestId, seq, hash }), 'utf8');
}

/**
 * The bytes the audit key signs for one entry: tagged apart from a head's, so that an entry's
 * signature (stored with every entry) can never stand in for a head and vouch for a chain cut
 * off after it. Only a head signature says "the chain ends here".
 */
export function entryMessage(requestId: string, seq: number, hash: string): Uint8Array {
  return Buffer.from(canonicalJson({ purpose: 'warden-audit-entry-v1', requestId, seq, hash }), 'utf8');
}

/** Checks a signature over `message` against Warden's audit key; false for any other key. */
export type HeadSignatureCheck = (message: Uint8Array, signature: Uint8Array, keyId: string) => Promise<boolean>;

/** True when the head is Warden's for this request: signed by the audit key, over its own entry. */
export async function headIsSigned(requestId: string, head: AuditHead, check: HeadSignatureCheck): Promise<boolean> {
  const { entry } = head;
  if (head.requestId !== requestId || entry.requestId !== requestId || hashEntry(entry) !== entry.hash) return false;
  return check(headMessage(requestId, entry.seq, entry.hash), Buffer.from(head.signature, 'base64'), head.keyId);
}

/**
 * One list from the entries stored one item each and the head's entry, which is stored as an
 * item of its own only by the next append. When both hold the same seq the stored one is shown:
 * if it differs from the head's, the chain or the head check says so.
 */
export function assembleTrail(stored: readonly AuditEntry[], head: AuditHead | undefined): AuditEntry[] {
  if (!head || stored.some((entry) => entry.seq === head.entry.seq)) return [...stored];
  return [...stored, head.entry].sort((a, b) => a.seq - b.seq);
}

export type TrailVerdict = { verified: true } | { verified: false; reason: AuditUnverifiedReason };

/**
 * Whether `entries` are exactly the chain the signed head vouches for: unbroken, signed by
 * Warden's key for this request, and ending at the head's seq and hash (nothing cut off, nothing
 * added after it). A request with no entries and no head has nothing to verify.
 */
export async function verifyTrail(
  requestId: string,
  entries: readonly AuditEntry[],
  head: AuditHead | undefined,
  check: HeadSignatureCheck,
): Promise<TrailVerdict> {
  if (!head) return entries.length === 0 ? { verified: true } : { verified: false, reason: 'head_missing' };
  if (!(await headIsSigned(requestId, head, check))) return { verified: false, reason: 'head_signature_invalid' };
  if (entries.some((entry) => entry.requestId !== requestId) || !verifyChain(entries)) return { verified: false, reason: 'chain_broken' };
  if (!verifyChain(entries, { seq: head.entry.seq, hash: head.entry.hash })) return { verified: false, reason: 'head_mismatch' };
  return { verified: true };
}

/** True when the entry carries the audit key's entry signature over its own seq and hash. */
export async function entryIsSigned(requestId: string, entry: SignedAuditEntry, check: HeadSignatureCheck): Promise<boolean> {
  if (entry.requestId !== requestId || hashEntry(entry) !== entry.hash) return false;
  return check(entryMessage(requestId, entry.seq, entry.hash), Buffer.from(entry.signature, 'base64'), entry.keyId);
}

/**
 * Whether `entries` are the chain the request record's signed head vouches for: unbroken from the
 * first entry, passing through the head's seq and hash (nothing cut off before it), and every
 * entry after the head — appended since the record was last written — signed by the audit key
 * on its own (nothing added by anyone else).
 */
export async function verifySignedTrail(
  requestId: string,
  entries: readonly (AuditEntry | SignedAuditEntry)[],
  head: SignedHeadRef,
  check: HeadSignatureCheck,
): Promise<TrailVerdict> {
  if (!(await check(headMessage(requestId, head.seq, head.hash), Buffer.from(head.signature, 'base64'), head.keyId))) {
    return { verified: false, reason: 'head_signature_invalid' };
  }
  if (entries.some((entry) => entry.requestId !== requestId) || !verifyChain(entries)) return { verified: false, reason: 'chain_broken' };
  if (entries.length < head.seq || entries[head.seq - 1].hash !== head.hash) return { verified: false, reason: 'head_mismatch' };
  for (const entry of entries.slice(head.seq)) {
    if (!('signature' in entry) || !(await entryIsSigned(requestId, entry, check))) return { verified: false, reason: 'head_mismatch' };
  }
  return { verified: true };
}

/**
 * The signed head a request record keeps for its chain after `entry` (`RequestRecord.auditHead`):
 * appended with `{ head: true }`, the entry comes back with it.
 */
export function signedHeadOf(entry: AppendedEntry): SignedHeadRef {
  if (!entry.head) throw new AuditWriteFailed('audit: the entry was appended without a signed head');
  return entry.head;
}

/** Where the chain ends after `entry`, as the workflow state carries it. */
export function chainHeadOf(entry: Pick<AuditEntry, 'seq' | 'hash'>): ChainHead {
  return { seq: entry.seq, hash: entry.hash };
}
