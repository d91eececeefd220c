import type { RecordItem, RecordTable } from '../ports';
import { allSettled } from '../settled';
import { countOf, ledgerKey, type CumulativeShare } from './shares';

/**
 * The cumulative ledger: per aggregate (an action's measure for one vendor, order, customer…),
 * one item in the record table holding each request's share, keyed by request. Reserving is one
 * update that adds the share and returns the item as it is after it: DynamoDB applies the updates
 * of one item one at a time, so of two concurrent requests the later one always sees the earlier
 * one's share, and they cannot both slip under a limit. A share is released when its request ends
 * with no effect (rejected, expired, failed before its effect); one whose effect ran stays until
 * its window has passed.
 *
 * A measure counted per more values than another of the same action, adding up the same thing in
 * the same unit (per requester and vendor, beside per vendor), lives in the coarser one's item: each
 * share there carries the values it is also counted per, and the finer total is the sum of the
 * shares whose values match. One update reserves both, one releases both. A share in that item
 * that does not say a value (written before measures shared items, or while a policy declared
 * fewer measures) counts towards every finer total: an aggregate is never counted short. Nor when
 * a measure starts being kept in a coarser item (this version, or a policy that adds the coarser
 * measure): the item records when (`fold#<measure>`), and for one window from then the measure's
 * own item, read with the update, counts too.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * One request's share in an aggregate item: the attribute `hold#<requestId>`. Top-level
 * attributes, so that the first share of a new aggregate is the same single update as any other.
 * (Items written before kept them in a `ledgerHolds` map: still counted, released and pruned.)
 */
interface Hold {
  units: number;
  /** When it was reserved (ISO): the window is counted from it. */
  at: string;
  /** The values the finer measures in this item count it per, beyond the item's own (absent: it counts towards each of them). */
  per?: Record<string, string>;
}

/**
 * The request's shares by the item they are kept in: the coarsest of its shares that covers each
 * (same action, measure and unit; every value it is counted per the same), or the share itself.
 */
interface Group {
  home: CumulativeShare;
  members: { share: CumulativeShare; index: number }[];
  /** What the finer members are counted per beyond the home's values: stored with the share. */
  per: Record<string, string>;
}

/**
 * Whether `fine` can be kept in `coarse`'s item: the same action, measure, unit and amount, every
 * value `coarse` is counted per the same, and a window no longer than its (the item is pruned by
 * the longest window in it, and a finer lifetime total would keep every share of the coarser one).
 */
function covers(coarse: CumulativeShare, fine: CumulativeShare): boolean {
  const days = (share: CumulativeShare) => share.windowDays ?? Number.POSITIVE_INFINITY;
  return (
    days(fine) <= days(coarse) &&
    coarse.action === fine.action &&
    coarse.measure === fine.measure &&
    coarse.unit === fine.unit &&
    coarse.units === fine.units &&
    Object.entries(coarse.per).every(([key, value]) => fine.per[key] === value)
  );
}

function groupsOf(shares: readonly CumulativeShare[]): Group[] {
  const groups = new Map<CumulativeShare, Group>();
  shares.forEach((share, index) => {
    // The covering share with the fewest values, the first declared of those: covering is
    // transitive, so every share that a home covers finds that same home (and the home itself).
    let home = share;
    let homeIndex = index;
    shares.forEach((candidate, candidateIndex) => {
      if (!covers(candidate, share)) return;
      const fewer = Object.keys(candidate.per).length - Object.keys(home.per).length;
      if (fewer < 0 || (fewer === 0 && candidateIndex < homeIndex)) {
        home = candidate;
        homeIndex = candidateIndex;
      }
    });
    const group = groups.get(home) ?? { home, members: [], per: {} };
    group.members.push({ share, index });
    for (const [key, value] of Object.entries(share.per)) if (!(key in home.per)) group.per[key] = value;
    groups.set(home, group);
  });
  return [...groups.values()];
}

/** Whether a share in `group`'s item counts towards `member`: it says the member's values, or does not say them (counted). */
function countsFor(hold: Hold, member: CumulativeShare, home: CumulativeShare): boolean {
  if (member === home) return true;
  const per = hold.per;
  if (!per || typeof per !== 'object') return true;
  return Object.entries(member.per).every(([key, value]) => key in home.per || !(key in per) || per[key] === value);
}

