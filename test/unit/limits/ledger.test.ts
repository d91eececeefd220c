import { CumulativeLedger, ledgerKey, type CumulativeShare } from '../../../lambdas/shared/limits';
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
    measure: 'sum:amount',
    per: options.per ?? { vendor: `ledger-test-vendor-${++n}`, currency: 'USD' },
    units,
    unit: 'USD',
    scale: 100,
    ...(windowDays !== undefined ? { windowDays } : {}),
  };
}

const holdsOf = async (s: CumulativeShare) => Object.fromEntries(Object.entries((await stores().records.get(ledgerKey(s))) ?? {}).filter(([name]) => name.startsWith('hold#')).map(([name, hold]) => [name.slice('hold#'.length), hold])) as Record<string, { units: number; at: string }>;

it('a reservation returns the total with the request included, and a retry of the same request counts once', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const a = share(499_999);
  expect(await ledger.reserve('r_a', [a], T0)).toEqual([499_999]);
  expect(await ledger.reserve('r_b', [{ ...a, units: 100 }], T0)).toEqual([500_099]);
  // A retry (later, even with another figure) keeps the first reservation.
  expect(await ledger.reserve('r_b', [{ ...a, units: 100 }], new Date(T0.getTime() + 1000))).toEqual([500_099]);

  const item = await stores().records.get(ledgerKey(a));
  expect(item?.pk).toMatch(/^LIMIT#purchase_order\.vendor\.[0-9a-f]{40}$/);
  expect(item).toMatchObject({ ledgerOf: { action: 'purchase_order', name: 'vendor', per: a.per } });
  expect(await holdsOf(a)).toEqual({ r_a: { units: 499_999, at: T0.toISOString() }, r_b: { units: 100, at: T0.toISOString() } });
});

it('shares older than the window no longer count; a lifetime aggregate keeps them', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const windowed = share(300_000);
  const lifetime = share(300_000, { windowDays: null });
  await ledger.reserve('r_old', [windowed, lifetime], T0);
  const later = new Date(T0.getTime() + 30 * DAY + 1);
  expect(await ledger.reserve('r_new', [windowed, lifetime], later)).toEqual([300_000, 600_000]);
  // On the window's first millisecond it still counts.
  const edge = share(1);
  await ledger.reserve('r_edge1', [edge], T0);
  expect(await ledger.reserve('r_edge2', [edge], new Date(T0.getTime() + 30 * DAY))).toEqual([2]);
});

it('once an aggregate holds 50 shares older than its window, they are dropped from the item', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const s = share(1);
  for (let i = 0; i < 50; i++) await ledger.reserve(`r_stale${i}`, [s], T0);
  expect(Object.keys(await holdsOf(s))).toHaveLength(50);
  expect(await ledger.reserve('r_fresh', [s], new Date(T0.getTime() + 31 * DAY))).toEqual([1]);
  expect(Object.keys(await holdsOf(s))).toEqual(['r_fresh']);
});

it('release removes the request\'s share; it is idempotent and creates nothing for an aggregate it never reached', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const s = share(1000);
  await ledger.reserve('r_held', [s], T0);
  await ledger.reserve('r_kept', [s], T0);
  await ledger.release('r_held', [s]);
  await ledger.release('r_held', [s]);
  expect(await ledger.reserve('r_next', [{ ...s, units: 1 }], T0)).toEqual([1001]);
  expect(Object.keys(await holdsOf(s)).sort()).toEqual(['r_kept', 'r_next']);

  const untouched = share(5);
  await ledger.release('r_nowhere', [untouched]);
  expect(await stores().records.get(ledgerKey(untouched))).toBeUndefined();
});

it('twenty concurrent reservations on a new aggregate: each sees all that came before it, none is lost', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const s = share(0);
  const totals = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.reserve(`r_race${i}`, [{ ...s, units: 100 }], T0)));
  // The updates are applied one at a time: the totals are exactly 100, 200, …, 2000 in some order.
  expect(totals.map(([total]) => total).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100));
  expect(Object.keys(await holdsOf(s))).toHaveLength(20);
});

it('an aggregate written before shares were attributes (a ledgerHolds map) still counts, releases and prunes them', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const s = share(100);
  const old = T0.toISOString();
  const stale = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`r_stale${i}`, { units: 1, at: new Date(T0.getTime() - 40 * DAY).toISOString() }]));
  await stores().records.putIfAbsent({ ...ledgerKey(s), ledgerOf: { action: s.action, name: s.name, per: s.per }, ledgerHolds: { r_legacy: { units: 700, at: old }, ...stale } });
  // The map's share counts with the new one (the stale ones are out of the window, and dropped).
  expect(await ledger.reserve('r_new', [s], T0)).toEqual([800]);
  const item = await stores().records.get(ledgerKey(s));
  expect(Object.keys(item?.ledgerHolds as object)).toEqual(['r_legacy']);
  await ledger.release('r_legacy', [s]);
  expect(await ledger.reserve('r_after', [{ ...s, units: 1 }], T0)).toEqual([101]);
  expect((await stores().records.get(ledgerKey(s)))?.ledgerHolds).toEqual({});
});

