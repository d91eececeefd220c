import { CumulativeLedger, ledgerKey, type CumulativeShare } from '../../../lambdas/shared/limits';
import type { RecordTable } from '../../../lambdas/shared/ports';
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

it('a share whose effect takes effect later counts from that date, in every window that reaches it', async () => {
  const ledger = new CumulativeLedger(stores().records);
  const steps = share(1, { windowDays: 90 });
  const effective = new Date(T0.getTime() + 90 * DAY);
  // Day 0: a one-step change that takes effect on day 90.
  expect(await ledger.reserve('r_scheduled', [{ ...steps, countsFrom: effective.toISOString() }], T0)).toEqual([1]);
  expect((await holdsOf(steps)).r_scheduled).toEqual({ units: 1, at: effective.toISOString() });
  // Day 90 and a second (the red team's timing): the first request is past the window, its effect is not.
  expect(await ledger.reserve('r_day90', [steps], new Date(effective.getTime() + 1000))).toEqual([2]);
  // 90 days after the day it took effect, it no longer counts (r_day90, a second younger, still does).
  expect(await ledger.reserve('r_day180', [steps], new Date(effective.getTime() + 90 * DAY + 1))).toEqual([2]);
  // A date already past counts from the reservation, as any share.
  const past = share(1, { windowDays: 90 });
  await ledger.reserve('r_backdated', [{ ...past, countsFrom: new Date(T0.getTime() - 30 * DAY).toISOString() }], T0);
  expect((await holdsOf(past)).r_backdated).toEqual({ units: 1, at: T0.toISOString() });
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

it('two items, one of which cannot be updated: the reservation fails only once the other has landed', async () => {
  const records = stores().records;
  const perVendor = share(100);
  // Counted per a requester alone: not a subset of the vendor's values either way, so an item of its own.
  const perRequester: CumulativeShare = { ...share(100), name: 'requester', per: { requester: `alice-${++n}`, currency: 'USD' } };
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

describe('measures that share an item (one counted per a subset of what the other is counted per)', () => {
  /** A purchase order's two shares, as policy.json declares them: per vendor, and per requester and vendor. */
  function orderShares(vendor: string, requester: string, units: number, windowDays = 30): [CumulativeShare, CumulativeShare] {
    const perVendor: CumulativeShare = { ...share(units, { windowDays }), per: { vendor, currency: 'USD' } };
    return [perVendor, { ...perVendor, name: 'requesterVendor', per: { requester, vendor, currency: 'USD' } }];
  }

  /** The record table, counting the calls the ledger makes. */
  function countingTable(): { table: RecordTable; calls: string[] } {
    const records = stores().records;
    const calls: string[] = [];
    const table = Object.create(records) as RecordTable;
    table.updateIf = (args) => (calls.push(`update ${args.key.pk}`), records.updateIf(args));
    table.get = (key) => (calls.push(`get ${key.pk}`), records.get(key));
    return { table, calls };
  }

  const itemOf = async (s: CumulativeShare) => (await stores().records.get(ledgerKey(s))) ?? {};

  it('a request\'s shares are reserved, counted and released in one update each, in the wider measure\'s item', async () => {
    const vendor = `hosted-${++n}`;
    const { table, calls } = countingTable();
    const ledger = new CumulativeLedger(table);
    expect(await ledger.reserve('r_alice', orderShares(vendor, 'alice', 300_000), T0)).toEqual([300_000, 300_000]);
    expect(calls).toEqual([`update ${ledgerKey(orderShares(vendor, 'alice', 0)[0]).pk}`]);
    // Bob's own total starts at his order; the vendor's counts both.
    expect(await ledger.reserve('r_bob', orderShares(vendor, 'bob', 200_000), T0)).toEqual([500_000, 200_000]);
    expect(await ledger.reserve('r_alice2', orderShares(vendor, 'alice', 1), T0)).toEqual([500_001, 300_001]);

    const [perVendor, aliceVendor] = orderShares(vendor, 'alice', 0);
    const item = await itemOf(perVendor);
    // One attribute per request: the narrower share says only which aggregate it counts in (its amount and time are the same).
    expect(item).toMatchObject({ ledgerLayout: 'hosted' });
    expect(item['hold#r_alice']).toEqual({ units: 300_000, at: T0.toISOString(), by: { requesterVendor: { of: expect.stringMatching(/^[0-9a-f]{16}$/) } } });
    // The narrower measure has no item of its own.
    expect(await stores().records.get(ledgerKey(aliceVendor))).toBeUndefined();

    calls.length = 0;
    await ledger.release('r_alice', orderShares(vendor, 'alice', 300_000));
    expect(calls).toHaveLength(1);
    expect(await ledger.reserve('r_probe', orderShares(vendor, 'alice', 0), T0)).toEqual([200_001, 1]);
    expect(Object.keys(await itemOf(perVendor)).filter((name) => name.startsWith('hold#r_alice'))).toEqual(['hold#r_alice2']);
  });

  it('the placement does not depend on the order the measures are declared in', async () => {
    const vendor = `order-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    const [perVendor, perRequester] = orderShares(vendor, 'alice', 100);
    await ledger.reserve('r_listed', [perVendor, perRequester], T0);
    // policy.json listing requesterVendor first: the same item, the same totals, in the order asked.
    expect(await ledger.reserve('r_reversed', [{ ...perRequester, units: 5 }, { ...perVendor, units: 5 }], T0)).toEqual([105, 105]);
    expect(Object.keys(await itemOf(perVendor)).filter((name) => name.startsWith('hold#')).sort()).toEqual(['hold#r_listed', 'hold#r_reversed']);
    expect(await stores().records.get(ledgerKey(perRequester))).toBeUndefined();
  });

  it('a hosted share whose amount or time differs from the own share keeps its own', async () => {
    const vendor = `differs-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    const [perVendor, perRequester] = orderShares(vendor, 'alice', 100);
    const later = new Date(T0.getTime() + 10 * DAY).toISOString();
    expect(await ledger.reserve('r_d', [perVendor, { ...perRequester, units: 7, countsFrom: later }], T0)).toEqual([100, 7]);
    expect((await itemOf(perVendor))['hold#r_d']).toEqual({ units: 100, at: T0.toISOString(), by: { requesterVendor: { of: expect.any(String), units: 7, at: later } } });
    // Committed on day 12: both move to it (the later date is behind it now).
    const day12 = new Date(T0.getTime() + 12 * DAY);
    await ledger.commit('r_d', [perVendor, { ...perRequester, units: 7, countsFrom: later }], day12);
    expect((await itemOf(perVendor))['hold#r_d']).toMatchObject({ at: day12.toISOString(), by: { requesterVendor: { at: day12.toISOString() } } });
  });

  it('each measure counts in its own window; a request\'s shares leave the item only once all are past theirs', async () => {
    const vendor = `windows-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    const [perVendor] = orderShares(vendor, 'alice', 1, 7);
    // The vendor's counted over 7 days, one requester's to it over 30.
    const shares = (units: number): CumulativeShare[] => {
      const [wide, narrow] = orderShares(vendor, 'alice', units, 7);
      return [wide, { ...narrow, windowDays: 30 }];
    };
    const wait = { waitsUpToMs: 30 * DAY };
    for (let i = 0; i < 50; i++) await ledger.reserve(`r_old${i}`, shares(1), T0, wait);
    const holds = async () => Object.keys(await itemOf(perVendor)).filter((name) => name.startsWith('hold#'));
    // Day 8: the vendor's window has let them go, the requester's has not; they stay.
    expect(await ledger.reserve('r_day8', shares(1), new Date(T0.getTime() + 8 * DAY), wait)).toEqual([1, 51]);
    expect(await holds()).toHaveLength(51);
    // Day 61: past both windows and the wait; the 50 are dropped.
    expect(await ledger.reserve('r_day61', shares(1), new Date(T0.getTime() + 61 * DAY), wait)).toEqual([1, 1]);
    expect((await holds()).sort()).toEqual(['hold#r_day61', 'hold#r_day8']);
  });

  it('settled shares (past the approval wait and a day) are summed per day: the totals stay, the item shrinks', async () => {
    const vendor = `roll-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    const [perVendor] = orderShares(vendor, 'alice', 0);
    const wait = { waitsUpToMs: 7 * DAY };
    for (let i = 0; i < 60; i++) await ledger.reserve(`r_old${i}`, orderShares(vendor, i % 2 === 0 ? 'alice' : 'bob', 100), T0, wait);
    const attributes = async () => Object.entries(await itemOf(perVendor)).filter(([name]) => name.startsWith('hold#') || name.startsWith('day#'));
    // Day 9: day 0 is past the wait and a day; 25 of the 60 are summed.
    const day9 = new Date(T0.getTime() + 9 * DAY);
    expect(await ledger.reserve('r_a9', orderShares(vendor, 'alice', 1), day9, wait)).toEqual([6001, 3001]);
    const days = Object.fromEntries((await attributes()).filter(([name]) => name.startsWith('day#')));
    // One sum for the vendor's, one per requester for theirs (alice's and bob's).
    expect(days['day#2031-03-01']).toBe(2500);
    const perRequester = Object.entries(days).filter(([name]) => name !== 'day#2031-03-01');
    expect(perRequester.map(([name]) => name)).toEqual([expect.stringMatching(/^day#2031-03-01#requesterVendor#[0-9a-f]{16}$/), expect.stringMatching(/^day#2031-03-01#requesterVendor#[0-9a-f]{16}$/)]);
    expect(perRequester.reduce((sum, [, units]) => sum + Number(units), 0)).toBe(2500);
    expect((await attributes()).filter(([name]) => name.startsWith('hold#'))).toHaveLength(36);
    // Every total is what it was: the vendor's, and each requester's.
    expect(await ledger.reserve('r_b9', orderShares(vendor, 'bob', 1), day9, wait)).toEqual([6002, 3001]);
    expect(await ledger.reserve('r_a9b', orderShares(vendor, 'alice', 0), day9, wait)).toEqual([6002, 3001]);
    // A day counts while any part of it is in the window: an hour after day 0's shares left it, its sums still count.
    const justAfter = new Date(T0.getTime() + 30 * DAY + 3600 * 1000);
    const [vendorTotal] = await ledger.reserve('r_edge', orderShares(vendor, 'carol', 0), justAfter, wait);
    expect(vendorTotal).toBeGreaterThanOrEqual(2500 + 2);
    expect(vendorTotal).toBeLessThan(6002);
    // The next day it no longer does.
    expect(await ledger.reserve('r_day31', orderShares(vendor, 'alice', 0), new Date(T0.getTime() + 31 * DAY), wait)).toEqual([2, 1]);
  });

  it('a share is summed only a day after the longest approval wait any reservation named, so a shorter timeout set later takes no waiting share', async () => {
    const vendor = `roll-wait-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    const [perVendor] = orderShares(vendor, 'alice', 0);
    const dayAttributes = async () => Object.keys(await itemOf(perVendor)).filter((name) => name.startsWith('day#'));
    // The item's first reservation named a 1-day timeout; the others, under a 30-day one, raise it. One of them still waits.
    await ledger.reserve('r_first', orderShares(vendor, 'bob', 1), T0, { waitsUpToMs: DAY });
    for (let i = 0; i < 55; i++) await ledger.reserve(`r_old${i}`, orderShares(vendor, 'bob', 1), T0, { waitsUpToMs: 30 * DAY });
    await ledger.reserve('r_pending', orderShares(vendor, 'alice', 400_000), T0, { waitsUpToMs: 30 * DAY });
    // Day 3, the timeout since lowered to a day: nothing is summed or dropped.
    await ledger.reserve('r_day3', orderShares(vendor, 'carol', 1), new Date(T0.getTime() + 3 * DAY), { waitsUpToMs: DAY });
    expect(await dayAttributes()).toEqual([]);
    // Approved on day 20, it counts from then: on day 35 too.
    await ledger.commit('r_pending', orderShares(vendor, 'alice', 400_000), new Date(T0.getTime() + 20 * DAY));
    expect((await ledger.reserve('r_day35', orderShares(vendor, 'alice', 0), new Date(T0.getTime() + 35 * DAY), { waitsUpToMs: DAY }))[1]).toBe(400_000);
  });

  it('nothing is summed within a day of the wait\'s end (a late failure may still release it), nor a share in an older map, nor one too large for an exact sum', async () => {
    const records = stores().records;
    const ledger = new CumulativeLedger(records);
    const wait = { waitsUpToMs: 7 * DAY };
    const vendor = `roll-margin-${++n}`;
    const [perVendor] = orderShares(vendor, 'alice', 0);
    const dayAttributes = async (s: CumulativeShare) => Object.keys((await records.get(ledgerKey(s))) ?? {}).filter((name) => name.startsWith('day#'));
    for (let i = 0; i < 55; i++) await ledger.reserve(`r_old${i}`, orderShares(vendor, 'bob', 1), T0, wait);
    await ledger.reserve('r_7d12h', orderShares(vendor, 'bob', 1), new Date(T0.getTime() + 7.5 * DAY), wait);
    expect(await dayAttributes(perVendor)).toEqual([]);
    await ledger.reserve('r_8d1h', orderShares(vendor, 'bob', 1), new Date(T0.getTime() + 8 * DAY + 3600 * 1000), wait);
    expect(await dayAttributes(perVendor)).not.toEqual([]);

    // An older item's map: counted and pruned as ever, never summed.
    const mapped = share(1);
    const old = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`r_map${i}`, { units: 1, at: T0.toISOString() }]));
    await records.putIfAbsent({ ...ledgerKey(mapped), ledgerOf: { action: mapped.action, name: mapped.name, per: mapped.per }, ledgerHolds: old });
    expect(await ledger.reserve('r_map_new', [mapped], new Date(T0.getTime() + 10 * DAY), wait)).toEqual([61]);
    expect(await dayAttributes(mapped)).toEqual([]);

    // Shares too large to sum exactly stay on their own (and still count, saturated).
    const large = share(2 ** 41);
    for (let i = 0; i < 55; i++) await ledger.reserve(`r_large${i}`, [large], T0, wait);
    await ledger.reserve('r_large_new', [{ ...large, units: 1 }], new Date(T0.getTime() + 10 * DAY), wait);
    expect(await dayAttributes(large)).toEqual([]);
  });

  it('a request whose share an older layout left twice in the item is never summed: it would count twice, for good on a lifetime measure', async () => {
    const vendor = `roll-twice-${++n}`;
    const records = stores().records;
    const ledger = new CumulativeLedger(records);
    const lifetime = (requester: string, units: number): CumulativeShare[] => orderShares(vendor, requester, units).map(({ windowDays: _w, ...s }) => s);
    const [perVendor] = lifetime('alice', 0);
    await ledger.reserve('r_twice', lifetime('alice', 100), T0);
    const of = ((await itemOf(perVendor))['hold#r_twice'] as { by: { requesterVendor: { of: string } } }).by.requesterVendor.of;
    // As a move of an older item the same request had reserved in would leave it (only an item that predates hosting can hold one).
    await records.updateIf({ key: ledgerKey(perVendor), update: 'SET #m = :m, ledgerLayout = :upgraded', names: { '#m': 'hold#r_twice#requesterVendor' }, values: { ':m': { units: 100, at: T0.toISOString(), of }, ':upgraded': 'hosted-after-separate' } });
    for (let i = 0; i < 55; i++) await ledger.reserve(`r_bob${i}`, lifetime('bob', 1), T0);
    // Day 3 sums the settled shares; a year on, alice's total is still her one order.
    await ledger.reserve('r_day3', lifetime('carol', 0), new Date(T0.getTime() + 3 * DAY));
    expect(Object.keys(await itemOf(perVendor)).some((name) => name.startsWith('day#'))).toBe(true);
    expect((await ledger.reserve('r_year', lifetime('alice', 0), new Date(T0.getTime() + 400 * DAY)))[1]).toBe(100);
  });

  it('two reservations summing at once never sum a share twice', async () => {
    const vendor = `roll-race-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    for (let i = 0; i < 60; i++) await ledger.reserve(`r_old${i}`, orderShares(vendor, 'alice', 100), T0);
    const later = new Date(T0.getTime() + 2 * DAY);
    const totals = await Promise.all(Array.from({ length: 6 }, (_, i) => ledger.reserve(`r_new${i}`, orderShares(vendor, 'alice', 0), later)));
    expect(totals.every(([wide, narrow]) => wide === 6000 && narrow === 6000)).toBe(true);
    expect(await ledger.reserve('r_after', orderShares(vendor, 'alice', 0), later)).toEqual([6000, 6000]);
  });

  it('concurrent orders from two requesters: every total counts each share that came before it, and none is lost', async () => {
    const vendor = `race-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    const totals = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.reserve(`r_race${i}`, orderShares(vendor, i % 2 === 0 ? 'alice' : 'bob', 100), T0)));
    expect(totals.map(([wide]) => wide).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 100));
    for (const requester of ['alice', 'bob']) {
      const own = totals.filter((_, i) => (i % 2 === 0 ? 'alice' : 'bob') === requester).map(([, narrow]) => narrow);
      expect(own.sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 100));
    }
  });

  it('an item from before measures shared items: each requester\'s older shares are moved in once, and one released before that is not', async () => {
    const vendor = `upgrade-${++n}`;
    const records = stores().records;
    const [perVendor, aliceVendor] = orderShares(vendor, 'alice', 0);
    const [, bobVendor] = orderShares(vendor, 'bob', 0);
    const old = (units: number) => ({ units, at: T0.toISOString() });
    // As the ledger left them: the vendor's item, and one item per requester and vendor.
    await records.putIfAbsent({ ...ledgerKey(perVendor), ledgerOf: { action: perVendor.action, name: perVendor.name, per: perVendor.per }, 'hold#r_a1': old(100), 'hold#r_b1': old(200), 'hold#r_b2': old(400) });
    await records.putIfAbsent({ ...ledgerKey(aliceVendor), ledgerOf: { action: aliceVendor.action, name: aliceVendor.name, per: aliceVendor.per }, 'hold#r_a1': old(100) });
    await records.putIfAbsent({ ...ledgerKey(bobVendor), ledgerOf: { action: bobVendor.action, name: bobVendor.name, per: bobVendor.per }, 'hold#r_b1': old(200), 'hold#r_b2': old(400) });

    const { table, calls } = countingTable();
    const ledger = new CumulativeLedger(table);
    // Bob's r_b2 ends with no effect before his measure has moved: its share leaves its own item too.
    await ledger.release('r_b2', orderShares(vendor, 'bob', 400));
    expect(await records.get(ledgerKey(bobVendor))).not.toHaveProperty(['hold#r_b2']);

    expect(await ledger.reserve('r_a2', orderShares(vendor, 'alice', 10), T0)).toEqual([310, 110]);
    expect(await ledger.reserve('r_b3', orderShares(vendor, 'bob', 1), T0)).toEqual([311, 201]);
    // Moved once: later reservations read no other item.
    calls.length = 0;
    expect(await ledger.reserve('r_a3', orderShares(vendor, 'alice', 1), T0)).toEqual([312, 111]);
    expect(calls).toEqual([`update ${ledgerKey(perVendor).pk}`]);
    const item = await itemOf(perVendor);
    expect(item).toMatchObject({ ledgerLayout: 'hosted-after-separate', 'hold#r_a1#requesterVendor': { units: 100 }, 'hold#r_b1#requesterVendor': { units: 200 } });
    expect(item).not.toHaveProperty(['hold#r_b2#requesterVendor']);
    // A release after the move is one update.
    calls.length = 0;
    await ledger.release('r_a1', orderShares(vendor, 'alice', 100));
    expect(calls).toHaveLength(1);
    expect(await ledger.reserve('r_probe', orderShares(vendor, 'alice', 0), T0)).toEqual([212, 11]);
  });

  it('a new item is marked as hosting from the start: no reservation or release looks anywhere else', async () => {
    const vendor = `fresh-${++n}`;
    const { table, calls } = countingTable();
    const ledger = new CumulativeLedger(table);
    await ledger.reserve('r_1', orderShares(vendor, 'alice', 1), T0);
    await ledger.reserve('r_2', orderShares(vendor, 'bob', 1), T0);
    await ledger.release('r_1', orderShares(vendor, 'alice', 1));
    expect(calls.every((call) => call === `update ${ledgerKey(orderShares(vendor, 'alice', 0)[0]).pk}`)).toBe(true);
    expect(calls).toHaveLength(3);
  });

  it('commit after a human\'s approval: the shares count from the effect, so the window reaches back to it and not to the request', async () => {
    const vendor = `commit-${++n}`;
    const { table, calls } = countingTable();
    const ledger = new CumulativeLedger(table);
    // Day 0: asked for, held while a human decides; day 6: approved and executed.
    await ledger.reserve('r_waited', orderShares(vendor, 'alice', 400_000), T0);
    calls.length = 0;
    await ledger.commit('r_waited', orderShares(vendor, 'alice', 400_000), new Date(T0.getTime() + 6 * DAY));
    expect(calls).toHaveLength(1);
    // Day 31: the request is past the window, its effect is not.
    expect(await ledger.reserve('r_day31', orderShares(vendor, 'alice', 100_000), new Date(T0.getTime() + 31 * DAY))).toEqual([500_000, 500_000]);
    // Day 37: neither is.
    expect(await ledger.reserve('r_day37', orderShares(vendor, 'alice', 1), new Date(T0.getTime() + 37 * DAY))).toEqual([100_001, 100_001]);
    // A later date it takes effect on stands; a share no longer held is not brought back.
    const steps = share(1, { windowDays: 90 });
    const effective = new Date(T0.getTime() + 90 * DAY).toISOString();
    await ledger.reserve('r_scheduled', [{ ...steps, countsFrom: effective }], T0);
    await ledger.commit('r_scheduled', [{ ...steps, countsFrom: effective }], new Date(T0.getTime() + DAY));
    expect((await holdsOf(steps)).r_scheduled).toEqual({ units: 1, at: effective });
    await ledger.release('r_scheduled', [steps]);
    await ledger.commit('r_scheduled', [{ ...steps, countsFrom: effective }], new Date(T0.getTime() + DAY));
    expect(await holdsOf(steps)).toEqual({});
  });

  it('a share waiting for a human longer than its window is not dropped before the wait is over, so its effect still counts once approved', async () => {
    const vendor = `long-wait-${++n}`;
    const ledger = new CumulativeLedger(stores().records);
    const wait = { waitsUpToMs: 45 * DAY };
    for (let i = 0; i < 49; i++) await ledger.reserve(`r_old${i}`, orderShares(vendor, 'bob', 1), T0, wait);
    await ledger.reserve('r_pending', orderShares(vendor, 'alice', 400_000), T0, wait);
    // Day 31: fifty requests are past the window; the one still waiting must stay.
    await ledger.reserve('r_other', orderShares(vendor, 'carol', 1), new Date(T0.getTime() + 31 * DAY), wait);
    expect(await itemOf(orderShares(vendor, 'alice', 0)[0])).toHaveProperty(['hold#r_pending']);
    // Approved and executed on day 40: it counts from then.
    await ledger.commit('r_pending', orderShares(vendor, 'alice', 400_000), new Date(T0.getTime() + 40 * DAY));
    expect(await ledger.reserve('r_probe', orderShares(vendor, 'alice', 0), new Date(T0.getTime() + 41 * DAY), wait)).toEqual([400_001, 400_000]);
    // Past the window and the longest wait (30 + 45 days), fifty of day 0 go; the one that ran on day 40 stays.
    await ledger.reserve('r_old49', orderShares(vendor, 'bob', 1), T0, wait);
    await ledger.reserve('r_day77', orderShares(vendor, 'dave', 1), new Date(T0.getTime() + 77 * DAY), wait);
    expect(Object.keys(await itemOf(orderShares(vendor, 'alice', 0)[0])).filter((name) => name.startsWith('hold#')).sort()).toEqual(['hold#r_day77', 'hold#r_other', 'hold#r_pending', 'hold#r_probe']);
  });

  it('more older shares than one update moves: all are moved in, and a move cut short is finished by the next reservation', async () => {
    const vendor = `many-${++n}`;
    const records = stores().records;
    const [perVendor, aliceVendor] = orderShares(vendor, 'alice', 0);
    const olds = Object.fromEntries(Array.from({ length: 95 }, (_, i) => [`hold#r_m${i}`, { units: 1, at: T0.toISOString() }]));
    await records.putIfAbsent({ ...ledgerKey(perVendor), ledgerOf: { action: perVendor.action, name: perVendor.name, per: perVendor.per }, ...olds });
    await records.putIfAbsent({ ...ledgerKey(aliceVendor), ledgerOf: { action: aliceVendor.action, name: aliceVendor.name, per: aliceVendor.per }, ...olds });
    // The second of three updates fails.
    let updates = 0;
    const flaky = Object.create(records) as RecordTable;
    flaky.updateIf = async (args) => {
      if (Object.values(args.names ?? {}).some((name) => name.endsWith('#requesterVendor')) && ++updates === 2) throw new Error('throttled');
      return records.updateIf(args);
    };
    await expect(new CumulativeLedger(flaky).reserve('r_a', orderShares(vendor, 'alice', 1), T0)).rejects.toThrow('throttled');
    expect(Object.keys(await itemOf(perVendor)).some((name) => name.startsWith('moved#'))).toBe(false);
    expect(await new CumulativeLedger(records).reserve('r_b', orderShares(vendor, 'alice', 1), T0)).toEqual([97, 97]);
    expect(Object.keys(await itemOf(perVendor)).filter((name) => name.endsWith('#requesterVendor'))).toHaveLength(95);
  });

  it('a request counts once under a measure, wherever an older layout left a second copy of its share', async () => {
    const vendor = `dedup-${++n}`;
    const records = stores().records;
    const [perVendor] = orderShares(vendor, 'alice', 0);
    const ledger = new CumulativeLedger(records);
    await ledger.reserve('r_twice', orderShares(vendor, 'alice', 100), T0);
    const of = ((await itemOf(perVendor))['hold#r_twice'] as { by: { requesterVendor: { of: string } } }).by.requesterVendor.of;
    // As a move of an older item the same request had reserved in would leave it.
    await records.updateIf({ key: ledgerKey(perVendor), update: 'SET #m = :m', names: { '#m': 'hold#r_twice#requesterVendor' }, values: { ':m': { units: 100, at: T0.toISOString(), of } } });
    expect(await ledger.reserve('r_probe', orderShares(vendor, 'alice', 0), T0)).toEqual([100, 100]);
  });

  it('commit finds a share where an older layout keeps it: an older item\'s map, or a narrower measure\'s own item not yet moved', async () => {
    const vendor = `commit-upgrade-${++n}`;
    const records = stores().records;
    const [perVendor, aliceVendor] = orderShares(vendor, 'alice', 0);
    const then = T0.toISOString();
    await records.putIfAbsent({ ...ledgerKey(perVendor), ledgerOf: { action: perVendor.action, name: perVendor.name, per: perVendor.per }, ledgerHolds: { r_old: { units: 100, at: then } } });
    await records.putIfAbsent({ ...ledgerKey(aliceVendor), ledgerOf: { action: aliceVendor.action, name: aliceVendor.name, per: aliceVendor.per }, 'hold#r_old': { units: 100, at: then } });
    const later = new Date(T0.getTime() + 5 * DAY);
    await new CumulativeLedger(records).commit('r_old', orderShares(vendor, 'alice', 100), later);
    expect((await records.get(ledgerKey(perVendor)))?.ledgerHolds).toEqual({ r_old: { units: 100, at: later.toISOString() } });
    expect((await records.get(ledgerKey(aliceVendor)))?.['hold#r_old']).toEqual({ units: 100, at: later.toISOString() });
    // Moved in with its new time: on day 34 it still counts (it would not from day 0).
    expect(await new CumulativeLedger(records).reserve('r_new', orderShares(vendor, 'alice', 1), new Date(T0.getTime() + 34 * DAY))).toEqual([101, 101]);
  });

  it('commit of a request whose own share an older map holds moves that one and its hosted share in the item', async () => {
    const vendor = `commit-map-${++n}`;
    const records = stores().records;
    const [perVendor] = orderShares(vendor, 'alice', 0);
    await records.putIfAbsent({ ...ledgerKey(perVendor), ledgerOf: { action: perVendor.action, name: perVendor.name, per: perVendor.per }, ledgerLayout: 'hosted', ledgerHolds: { r_map: { units: 100, at: T0.toISOString() } } });
    const ledger = new CumulativeLedger(records);
    // Its reservation retried: the map's own share stands, the hosted one is written with its own amount and time.
    expect(await ledger.reserve('r_map', orderShares(vendor, 'alice', 100), T0)).toEqual([100, 100]);
    expect((await itemOf(perVendor))['hold#r_map']).toEqual({ by: { requesterVendor: { of: expect.any(String), units: 100, at: T0.toISOString() } } });
    const day6 = new Date(T0.getTime() + 6 * DAY);
    await ledger.commit('r_map', orderShares(vendor, 'alice', 100), day6);
    const item = await itemOf(perVendor);
    expect(item.ledgerHolds).toEqual({ r_map: { units: 100, at: day6.toISOString() } });
    expect(item['hold#r_map']).toMatchObject({ by: { requesterVendor: { at: day6.toISOString() } } });
  });

  it('release and commit reach a share an even older item keeps in its map, before it is moved in', async () => {
    const vendor = `separate-map-${++n}`;
    const records = stores().records;
    const [perVendor, aliceVendor] = orderShares(vendor, 'alice', 0);
    const then = T0.toISOString();
    await records.putIfAbsent({ ...ledgerKey(perVendor), ledgerOf: { action: perVendor.action, name: perVendor.name, per: perVendor.per }, ledgerHolds: { r_c: { units: 100, at: then }, r_r: { units: 50, at: then } } });
    await records.putIfAbsent({ ...ledgerKey(aliceVendor), ledgerOf: { action: aliceVendor.action, name: aliceVendor.name, per: aliceVendor.per }, ledgerHolds: { r_c: { units: 100, at: then }, r_r: { units: 50, at: then } } });
    const ledger = new CumulativeLedger(records);
    await ledger.release('r_r', orderShares(vendor, 'alice', 50));
    await ledger.commit('r_c', orderShares(vendor, 'alice', 100), new Date(T0.getTime() + 6 * DAY));
    expect(await ledger.reserve('r_probe', orderShares(vendor, 'alice', 0), T0)).toEqual([100, 100]);
    expect(await ledger.reserve('r_probe31', orderShares(vendor, 'alice', 0), new Date(T0.getTime() + 31 * DAY))).toEqual([100, 100]);
  });
});