/** Shares older than every window are dropped once an aggregate holds more than this many of them. */
const PRUNE_FROM = 50;

const HOLD_PREFIX = 'hold#';
/** `fold#<measure>`: when a finer measure's shares were first kept in this item. */
const FOLD_PREFIX = 'fold#';
const LEGACY_MAP = 'ledgerHolds';

/** Each share in the item, by request id; `legacy` for one in an older item's `ledgerHolds` map. */
function holdsOf(item: RecordItem | undefined): [string, Hold & { legacy?: true }][] {
  const holds: [string, Hold & { legacy?: true }][] = [];
  for (const [name, value] of Object.entries(item ?? {})) {
    if (name.startsWith(HOLD_PREFIX) && value && typeof value === 'object') holds.push([name.slice(HOLD_PREFIX.length), value as Hold]);
  }
  const legacy = item?.[LEGACY_MAP];
  if (legacy && typeof legacy === 'object') {
    for (const [id, hold] of Object.entries(legacy as Record<string, Hold>)) holds.push([id, { ...hold, legacy: true }]);
  }
  return holds;
}

function windowStart(share: Pick<CumulativeShare, 'windowDays'>, now: Date): number {
  return share.windowDays === undefined ? Number.NEGATIVE_INFINITY : now.getTime() - share.windowDays * DAY_MS;
}

/** In the window: reserved at or after its start; a share whose time cannot be read counts (fail closed). */
function inWindow(hold: Hold, start: number): boolean {
  const at = Date.parse(hold.at);
  return Number.isNaN(at) || at >= start;
}

export class CumulativeLedger {
  constructor(private readonly records: RecordTable) {}

  /**
   * Adds the request's share to each aggregate and returns each aggregate's total in its window,
   * this request included. A retried reservation keeps the first one (one share per request).
   */
  async reserve(requestId: string, shares: readonly CumulativeShare[], now: Date): Promise<number[]> {
    const totals = new Array<number>(shares.length);
    // Every item's update settled before this answers or throws: nothing is still in flight when
    // the step ends (a release after a failure must come after every reservation).
    await allSettled(
      groupsOf(shares).map(async (group) => {
        const finer = group.members.map(({ share }) => share).filter((share) => share !== group.home);
        // A finer measure's own item, read with the update (on the record table this joins the
        // step's other reads in one BatchGetItem): counted only while the measure is young here.
        const [item, ...ownItems] = await allSettled([this.add(requestId, group, now), ...finer.map((share) => this.records.get(ledgerKey(share)))] as const);
        const holds = holdsOf(item);
        // Kept while any measure in the item still counts it.
        const start = Math.min(...group.members.map(({ share }) => windowStart(share, now)));
        const expired = holds.filter(([, hold]) => !inWindow(hold, start));
        if (expired.length >= PRUNE_FROM) await this.drop(group.home, expired);
        const young = new Set(this.youngerFolds(group, item, now));
        const inThisItem = new Set(holds.map(([id]) => id));
        for (const { share, index } of group.members) {
          const from = windowStart(share, now);
          // While the measure is young here its own item is read, and says exactly whose a share that
          // names no values is (the previous version wrote a share to both items); later such a share counts.
          const own = young.has(share) ? holdsOf(ownItems[finer.indexOf(share)]) : undefined;
          const ownIds = own && new Set(own.map(([id]) => id));
          const counted = holds
            .filter(([id, hold]) => inWindow(hold, from) && (ownIds && !hold.per ? ownIds.has(id) : countsFor(hold, share, group.home)))
            .map(([, hold]) => hold);
          // What the measure's own item got before it was kept here, that this item does not hold.
          if (own) counted.push(...own.filter(([id, hold]) => !inThisItem.has(id) && inWindow(hold, from)).map(([, hold]) => hold));
          // Saturates rather than losing precision: a total that large is over every limit anyway.
          totals[index] = countOf(counted.reduce((sum, hold) => sum + Number(hold.units), 0));
        }
      }),
    );
    return totals;
  }