it('a request whose share an older item holds in its map is not counted twice when its reservation is retried', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const s = share(100);
  await stores().records.putIfAbsent({ ...ledgerKey(s), ledgerOf: { action: s.action, name: s.name, per: s.per }, ledgerHolds: { r_retried: { units: 700, at: T0.toISOString() } } });
  expect(await ledger.reserve('r_retried', [{ ...s, units: 700 }], T0)).toEqual([700]);
  expect(await holdsOf(s)).toEqual({});
});

describe('a finer measure kept in the coarser one\'s item (per requester and vendor, beside per vendor)', () => {
  /** The vendor share and the requester-and-vendor share of one request, as sharesOf gives them. */
  function sharesFor(vendor: string, requester: string, units: number, windows: { vendor?: number; requesterVendor?: number } = {}): CumulativeShare[] {
    const base = { action: 'purchase_order', measure: 'sum:amount', units, unit: 'USD', scale: 100 };
    return [
      { ...base, name: 'vendor', per: { vendor, currency: 'USD' }, windowDays: windows.vendor ?? 30 },
      { ...base, name: 'requesterVendor', per: { requester, vendor, currency: 'USD' }, windowDays: windows.requesterVendor ?? 30 },
    ];
  }

  it('one item holds both: each requester\'s total counts only their shares, the vendor\'s counts all', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    expect(await ledger.reserve('r_f1', sharesFor(vendor, 'alice', 100), T0)).toEqual([100, 100]);
    expect(await ledger.reserve('r_f2', sharesFor(vendor, 'bob', 200), T0)).toEqual([300, 200]);
    expect(await ledger.reserve('r_f3', sharesFor(vendor, 'alice', 50), T0)).toEqual([350, 150]);
    // A retry counts once.
    expect(await ledger.reserve('r_f3', sharesFor(vendor, 'alice', 50), T0)).toEqual([350, 150]);
    const [vendorShare, requesterShare] = sharesFor(vendor, 'alice', 0);
    expect(await holdsOf(vendorShare)).toEqual({
      r_f1: { units: 100, at: T0.toISOString(), per: { requester: 'alice' } },
      r_f2: { units: 200, at: T0.toISOString(), per: { requester: 'bob' } },
      r_f3: { units: 50, at: T0.toISOString(), per: { requester: 'alice' } },
    });
    expect(await stores().records.get(ledgerKey(requesterShare))).toBeUndefined();

    // A release takes the share out of both totals.
    await ledger.release('r_f1', sharesFor(vendor, 'alice', 100));
    expect(await ledger.reserve('r_f4', sharesFor(vendor, 'alice', 1), T0)).toEqual([251, 51]);
  });

  it('a share that names no requester: for a window after the move, whose it is comes from the own item; later it counts for everyone', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    const [vendorShare] = sharesFor(vendor, 'alice', 0);
    // Written while the policy counted per vendor only: no requester total ever held it.
    await ledger.reserve('r_before', [{ ...vendorShare, units: 700 }], T0);
    expect(await ledger.reserve('r_alice', sharesFor(vendor, 'alice', 100), T0)).toEqual([800, 100]);
    // Once the move is a window old, a share that names no requester (a version that writes none,
    // still running) counts towards every requester's total: never short.
    const later = new Date(T0.getTime() + 31 * DAY);
    await ledger.reserve('r_unnamed', [{ ...vendorShare, units: 50 }], later);
    expect(await ledger.reserve('r_bob', sharesFor(vendor, 'bob', 10), later)).toEqual([60, 60]);
  });

  it('each total is counted over its own window, and a share is kept while the longest still counts it', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    const windows = { vendor: 90, requesterVendor: 30 };
    for (let i = 0; i < 50; i++) await ledger.reserve(`r_aged${i}`, sharesFor(vendor, 'alice', 1, windows), new Date(T0.getTime() - 40 * DAY));
    expect(await ledger.reserve('r_now', sharesFor(vendor, 'alice', 100, windows), T0)).toEqual([150, 100]);
    const [vendorShare, requesterShare] = sharesFor(vendor, 'alice', 0, windows);
    expect(Object.keys(await holdsOf(vendorShare))).toHaveLength(51);
    expect(await stores().records.get(ledgerKey(requesterShare))).toBeUndefined();
  });

  it('a finer measure with a longer window than the coarser one keeps an item of its own', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    const windows = { vendor: 30, requesterVendor: 90 };
    expect(await ledger.reserve('r_apart', sharesFor(vendor, 'alice', 100, windows), T0)).toEqual([100, 100]);
    const [vendorShare, requesterShare] = sharesFor(vendor, 'alice', 0, windows);
    expect(await holdsOf(vendorShare)).toEqual({ r_apart: { units: 100, at: T0.toISOString() } });
    expect(await holdsOf(requesterShare)).toEqual({ r_apart: { units: 100, at: T0.toISOString() } });
  });

  it('twenty concurrent reservations by two requesters: every total is exact', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    const totals = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.reserve(`r_frace${i}`, sharesFor(vendor, i % 2 === 0 ? 'alice' : 'bob', 100), T0)));
    expect(totals.map(([total]) => total).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100));
    for (const requester of [0, 1]) {
      const own = totals.filter((_, i) => i % 2 === requester).map(([, total]) => total).sort((x, y) => x - y);
      expect(own).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 100));
    }
  });

  it('a policy that adds the coarser measure: for one window the finer one still counts what its own item holds', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    const [, requesterShare] = sharesFor(vendor, 'alice', 4_000_000);
    // Before: requesterVendor alone, in its own item.
    expect(await ledger.reserve('r_alone', [requesterShare], T0)).toEqual([4_000_000]);
    // After: vendor is declared too, and requesterVendor is kept in its item from now on.
    const later = new Date(T0.getTime() + DAY);
    expect(await ledger.reserve('r_both', sharesFor(vendor, 'alice', 4_000_000), later)).toEqual([4_000_000, 8_000_000]);
    expect(await ledger.reserve('r_bob', sharesFor(vendor, 'bob', 1), later)).toEqual([4_000_001, 1]);
    // A window after the move, what the own item holds has left the window.
    const past = new Date(T0.getTime() + 31 * DAY);
    expect(await ledger.reserve('r_next', sharesFor(vendor, 'alice', 100), past)).toEqual([4_000_101, 4_000_100]);
  });

  it('a request reserved in both items before the upgrade is counted once', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    const [vendorShare, requesterShare] = sharesFor(vendor, 'alice', 700);
    // What the previous version did: one item per measure, each with the share.
    expect(await ledger.reserve('r_old', [vendorShare], T0)).toEqual([700]);
    expect(await ledger.reserve('r_old', [requesterShare], T0)).toEqual([700]);
    expect(await ledger.reserve('r_new', sharesFor(vendor, 'alice', 100), T0)).toEqual([800, 800]);
    // Bob's own item never held it: it is Alice's.
    expect(await ledger.reserve('r_other', sharesFor(vendor, 'bob', 10), T0)).toEqual([810, 10]);
  });

  it('three measures, each counted per one more value: all kept in the coarsest item', async () => {
    const ledger = new CumulativeLedger(stores().records);
    const vendor = `fold-vendor-${++n}`;
    const base = { action: 'purchase_order', measure: 'sum:amount', units: 300, unit: 'USD', scale: 100, windowDays: 30 };
    const three = (requester: string, team: string): CumulativeShare[] => [
      { ...base, name: 'requesterTeamVendor', per: { requester, team, vendor, currency: 'USD' } },
      { ...base, name: 'requesterVendor', per: { requester, vendor, currency: 'USD' } },
      { ...base, name: 'vendor', per: { vendor, currency: 'USD' } },
    ];
    expect(await ledger.reserve('r_t1', three('alice', 'red'), T0)).toEqual([300, 300, 300]);
    expect(await ledger.reserve('r_t2', three('alice', 'blue'), T0)).toEqual([300, 600, 600]);
    expect(await ledger.reserve('r_t3', three('bob', 'red'), T0)).toEqual([300, 300, 900]);
    const [finest, middle, coarsest] = three('alice', 'red');
    expect(Object.keys(await holdsOf(coarsest))).toEqual(['r_t1', 'r_t2', 'r_t3']);
    expect(await stores().records.get(ledgerKey(middle))).toBeUndefined();
    expect(await stores().records.get(ledgerKey(finest))).toBeUndefined();
  });

  it('two items, one of which cannot be updated: the reservation fails only once the other has landed', async () => {
    const records = stores().records;
    const vendor = `fold-vendor-${++n}`;
    const base = { action: 'purchase_order', measure: 'sum:amount', units: 100, unit: 'USD', scale: 100, windowDays: 30 };
    const perVendor: CumulativeShare = { ...base, name: 'vendor', per: { vendor, currency: 'USD' } };
    const perRequester: CumulativeShare = { ...base, name: 'requester', per: { requester: `alice-${vendor}`, currency: 'USD' } };
    const table = Object.create(records) as typeof records;
    table.updateIf = async (args) => {
      if (args.key.pk === ledgerKey(perRequester).pk) throw new Error('throttled');
      await new Promise((resolve) => setTimeout(resolve, 50));
      return records.updateIf(args);
    };
    await expect(new CumulativeLedger(table).reserve('r_half', [perVendor, perRequester], T0)).rejects.toThrow('throttled');
    // Nothing in flight when it failed: the share it did reserve is there (a release after this finds it).
    expect(Object.keys(await holdsOf(perVendor))).toEqual(['r_half']);
  });
});
