import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '../../../lambdas/shared/adapters/aws/auditLog';
import { GENESIS_HASH, signedHeadOf, verifyChain, type AppendedEntry } from '../../../lambdas/shared/audit/chain';
import { AuditWriteFailed } from '../../../lambdas/shared/errors';
import { newRequestId } from '../../../lambdas/shared/ids';
import type { AuditEvent } from '../../../lambdas/shared/schemas/records';
import { useEmulatedStores } from '../../support/stores';

const stores = useEmulatedStores();

function anEvent(n: number): AuditEvent {
  return { step: `step-${n}`, actor: { type: 'system', id: 'warden' }, event: 'step.completed', data: { n, items: [n, { ok: true }] } };
}

describe('DynamoAuditLog', () => {
  it('appends five entries as seq 1..5 on an unbroken chain', async () => {
    const requestId = newRequestId();
    const appended = [];
    for (let n = 1; n <= 5; n++) appended.push(await stores().audit.append(requestId, anEvent(n)));

    const entries = await stores().audit.list(requestId);
    expect(entries).toEqual(appended.map(({ keyId: _k, signature: _s, head: _h, ...entry }) => entry));
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries[3]!.prevHash).toBe(entries[2]!.hash);
    expect(entries[4]).toMatchObject({ requestId, step: 'step-5', event: 'step.completed', data: { n: 5, items: [5, { ok: true }] } });
    expect(verifyChain(entries)).toBe(true);
  });

  it('appendUnlessClosed writes nothing after the entry that ends the request', async () => {
    const requestId = newRequestId();
    expect(await stores().audit.appendUnlessClosed(requestId, anEvent(1))).toMatchObject({ seq: 1 });
    await stores().audit.append(requestId, { step: 'Finalize', actor: { type: 'system', id: 'finalizer' }, event: 'request.finalized', data: { status: 'EXPIRED' } });

    expect(await stores().audit.appendUnlessClosed(requestId, anEvent(3))).toBeUndefined();
    const entries = await stores().audit.list(requestId);
    expect(entries.map((e) => e.event)).toEqual(['step.completed', 'request.finalized']);
    expect(verifyChain(entries)).toBe(true);
  });

  it('appendUnlessClosed racing the closing entry lands before it or not at all', async () => {
    const requestId = newRequestId();
    const closing: AuditEvent = { step: 'Finalize', actor: { type: 'system', id: 'finalizer' }, event: 'request.finalized', data: {} };
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => stores().audit.appendUnlessClosed(requestId, anEvent(i))),
      stores().audit.append(requestId, closing),
    ]);
    const events = (await stores().audit.list(requestId)).map((e) => e.event);
    expect(events.indexOf('request.finalized')).toBe(events.length - 1);
  });

  describe('once: the write an entry records', () => {
    it('writes the entry only after that write has landed', async () => {
      const requestId = newRequestId();
      const first = await stores().audit.append(requestId, anEvent(1));
      let landed!: () => void;
      const write = new Promise<void>((resolve) => (landed = resolve));
      const appending = stores().audit.appendUnlessClosed(requestId, anEvent(2), { seq: first.seq, hash: first.hash }, { once: write, head: true });
      // Long enough for the signatures (and a put, were it not waiting).
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await stores().audit.list(requestId)).map((e) => e.seq)).toEqual([1]);
      landed();
      expect(await appending).toMatchObject({ seq: 2, head: { seq: 2 } });
      const entries = await stores().audit.list(requestId);
      expect(entries.map((e) => e.seq)).toEqual([1, 2]);
      expect(verifyChain(entries)).toBe(true);
    });

    it('writes nothing when that write fails, and throws its error as it was', async () => {
      const requestId = newRequestId();
      const first = await stores().audit.append(requestId, anEvent(1));
      const refused = new Error('the request is no longer waiting');
      const write = new Promise<void>((_, reject) => setTimeout(() => reject(refused), 50));
      await expect(stores().audit.append(requestId, anEvent(2), { seq: first.seq, hash: first.hash }, { once: write })).rejects.toBe(refused);
      expect((await stores().audit.list(requestId)).map((e) => e.seq)).toEqual([1]);
    });

    it('settles only after that write, even when the entry itself cannot be written', async () => {
      const { doc, emulators, signer } = stores();
      const failing = new DynamoAuditLog(doc, emulators.tableNames.audit, { sign: async () => Promise.reject(new Error('kms down')), verify: signer.verify });
      let settled = false;
      const write = new Promise<void>((resolve) => setTimeout(resolve, 80)).then(() => {
        settled = true;
      });
      await expect(failing.append(newRequestId(), anEvent(1), { seq: 0, hash: GENESIS_HASH }, { once: write })).rejects.toBeInstanceOf(AuditWriteFailed);
      expect(settled).toBe(true);
      // Refused before anything is signed (not a request id): still only after that write.
      settled = false;
      const another = new Promise<void>((resolve) => setTimeout(resolve, 80)).then(() => {
        settled = true;
      });
      await expect(stores().audit.append('not a request id', anEvent(1), undefined, { once: another })).rejects.toBeInstanceOf(AuditWriteFailed);
      expect(settled).toBe(true);
    });
  });

  it('lands 10 concurrent appends on one request without a gap or a fork', async () => {
    const requestId = newRequestId();
    const appended = await Promise.all(Array.from({ length: 10 }, (_, i) => stores().audit.append(requestId, anEvent(i))));
    const entries = await stores().audit.list(requestId);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(entries.map((e) => e.data.n))).toEqual(new Set(appended.map((e) => e.data.n)));
    expect(verifyChain(entries)).toBe(true);
  });

  it('stores exactly what it hashed (undefined dropped, dates as strings)', async () => {
    const requestId = newRequestId();
    await stores().audit.append(requestId, {
      ...anEvent(1),
      data: { at: new Date('2026-01-01T00:00:00Z'), gone: undefined, empty: '', nested: { list: [] } },
    });
    const entries = await stores().audit.list(requestId);
    expect(entries[0]!.data).toEqual({ at: '2026-01-01T00:00:00.000Z', empty: '', nested: { list: [] } });
    expect(verifyChain(entries)).toBe(true);
  });

  it('uses its clock for `at`', async () => {
    const requestId = newRequestId();
    stores().clock.set('2026-05-05T05:05:05.000Z');
    expect((await stores().audit.append(requestId, anEvent(1))).at).toBe('2026-05-05T05:05:05.000Z');
  });

  it('keeps chains of different requests apart', async () => {
    const [a, b] = [newRequestId(), newRequestId()];
    await stores().audit.append(a, anEvent(1));
    await stores().audit.append(b, anEvent(1));
    await stores().audit.append(a, anEvent(2));
    expect((await stores().audit.list(a)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await stores().audit.list(b)).map((e) => e.seq)).toEqual([1]);
  });

  it('lists every entry across DynamoDB pages', async () => {
    const requestId = newRequestId();
    // ~40 KB entries: 30 of them exceed one 1 MB query page.
    const big = 'x'.repeat(40_000);
    for (let n = 1; n <= 30; n++) await stores().audit.append(requestId, { ...anEvent(n), data: { big } });
    const page = await stores().doc.send(
      new QueryCommand({
        TableName: stores().emulators.tableNames.audit,
        KeyConditionExpression: 'requestId = :id',
        ExpressionAttributeValues: { ':id': requestId },
      }),
    );
    expect(page.LastEvaluatedKey).toBeDefined();
    const entries = await stores().audit.list(requestId);
    expect(entries).toHaveLength(30);
    expect(verifyChain(entries)).toBe(true);
  });

  it('lets verifyChain catch an entry edited in the table', async () => {
    const requestId = newRequestId();
    for (let n = 1; n <= 3; n++) await stores().audit.append(requestId, anEvent(n));
    const [, second] = await stores().audit.list(requestId);
    await stores().doc.send(
      new PutCommand({ TableName: stores().emulators.tableNames.audit, Item: { ...second!, actor: { type: 'human', id: 'mallory' } } }),
    );
    expect(verifyChain(await stores().audit.list(requestId))).toBe(false);
  });

  it('fails closed with AuditWriteFailed when the table cannot be written', async () => {
    const broken = new DynamoAuditLog(stores().doc, 'warden-NoSuchTable', stores().signer);
    const append = broken.append(newRequestId(), anEvent(1));
    await expect(append).rejects.toBeInstanceOf(AuditWriteFailed);
    await expect(append).rejects.toMatchObject({ code: 'audit_write_failed' });
    await expect(stores().audit.append('../x', anEvent(1))).rejects.toBeInstanceOf(AuditWriteFailed);
  });

  it('gives up with AuditWriteFailed after losing the race maxAttempts times', async () => {
    const requestId = newRequestId();
    const impatient = new DynamoAuditLog(stores().doc, stores().emulators.tableNames.audit, stores().signer, { maxAttempts: 1 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => impatient.append(requestId, anEvent(i), undefined, { head: true })));
    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect((failure as PromiseRejectedResult).reason).toBeInstanceOf(AuditWriteFailed);
    // The losers left nothing behind: the chain is still whole, and signed where it ends.
    const entries = await stores().audit.list(requestId);
    expect(verifyChain(entries)).toBe(true);
    const last = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<AppendedEntry>).value).find((e) => e.seq === entries.length)!;
    expect(await stores().audit.trail(requestId, signedHeadOf(last))).toMatchObject({ verified: true });
  });
});