  /**
   * Removes the request's shares (it ended with no effect). Idempotent; an aggregate it never
   * reached is left as it is. A share its measure's own item got before the measure was kept in
   * a coarser one stays there: counted (never short) until it leaves the window.
   */
  async release(requestId: string, shares: readonly CumulativeShare[]): Promise<void> {
    await allSettled(
      groupsOf(shares).map(async ({ home }) => {
        const key = ledgerKey(home);
        // One call: removing an attribute that is not there is a no-op, and the item after it tells
        // whether an older item still holds the share in its map.
        const after = await this.records.updateIf({ key, update: 'REMOVE #hold', condition: 'attribute_exists(ledgerOf)', names: { '#hold': `${HOLD_PREFIX}${requestId}` } });
        const legacy = after?.[LEGACY_MAP] as Record<string, unknown> | undefined;
        if (legacy && requestId in legacy) {
          await this.records.updateIf({ key, update: `REMOVE ${LEGACY_MAP}.#rid`, condition: `attribute_exists(${LEGACY_MAP}.#rid)`, names: { '#rid': requestId } });
        }
      }),
    );
  }

  /**
   * The group's finer measures whose own item may still hold shares in their window: kept in this
   * item for less than their window (or over a lifetime, with none). Only for these is that read counted.
   */
  private youngerFolds(group: Group, item: RecordItem, now: Date): CumulativeShare[] {
    return group.members
      .map(({ share }) => share)
      .filter((share) => {
        if (share === group.home) return false;
        const since = Date.parse(String(item[`${FOLD_PREFIX}${share.name}`]));
        return Number.isNaN(since) || since >= windowStart(share, now);
      });
  }

  /** One update adding the request's share to its group's item, unless the request holds one already; the item after it. */
  private async add(requestId: string, group: Group, now: Date): Promise<RecordItem> {
    const { home } = group;
    const key = ledgerKey(home);
    const hold: Hold = { units: home.units, at: now.toISOString(), ...(Object.keys(group.per).length > 0 ? { per: group.per } : {}) };
    const finer = group.members.filter(({ share }) => share !== home).map(({ share }) => share);
    // When each finer measure was first kept here: until its window has passed since, its own item is read too.
    const folds = finer.map((_, i) => `#f${i} = if_not_exists(#f${i}, :now)`);
    const added = await this.records.updateIf({
      key,
      update: ['SET #hold = if_not_exists(#hold, :hold), ledgerOf = :of', ...folds].join(', '),
      // The same update creates the aggregate's item with its first share. The condition only
      // fails for a request whose share an older item holds in its map: that one stands.
      condition: `attribute_not_exists(${LEGACY_MAP}.#rid)`,
      names: { '#hold': `${HOLD_PREFIX}${requestId}`, '#rid': requestId, ...Object.fromEntries(finer.map((share, i) => [`#f${i}`, `${FOLD_PREFIX}${share.name}`])) },
      values: {
        ':hold': hold,
        // For an operator reading the table: which aggregate this is.
        ':of': { action: home.action, name: home.name, per: home.per },
        ...(finer.length > 0 ? { ':now': now.toISOString() } : {}),
      },
    });
    if (added) return added;
    const item = await this.records.get(key);
    if (!item) throw new Error(`${home.action} ${home.name}: the aggregate could not be updated`);
    return item;
  }

  /** Drops shares that are outside the window for good (a reserved time never moves). */
  private async drop(home: CumulativeShare, expired: readonly [string, Hold & { legacy?: true }][]): Promise<void> {
    const batch = expired.slice(0, 100);
    const names = Object.fromEntries(batch.map(([id, hold], i) => [`#r${i}`, hold.legacy ? id : `${HOLD_PREFIX}${id}`]));
    const paths = batch.map(([, hold], i) => (hold.legacy ? `${LEGACY_MAP}.#r${i}` : `#r${i}`));
    await this.records.updateIf({ key: ledgerKey(home), update: `REMOVE ${paths.join(', ')}`, condition: 'attribute_exists(ledgerOf)', names });
  }
}
