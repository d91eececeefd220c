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
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * One request's share in an aggregate item: the attribute `hold#<requestId>`. Top-level
 * attributes, so that the first share of a new aggregate is the same single update as any other.
 * (Items written before kept them in a `ledgerHolds` map: still counted, released and pruned.)
 */
interface Hold {
  units: number;
  /** When it counts from (ISO): its reservation, or the later date its effect takes effect (`countsFrom`). The window is counted from it. */
  at: string;
}

/** Shares older than every window are dropped once an aggregate holds more than this many of them. */
const PRUNE_FROM = 50;

const HOLD_PREFIX = 'hold#';
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

/** A share counts from its reservation, or from the later date its effect takes effect. */
function countedFrom(share: Pick<CumulativeShare, 'countsFrom'>, now: Date): string {
  const reserved = now.toISOString();
  return share.countsFrom !== undefined && Date.parse(share.countsFrom) > now.getTime() ? share.countsFrom : reserved;
}

export class CumulativeLedger {
  constructor(private readonly records: RecordTable) {}

  /**
   * Adds the request's share to each aggregate and returns each aggregate's total in its window,
   * this request included. A retried reservation keeps the first one (one share per request).
   */
  async reserve(requestId: string, shares: readonly CumulativeShare[], now: Date): Promise<number[]> {
    // Every aggregate's update settled before this answers or throws: nothing is still in flight
    // when the step ends (a release after a failure must come after every reservation).
    return allSettled(
      shares.map(async (share) => {
        const item = await this.add(requestId, share, now);
        const start = windowStart(share, now);
        const holds = holdsOf(item);
        const expired = holds.filter(([, hold]) => !inWindow(hold, start));
        if (expired.length >= PRUNE_FROM) await this.drop(share, expired);
        // Saturates rather than losing precision: a total that large is over every limit anyway.
        return countOf(holds.filter(([, hold]) => inWindow(hold, start)).reduce((sum, [, hold]) => sum + Number(hold.units), 0));
      }),
    );
  }

  /** Removes the request's shares (it ended with no effect). Idempotent; an aggregate it never reached is left as it is. */
  async release(requestId: string, shares: readonly Pick<CumulativeShare, 'action' | 'name' | 'per'>[]): Promise<void> {
    await allSettled(
      shares.map(async (share) => {
        const key = ledgerKey(share);
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

  /** One update adding the share, unless the request holds one already; the item after it. */
  private async add(requestId: string, share: CumulativeShare, now: Date): Promise<RecordItem> {
    const key = ledgerKey(share);
    const added = await this.records.updateIf({
      key,
      update: 'SET #hold = if_not_exists(#hold, :hold), ledgerOf = :of',
      // The same update creates the aggregate's item with its first share. The condition only
      // fails for a request whose share an older item holds in its map: that one stands.
      condition: `attribute_not_exists(${LEGACY_MAP}.#rid)`,
      names: { '#hold': `${HOLD_PREFIX}${requestId}`, '#rid': requestId },
      values: {
        ':hold': { units: share.units, at: countedFrom(share, now) } satisfies Hold,
        // For an operator reading the table: which aggregate this is.
        ':of': { action: share.action, name: share.name, per: share.per },
      },
    });
    if (added) return added;
    const item = await this.records.get(key);
    if (!item) throw new Error(`${share.action} ${share.name}: the aggregate could not be updated`);
    return item;
  }

  /** Drops shares that are outside the window for good (a reserved time never moves). */
  private async drop(share: CumulativeShare, expired: readonly [string, Hold & { legacy?: true }][]): Promise<void> {
    const batch = expired.slice(0, 100);
    const names = Object.fromEntries(batch.map(([id, hold], i) => [`#r${i}`, hold.legacy ? id : `${HOLD_PREFIX}${id}`]));
    const paths = batch.map(([, hold], i) => (hold.legacy ? `${LEGACY_MAP}.#r${i}` : `#r${i}`));
    await this.records.updateIf({ key: ledgerKey(share), update: `REMOVE ${paths.join(', ')}`, condition: 'attribute_exists(ledgerOf)', names });
  }
}
