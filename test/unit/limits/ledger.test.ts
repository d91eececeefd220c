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

it('two aggregates, one of which cannot be updated: the reservation fails only once the other has landed', async () => {
  const records = stores().records;
  const perVendor = share(100);
  const perRequester: CumulativeShare = { ...share(100), name: 'requesterVendor', per: { requester: 'alice', ...perVendor.per } };
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
