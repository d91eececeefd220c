import { canonicalJson, GENESIS_HASH, hashEntry, verifyChain } from '../../../lambdas/shared/audit/chain';
import * as shared from '../../../lambdas/shared/canonical-json';
import type { AuditEntry } from '../../../lambdas/shared/schemas/records';
import { canonicalProposalJson } from '../../../lambdas/shared/validation';

function buildChain(length: number, requestId = 'r_chain'): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (let seq = 1; seq <= length; seq++) {
    const unhashed = {
      requestId,
      seq,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
      step: `step-${seq}`,
      actor: { type: 'system' as const, id: 'warden' },
      event: 'step.completed',
      data: { n: seq, nested: { b: [1, 2, { z: true, a: null }], a: 'x' } },
      prevHash: entries[seq - 2]?.hash ?? GENESIS_HASH,
    };
    entries.push({ ...unhashed, hash: hashEntry(unhashed) });
  }
  return entries;
}

describe('canonicalJson', () => {
  it('is the one shared canonical JSON: the chain re-exports it and proposal fingerprints serialise with it', () => {
    expect(canonicalJson).toBe(shared.canonicalJson);
    // Fingerprints normalise first (trim, fold vendor case), then serialise the same way.
    const proposal = { action: 'refund', fields: { reason: 'damaged', amount: 120, orderId: 'O-5001', customerId: 'C-1002' } } as const;
    expect(canonicalProposalJson(proposal)).toBe(shared.canonicalJson(proposal));
  });

  it('sorts keys recursively and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: 'é' } })).toBe('{"a":{"c":"é","d":[3,{"x":2,"y":1}]},"b":1}');
  });

  it('is independent of key insertion order', () => {
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalJson({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('drops undefined members and nulls non-finite numbers, as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, NaN], c: new Date(0) })).toBe(
      '{"b":[null,null],"c":"1970-01-01T00:00:00.000Z"}',
    );
  });
});

describe('hashEntry', () => {
  it('is a sha256 hex digest that ignores attributes outside the chain', () => {
    const [entry] = buildChain(1);
    const { hash, ...unhashed } = entry!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashEntry({ ...unhashed, extra: 'ignored' } as typeof unhashed)).toBe(hash);
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain and an empty one', () => {
    expect(verifyChain(buildChain(5))).toBe(true);
    expect(verifyChain([])).toBe(true);
  });

  it('starts from the genesis hash', () => {
    const chain = buildChain(1);
    expect(chain[0]!.prevHash).toBe(GENESIS_HASH);
    const unhashed = { ...chain[0]!, prevHash: 'f'.repeat(64) };
    expect(verifyChain([{ ...unhashed, hash: hashEntry(unhashed) }])).toBe(false);
  });

  const tamperings: [string, (entry: AuditEntry) => AuditEntry][] = [
    ['requestId', (e) => ({ ...e, requestId: 'r_other' })],
    ['at', (e) => ({ ...e, at: '2030-01-01T00:00:00.000Z' })],
    ['step', (e) => ({ ...e, step: 'execute' })],
    ['actor.id', (e) => ({ ...e, actor: { ...e.actor, id: 'mallory' } })],
    ['actor.type', (e) => ({ ...e, actor: { ...e.actor, type: 'human' } })],
    ['event', (e) => ({ ...e, event: 'approval.granted' })],
    ['a nested data value', (e) => ({ ...e, data: { ...e.data, nested: { b: [1, 2, { z: false, a: null }], a: 'x' } } })],
    ['an added data field', (e) => ({ ...e, data: { ...e.data, approvedBy: 'mallory' } })],
    ['prevHash', (e) => ({ ...e, prevHash: 'f'.repeat(64) })],
    ['hash', (e) => ({ ...e, hash: 'a'.repeat(64) })],
    ['seq', (e) => ({ ...e, seq: e.seq + 10 })],
  ];

  it.each(tamperings)('rejects a chain whose entry has a tampered %s', (_field, tamper) => {
    for (const index of [0, 2, 4]) {
      const chain = buildChain(5);
      chain[index] = tamper(chain[index]!);
      expect(verifyChain(chain)).toBe(false);
    }
  });

  it('rejects a re-hashed tampered entry (its successor still points at the old hash)', () => {
    const chain = buildChain(5);
    const { hash: _old, ...unhashed } = { ...chain[2]!, data: { n: 999 } };
    chain[2] = { ...unhashed, hash: hashEntry(unhashed) };
    expect(verifyChain(chain)).toBe(false);
  });

  it('rejects reordered entries', () => {
    const chain = buildChain(5);
    [chain[1], chain[2]] = [chain[2]!, chain[1]!];
    expect(verifyChain(chain)).toBe(false);
  });

  it.each([0, 1, 2, 3])('rejects a chain with entry %i deleted', (index) => {
    const chain = buildChain(5);
    chain.splice(index, 1);
    expect(verifyChain(chain)).toBe(false);
  });

  it('detects a cut-off tail only against a recorded head', () => {
    const chain = buildChain(5);
    const head = { seq: 5, hash: chain[4]!.hash };
    expect(verifyChain(chain, head)).toBe(true);
    const truncated = chain.slice(0, 4);
    // Every remaining link is intact: without an anchor, truncation is invisible.
    expect(verifyChain(truncated)).toBe(true);
    expect(verifyChain(truncated, head)).toBe(false);
  });

  it('rejects a chain that mixes two requests', () => {
    const chain = [...buildChain(2, 'r_a'), ...buildChain(3, 'r_b').slice(2)];
    expect(verifyChain(chain)).toBe(false);
  });
});
