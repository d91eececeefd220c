import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { DynamoAuditLog } from '../../../lambdas/shared/adapters/aws/auditLog';
import { hashEntry, headMessage, verifyChain } from '../../../lambdas/shared/audit/chain';
import { AuditWriteFailed } from '../../../lambdas/shared/errors';
import { newRequestId } from '../../../lambdas/shared/ids';
import type { AuditSigner } from '../../../lambdas/shared/ports';
import type { AuditEntry, AuditEvent, AuditHead } from '../../../lambdas/shared/schemas/records';
import { useEmulatedStores } from '../../support/stores';

/**
 * The anchored head (issue 12, finding 7): a chain only agrees with itself, so the audit log
 * signs each request's head with the audit key (the local KMS stand-in here) and `trail`
 * checks the entries against it. Each attack below is done to the table directly, as someone
 * who can write the table but not sign would do it.
 */

const stores = useEmulatedStores();

function anEvent(n: number): AuditEvent {
  return { step: `step-${n}`, actor: { type: 'system', id: 'warden' }, event: 'step.completed', data: { n } };
}

const table = () => stores().emulators.tableNames.audit;

async function appendN(requestId: string, n: number): Promise<AuditEntry[]> {
  const entries = [];
  for (let i = 1; i <= n; i++) entries.push(await stores().audit.append(requestId, anEvent(i)));
  return entries;
}

async function storedHead(requestId: string): Promise<AuditHead> {
  const { Item } = await stores().doc.send(new GetCommand({ TableName: table(), Key: { requestId, seq: 0 }, ConsistentRead: true }));
  return Item as AuditHead;
}

async function put(item: object): Promise<void> {
  await stores().doc.send(new PutCommand({ TableName: table(), Item: item }));
}

async function remove(requestId: string, seq: number): Promise<void> {
  await stores().doc.send(new DeleteCommand({ TableName: table(), Key: { requestId, seq } }));
}

/** Re-hashes `entries` from the first one on, as someone would after editing one. */
function rehash(entries: AuditEntry[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const entry of entries) {
    const prevHash = out.length > 0 ? out[out.length - 1]!.hash : entry.prevHash;
    const { hash: _old, ...unhashed } = { ...entry, prevHash };
    out.push({ ...unhashed, hash: hashEntry(unhashed) });
  }
  return out;
}

