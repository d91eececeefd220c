import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { DynamoAuditLog } from '../../../lambdas/shared/adapters/aws/auditLog';
import { chainHeadOf, entryMessage, hashEntry, headMessage, signedHeadOf, verifyChain, type AppendedEntry } from '../../../lambdas/shared/audit/chain';
import { AuditWriteFailed } from '../../../lambdas/shared/errors';
import { newRequestId } from '../../../lambdas/shared/ids';
import type { AuditSigner } from '../../../lambdas/shared/ports';
import type { AuditEntry, AuditEvent, SignedHeadRef } from '../../../lambdas/shared/schemas/records';
import { useEmulatedStores } from '../../support/stores';

/**
 * The signed head (issue 12, finding 7; issue 14): a chain only agrees with itself, so every entry
 * is signed by the audit key (the local KMS stand-in here) over its seq and hash, and the request
 * record keeps the signed head of the chain as its last write saw it (`auditHead`); `trail`
 * checks the entries against that head. Each attack below is done to the table directly, as
 * someone who can write the table but not sign would do it.
 */

const stores = useEmulatedStores();

function anEvent(n: number): AuditEvent {
  return { step: `step-${n}`, actor: { type: 'system', id: 'warden' }, event: 'step.completed', data: { n } };
}

const table = () => stores().emulators.tableNames.audit;

/** Appends n entries as the workflow does: each after the one before, nothing read. */
async function appendN(requestId: string, n: number): Promise<AppendedEntry[]> {
  const entries: AppendedEntry[] = [];
  for (let i = 1; i <= n; i++) {
    const after = entries.length > 0 ? chainHeadOf(entries[entries.length - 1]!) : undefined;
    entries.push(await stores().audit.append(requestId, anEvent(i), after ?? { seq: 0, hash: '0'.repeat(64) }, { head: true }));
  }
  return entries;
}

async function stored(requestId: string): Promise<Record<string, unknown>[]> {
  const { Items } = await stores().doc.send(
    new QueryCommand({ TableName: table(), KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId }, ConsistentRead: true }),
  );
  return Items ?? [];
}

async function put(item: object): Promise<void> {
  await stores().doc.send(new PutCommand({ TableName: table(), Item: item }));
}

async function remove(requestId: string, seq: number): Promise<void> {
  await stores().doc.send(new DeleteCommand({ TableName: table(), Key: { requestId, seq } }));
}

/** Re-hashes `entries` from the first one on, as someone would after editing one (keeping the old signatures). */
function rehash<E extends AuditEntry>(entries: E[]): E[] {
  const out: E[] = [];
  for (const entry of entries) {
    const prevHash = out.length > 0 ? out[out.length - 1]!.hash : entry.prevHash;
    // As stored: the head an append handed back is not part of the item.
    const { hash: _old, head: _head, ...rest } = { ...entry, prevHash } as E & { head?: unknown };
    out.push({ ...rest, hash: hashEntry(rest) } as E);
  }
  return out;
}

const unsigned = ({ keyId: _k, signature: _s, head: _h, ...entry }: AppendedEntry): AuditEntry => entry;

