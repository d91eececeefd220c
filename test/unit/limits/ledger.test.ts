import { CumulativeLedger, ledgerKey, LedgerContention, type CumulativeShare } from '../../../lambdas/shared/limits';
import { useEmulatedStores } from '../../support/stores';

/** The cumulative ledger on the emulated record table: what a reservation counts, and what a race does. */

const stores = useEmulatedStores();
const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date('2031-03-01T12:00:00.000Z');

let n = 0;
/** A share of a fresh aggregate (a vendor of its own) unless `per` names one. */
function share(units: number, options: { per?: Record<string, string>; windowDays?: number | null } = {}): CumulativeShare {
  const windowDays = options.windowDays === null ? undefined : (options.windowDays ?? 30);
  return {
    action: 'purchase_order',
    name: 'vendor',
    per: options.per ?? { vendor: `ledger-test-vendor-${++n}`, currency: 'USD' },
    units,
    unit: 'USD',
    scale: 100,
    ...(windowDays !== undefined ? { windowDays } : {}),
  };
}

it('a reservation returns the total with the request included, and a retry of the same request counts once', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const a = share(499_999);
  expect(await ledger.reserve('r_a', [a], T0)).toEqual([499_999]);
  expect(await ledger.reserve('r_b', [{ ...a, units: 100 }], T0)).toEqual([500_099]);
  expect(await ledger.reserve('r_b', [{ ...a, units: 100 }], T0)).toEqual([500_099]);

  const item = await stores().records.get(ledgerKey(a));
  expect(item?.pk).toMatch(/^LIMIT#purchase_order\.vendor\.[0-9a-f]{40}$/);
  expect(item).toMatchObject({ ledgerOf: { action: 'purchase_order', name: 'vendor', per: a.per }, ledgerRev: 3 });
  expect(Object.keys(item?.ledgerHolds as object).sort()).toEqual(['r_a', 'r_b']);
});

it('shares older than the window no longer count, and are dropped from the item; a lifetime aggregate keeps them', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const windowed = share(300_000);
  const lifetime = share(300_000, { windowDays: null });
  await ledger.reserve('r_old', [windowed, lifetime], T0);
  const later = new Date(T0.getTime() + 30 * DAY + 1);
  expect(await ledger.reserve('r_new', [windowed, lifetime], later)).toEqual([300_000, 600_000]);
  expect(Object.keys((await stores().records.get(ledgerKey(windowed)))?.ledgerHolds as object)).toEqual(['r_new']);
  // On the window's first millisecond it still counts.
  const edge = share(1);
  await ledger.reserve('r_edge1', [edge], T0);
  expect(await ledger.reserve('r_edge2', [edge], new Date(T0.getTime() + 30 * DAY))).toEqual([2]);
});

it('release removes a held share but never a committed one; both are idempotent', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const s = share(1000);
  await ledger.reserve('r_held', [s], T0);
  await ledger.reserve('r_done', [s], T0);
  await ledger.commit('r_done', [s], T0);
  await ledger.release('r_held', [s]);
  await ledger.release('r_held', [s]);
  await ledger.release('r_done', [s]);
  await ledger.release('r_never', [s]);
  expect(await ledger.reserve('r_next', [{ ...s, units: 1 }], T0)).toEqual([1001]);
  expect((await stores().records.get(ledgerKey(s)))?.ledgerHolds).toMatchObject({ r_done: { units: 1000, committed: true } });
});

it('a committed share is never dropped as a retry re-reserves it, and a commit restores a share the window dropped', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const s = share(700);
  await ledger.reserve('r_c', [s], T0);
  await ledger.commit('r_c', [s], T0);
  await ledger.reserve('r_c', [s], T0);
  expect((await stores().records.get(ledgerKey(s)))?.ledgerHolds).toMatchObject({ r_c: { committed: true } });

  // A request that waited past the window: its share was dropped by a later reservation; committing writes it again, dated now.
  const late = new Date(T0.getTime() + 31 * DAY);
  await ledger.reserve('r_waiting', [s], T0);
  await ledger.reserve('r_later', [{ ...s, units: 5 }], late);
  await ledger.commit('r_waiting', [s], late);
  expect(await ledger.reserve('r_last', [{ ...s, units: 1 }], late)).toEqual([706]);
});

it('twenty concurrent reservations on one aggregate: each sees all that came before it, none is lost', async () => {
  const ledger = new CumulativeLedger(stores().records, { backoffMs: () => Math.random() * 10 });
  const s = share(0);
  const totals = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.reserve(`r_race${i}`, [{ ...s, units: 100 }], T0)));
  // The writes are serialised: the totals are exactly 100, 200, …, 2000 in some order.
  expect(totals.map(([total]) => total).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100));
  expect(Object.keys((await stores().records.get(ledgerKey(s)))?.ledgerHolds as object)).toHaveLength(20);
});

it('gives up with LedgerContention (a retryable step failure) when it keeps losing the race', async () => {
  const records = stores().records;
  // A table whose every conditional write loses, as under a storm of writers.
  const losing = Object.assign(Object.create(Object.getPrototypeOf(records)) as typeof records, records, {
    updateIf: async () => undefined,
  });
  const ledger = new CumulativeLedger(losing, { maxAttempts: 3, backoffMs: () => 0 });
  await expect(ledger.reserve('r_x', [share(1)], T0)).rejects.toBeInstanceOf(LedgerContention);
});