describe('the signed audit head', () => {
  it('is verified after normal appends and names the last entry, signed by the audit key', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 4);
    const trail = await stores().audit.trail(requestId);
    expect(trail).toMatchObject({ verified: true, head: { seq: 4, hash: appended[3]!.hash, keyId: stores().emulators.auditSigningKeyId } });
    expect(trail).not.toHaveProperty('reason');
    expect(trail.entries).toEqual(appended);
    // The head checks out with the key's public half alone, outside Warden.
    const { PublicKey } = await stores().signer.kms.send(new GetPublicKeyCommand({ KeyId: stores().emulators.auditSigningKeyId }));
    const publicKey = createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' });
    expect(verify('sha256', headMessage(requestId, 4, appended[3]!.hash), publicKey, Buffer.from(trail.head!.signature, 'base64'))).toBe(true);
  });

  it('stays verified through 10 concurrent appends: the head never forks', async () => {
    const requestId = newRequestId();
    await Promise.all(Array.from({ length: 10 }, (_, i) => stores().audit.append(requestId, anEvent(i))));
    const trail = await stores().audit.trail(requestId);
    expect(trail).toMatchObject({ verified: true, head: { seq: 10 } });
    expect(trail.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('catches a cut-off tail: the last entry (the head) removed', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 4);
    await remove(requestId, 0);
    const trail = await stores().audit.trail(requestId);
    // What is left still agrees with itself: only the missing head tells.
    expect(verifyChain(trail.entries)).toBe(true);
    expect(trail.entries).toHaveLength(3);
    expect(trail).toMatchObject({ verified: false, reason: 'head_missing' });
  });

  it('catches a cut-off tail: the last entries removed and an unsigned head put over the new end', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 4);
    const head = await storedHead(requestId);
    await remove(requestId, 3);
    await put({ ...head, entry: appended[1] });
    const trail = await stores().audit.trail(requestId);
    expect(verifyChain(trail.entries)).toBe(true);
    expect(trail).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
  });

  it('catches stored entries cut off under an intact head', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 5);
    await remove(requestId, 4);
    await remove(requestId, 3);
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: false, reason: 'chain_broken' });
  });

  it('catches an edited entry re-hashed through to the head', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 4);
    const entries = await stores().audit.list(requestId);
    const edited = rehash([{ ...entries[1]!, actor: { type: 'human', id: 'mallory' } }, ...entries.slice(2)]);
    for (const entry of edited.slice(0, -1)) await put(entry);
    await put({ ...(await storedHead(requestId)), entry: edited[edited.length - 1] });
    const trail = await stores().audit.trail(requestId);
    // The chain agrees with itself again: this is what `verified` used to accept.
    expect(verifyChain(trail.entries)).toBe(true);
    expect(trail.entries[1]!.actor.id).toBe('mallory');
    expect(trail).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
  });

  it('catches an edited entry re-hashed up to, but not into, the head', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 4);
    const entries = await stores().audit.list(requestId);
    for (const entry of rehash([{ ...entries[0]!, data: { n: 'edited' } }, ...entries.slice(1, 3)])) await put(entry);
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: false, reason: 'chain_broken' });
  });

  it('catches a head forged without the key, under the real key id or another', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 3);
    const entries = await stores().audit.list(requestId);
    const edited = rehash([{ ...entries[1]!, event: 'approval.decided' }, entries[2]!]);
    await put(edited[0]!);
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const last = edited[1]!;
    const signature = sign('sha256', headMessage(requestId, last.seq, last.hash), forger).toString('base64');
    for (const keyId of [stores().emulators.auditSigningKeyId, 'arn:aws:kms:us-east-1:111122223333:key/forger']) {
      await put({ requestId, seq: 0, entry: last, keyId, signature });
      expect(await stores().audit.trail(requestId)).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
    }
  });

  it("catches another request's genuine head copied over this one's", async () => {
    const [mine, other] = [newRequestId(), newRequestId()];
    await appendN(mine, 2);
    await appendN(other, 2);
    await put({ ...(await storedHead(other)), requestId: mine });
    expect(await stores().audit.trail(mine)).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
  });

  it('catches entries added past the signed head', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 2);
    const extra = rehash([appended[1]!, { ...appended[1]!, seq: 3, event: 'effect.executed' }]);
    for (const entry of extra) await put(entry);
    const trail = await stores().audit.trail(requestId);
    expect(verifyChain(trail.entries)).toBe(true);
    expect(trail).toMatchObject({ verified: false, reason: 'head_mismatch' });
  });

  it('catches a malformed head', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 2);
    await put({ requestId, seq: 0, note: 'not a head' });
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
    await expect(stores().audit.append(requestId, anEvent(3))).rejects.toBeInstanceOf(AuditWriteFailed);
  });

  it('refuses to extend a forged head, so a later append cannot vouch for it', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 2);
    const head = await storedHead(requestId);
    await put({ ...head, signature: Buffer.from('not a signature').toString('base64') });
    await expect(stores().audit.append(requestId, anEvent(3))).rejects.toBeInstanceOf(AuditWriteFailed);
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: false, reason: 'head_signature_invalid' });
  });

  it('refuses to move the head past an entry someone else put where the head entry belongs', async () => {
    const requestId = newRequestId();
    const appended = await appendN(requestId, 2);
    await put(rehash([{ ...appended[1]!, actor: { type: 'human', id: 'mallory' } }])[0]!);
    await expect(stores().audit.append(requestId, anEvent(3))).rejects.toThrow(/entry 2 in the table is not the one the signed head holds/);
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: false });
  });

  it('when signing fails mid-append, leaves a verified chain and the next append carries on', async () => {
    const requestId = newRequestId();
    await appendN(requestId, 2);
    const unavailable: AuditSigner = {
      sign: async () => {
        throw Object.assign(new Error('KMS unavailable'), { name: 'KMSInternalException' });
      },
      verify: stores().signer.verify,
    };
    const failing = new DynamoAuditLog(stores().doc, table(), unavailable);
    await expect(failing.append(requestId, anEvent(3))).rejects.toMatchObject({ code: 'audit_write_failed', message: 'audit append failed: KMSInternalException' });
    // The head's entry was already stored on its own; the head did not move.
    expect(await stores().audit.trail(requestId)).toMatchObject({ verified: true, head: { seq: 2 } });
    await stores().audit.append(requestId, anEvent(3));
    const trail = await stores().audit.trail(requestId);
    expect(trail).toMatchObject({ verified: true, head: { seq: 3 } });
    expect(trail.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('a request with no entries has nothing to verify', async () => {
    expect(await stores().audit.trail(newRequestId())).toEqual({ entries: [], verified: true });
  });
});