describe('the signed audit head', () => {
  it('is verified after normal appends and names the last entry, signed by the audit key', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 4);
    const trail = await stores().audit.trail(requestId, signedHeadOf(appended[3]!));
    expect(trail).toMatchObject({ verified: true, head: { seq: 4, hash: appended[3]!.hash, keyId: stores().emulators.auditSigningKeyId } });
    expect(trail).not.toHaveProperty('reason');
    expect(trail.entries).toEqual(appended.map(unsigned));
    // The head, and each entry, check out with the key's public half alone, outside Warden.
    const { PublicKey } = await stores().signer.kms.send(new GetPublicKeyCommand({ KeyId: stores().emulators.auditSigningKeyId }));
    const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
    expect(verify('sha256', headMessage(requestId, 4, appended[3]!.hash), publicKey, Buffer.from(trail.head!.signature, 'base64'))).toBe(true);
    for (const item of await stored(requestId)) {
      expect(verify('sha256', entryMessage(requestId, item.seq as number, item.hash as string), publicKey, Buffer.from(item.signature as string, 'base64'))).toBe(true);
    }
  });

  it('writes one item per append and reads nothing when told where the chain ends', async () => {
    const requestId = newRequestId();
    const sent: string[] = [];
    const watched = new DynamoAuditLog(
      { send: (command: { constructor: { name: string } }) => (sent.push(command.constructor.name), stores().doc.send(command as never)) } as never,
      table(),
      stores().signer,
    );
    const first = await watched.append(requestId, anEvent(1), { seq: 0, hash: '0'.repeat(64) });
    await watched.append(requestId, anEvent(2), chainHeadOf(first));
    expect(sent).toEqual(['PutCommand', 'PutCommand']);
    expect((await stored(requestId)).map((item) => item.seq)).toEqual([1, 2]);
  });

  it('a retried step gets the entry its first attempt wrote: no second entry, no fork', async () => {
    const requestId = newRequestId();
    const [first] = await appendN(requestId, 1);
    const once = await stores().audit.append(requestId, anEvent(2), chainHeadOf(first!), { head: true });
    const retried = await stores().audit.append(requestId, anEvent(2), chainHeadOf(first!), { head: true });
    expect(retried).toMatchObject({ seq: once.seq, hash: once.hash, head: { seq: 2, hash: once.hash } });
    const trail = await stores().audit.trail(requestId, signedHeadOf(retried));
    expect(trail).toMatchObject({ verified: true });
    expect(trail.entries.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a retried step that reads the end (no end given) finds its entry there: returned with its head, not written twice', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 1);
    const once = await stores().audit.append(requestId, anEvent(2), undefined, { head: true });
    const retried = await stores().audit.append(requestId, anEvent(2), undefined, { head: true });
    expect(retried).toMatchObject({ seq: 2, hash: once.hash, head: { seq: 2, hash: once.hash } });
    expect((await stored(requestId)).map((item) => item.seq)).toEqual([1, 2]);
    expect(await stores().audit.trail(requestId, signedHeadOf(retried))).toMatchObject({ verified: true });
    // Something else after it is new, and is appended.
    expect(await stores().audit.append(requestId, { ...anEvent(2), data: { n: 'other' } })).toMatchObject({ seq: 3 });
  });

  it('a retry whose first attempt lost a race and landed further on gets that entry back', async () => {
    const requestId = newRequestId();
    const [first] = await appendN(requestId, 1);
    // Another writer takes seq 2; this step's first attempt loses it and lands at seq 3.
    await stores().audit.append(requestId, { ...anEvent(9), step: 'Approval' }, chainHeadOf(first!));
    const once = await stores().audit.append(requestId, anEvent(2), chainHeadOf(first!));
    expect(once.seq).toBe(3);
    // The retry is told the same end: seq 2 is the other writer's, and the end it reads then is its own entry.
    const retried = await stores().audit.append(requestId, anEvent(2), chainHeadOf(first!));
    expect(retried).toMatchObject({ seq: 3, hash: once.hash });
    expect((await stored(requestId)).map((item) => item.seq)).toEqual([1, 2, 3]);
  });

  it('a writer told a stale end appends after what others wrote meanwhile', async () => {
    const requestId = newRequestId();
    const [first] = await appendN(requestId, 1);
    const other = await stores().audit.append(requestId, { ...anEvent(9), step: 'Approval' }, chainHeadOf(first!));
    const mine = await stores().audit.append(requestId, anEvent(2), chainHeadOf(first!), { head: true });
    expect(mine).toMatchObject({ seq: 3, prevHash: other.hash });
    expect(await stores().audit.trail(requestId, signedHeadOf(mine))).toMatchObject({ verified: true });
  });

  it('stays verified through 10 concurrent appends: the chain never forks', async () => {
    const requestId = newRequestId();
    const appended = await Promise.all(Array.from({ length: 10 }, (_, i) => stores().audit.append(requestId, anEvent(i), undefined, { head: true })));
    const last = appended.find((entry) => entry.seq === 10)!;
    const trail = await stores().audit.trail(requestId, signedHeadOf(last));
    expect(trail).toMatchObject({ verified: true, head: { seq: 10 } });
    expect(trail.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('catches a cut-off tail: the last entry removed', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 4);
    await remove(requestId, 4);
    const trail = await stores().audit.trail(requestId, signedHeadOf(appended[3]!));
    // What is left still agrees with itself: only the head tells.
    expect(verifyChain(trail.entries)).toBe(true);
    expect(trail.entries).toHaveLength(3);
    expect(trail).toMatchObject({ verified: false, reason: 'head_mismatch' });
  });

  it("catches an entry's own signature passed off as the head of a chain cut off after it", async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 5);
    // Every entry is stored with its signature: take entry 3's and cut entries 4 and 5.
    await remove(requestId, 5);
    await remove(requestId, 4);
    const [third] = (await stored(requestId)).filter((item) => item.seq === 3);
    const posing: SignedHeadRef = { seq: 3, hash: appended[2]!.hash, keyId: third!.keyId as string, signature: third!.signature as string };
    expect(await stores().audit.trail(requestId, posing)).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
    // The head signed for entry 3 when it was appended would pass: that is the kept-an-old-head limit the README states.
    expect(await stores().audit.trail(requestId, signedHeadOf(appended[2]!))).toMatchObject({ verified: true });
  });

  it('a retry that would say something else is appended after the first attempt, not passed off as it', async () => {
    const requestId = newRequestId();
    const [first] = await appendN(requestId, 1);
    const once = await stores().audit.append(requestId, { ...anEvent(2), data: { proposal: 'A' } }, chainHeadOf(first!));
    const other = await stores().audit.append(requestId, { ...anEvent(2), data: { proposal: 'B' } }, chainHeadOf(first!));
    expect(other).toMatchObject({ seq: 3, prevHash: once.hash, data: { proposal: 'B' } });
  });

  it('catches a request whose chain has no head at all', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 2);
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: false, reason: 'head_missing' });
  });

  it('catches stored entries cut off under an intact head', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 5);
    await remove(requestId, 3);
    expect(await stores().audit.trail(requestId, signedHeadOf(appended[4]!))).toMatchObject({ verified: false, reason: 'chain_broken' });
  });

  it('catches an edited entry re-hashed through to the head', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 4);
    const edited = rehash([{ ...appended[1]!, actor: { type: 'human' as const, id: 'mallory' } }, ...appended.slice(2)]);
    for (const entry of edited) await put(entry);
    const trail = await stores().audit.trail(requestId, signedHeadOf(appended[3]!));
    // The chain agrees with itself again: only the signed head tells.
    expect(verifyChain(trail.entries)).toBe(true);
    expect(trail.entries[1]!.actor.id).toBe('mallory');
    expect(trail).toMatchObject({ verified: false, reason: 'head_mismatch' });
  });

  it('catches an edited entry re-hashed up to, but not into, the head', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 4);
    for (const entry of rehash([{ ...appended[0]!, data: { n: 'edited' } }, ...appended.slice(1, 3)])) await put(entry);
    expect(await stores().audit.trail(requestId, signedHeadOf(appended[3]!))).toMatchObject({ verified: false, reason: 'chain_broken' });
  });

  it('catches a head forged without the key, under the real key id or another', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 3);
    const edited = rehash([{ ...appended[1]!, event: 'approval.decided' }, appended[2]!]);
    for (const entry of edited) await put(entry);
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const last = edited[1]!;
    const signature = sign('sha256', headMessage(requestId, last.seq, last.hash), forger).toString('base64');
    for (const keyId of [stores().emulators.auditSigningKeyId, 'arn:aws:kms:us-east-1:111122223333:key/forger']) {
      const forged: SignedHeadRef = { seq: last.seq, hash: last.hash, keyId, signature };
      expect(await stores().audit.trail(requestId, forged)).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
    }
  });

  it("catches another request's genuine head presented as this one's", async () => {
    const [mine, other] = [newRequestId(), newRequestId()];
    await appendN(mine, 2);
    const theirs = await appendN(other, 2);
    expect(await stores().audit.trail(mine, signedHeadOf(theirs[1]!))).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
  });

  it('catches entries added past the signed head without a signature of their own', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 2);
    const [, extra] = rehash([unsigned(appended[1]!), { ...unsigned(appended[1]!), seq: 3, event: 'effect.executed' }]);
    await put(extra!);
    const trail = await stores().audit.trail(requestId, signedHeadOf(appended[1]!));
    expect(verifyChain(trail.entries)).toBe(true);
    expect(trail).toMatchObject({ verified: false, reason: 'head_mismatch' });
  });

  it('accepts entries past the head that carry their own signature (appended since the record was written)', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 4);
    expect(await stores().audit.trail(requestId, signedHeadOf(appended[1]!))).toMatchObject({ verified: true, head: { seq: 2 } });
  });

  it('refuses to extend an entry it did not sign, so a later append cannot vouch for it', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 2);
    const [, forged] = rehash([appended[0]!, { ...appended[1]!, seq: 3, event: 'effect.executed', signature: Buffer.from('not a signature').toString('base64') }]);
    await put(forged!);
    // Told the chain ends at 2, the append finds 3 taken, reads it, and refuses to build on it.
    await expect(stores().audit.append(requestId, anEvent(3), chainHeadOf(appended[1]!))).rejects.toBeInstanceOf(AuditWriteFailed);
    await expect(stores().audit.append(requestId, anEvent(3))).rejects.toThrow(/not signed by the audit key/);
  });

  it('signs a head at the chain\'s end only over an entry the audit key signed', async () => {
    const requestId = newRequestId();
    expect(await stores().audit.signedEnd(requestId)).toBeUndefined();
    const appended = await appendN(requestId, 2);
    const end = await stores().audit.signedEnd(requestId);
    expect(end).toMatchObject({ seq: 2, hash: appended[1]!.hash, head: { seq: 2, hash: appended[1]!.hash } });
    expect(await stores().audit.trail(requestId, signedHeadOf(end!))).toMatchObject({ verified: true });
    // An entry put in the table by someone without the key gets no head.
    const [, forged] = rehash([appended[0]!, { ...appended[1]!, seq: 3, event: 'request.finalized', signature: Buffer.from('not a signature').toString('base64') }]);
    await put(forged!);
    await expect(stores().audit.signedEnd(requestId)).rejects.toThrow(/not signed by the audit key/);
  });

  it('when signing fails mid-append, leaves a verified chain and the next append carries on', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 2);
    const unavailable: AuditSigner = {
      sign: async () => {
        throw Object.assign(new Error('KMS unavailable'), { name: 'KMSInternalException' });
      },
      verify: stores().signer.verify,
    };
    const failing = new DynamoAuditLog(stores().doc, table(), unavailable);
    await expect(failing.append(requestId, anEvent(3), chainHeadOf(appended[1]!))).rejects.toMatchObject({
      code: 'audit_write_failed',
      message: 'audit append failed: KMSInternalException',
    });
    expect(await stores().audit.trail(requestId, signedHeadOf(appended[1]!))).toMatchObject({ verified: true, head: { seq: 2 } });
    const third = await stores().audit.append(requestId, anEvent(3), chainHeadOf(appended[1]!), { head: true });
    const trail = await stores().audit.trail(requestId, signedHeadOf(third));
    expect(trail).toMatchObject({ verified: true, head: { seq: 3 } });
    expect(trail.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('reads and extends a chain written by an earlier version (its signed head under seq 0)', async () => {
    const requestId = newRequestId();
    // As earlier versions left it: entry 1 stored on its own, entry 2 only in the signed head.
    const entries = rehash([
      { requestId, seq: 1, at: '2026-12-01T00:00:00.000Z', step: 'Submit', actor: { type: 'human' as const, id: 'u' }, event: 'request.submitted', data: {}, prevHash: '0'.repeat(64), hash: '' },
      { requestId, seq: 2, at: '2026-12-01T00:00:01.000Z', step: 'Triage', actor: { type: 'system' as const, id: 'triage' }, event: 'request.triaged', data: {}, prevHash: '', hash: '' },
    ]);
    const { signature, keyId } = await stores().signer.sign(headMessage(requestId, 2, entries[1]!.hash));
    await put(entries[0]!);
    await put({ requestId, seq: 0, entry: entries[1]!, keyId, signature: Buffer.from(signature).toString('base64') });
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: true, head: { seq: 2 } });
    // A step of a request in flight during the upgrade: its state says nothing about the chain.
    const third = await stores().audit.append(requestId, anEvent(3), undefined, { head: true });
    expect(third).toMatchObject({ seq: 3, prevHash: entries[1]!.hash });
    const trail = await stores().audit.trail(requestId, signedHeadOf(third));
    expect(trail).toMatchObject({ verified: true });
    expect(trail.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('a request with no entries has nothing to verify', async () => {
    expect(await stores().audit.trail(newRequestId())).toEqual({ entries: [], verified: true });
  });
});
