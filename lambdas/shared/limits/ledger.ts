import type { RecordItem, RecordTable } from '../ports';
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

/** One request's share in an aggregate item (`ledgerHolds[requestId]`). */
interface Hold {
  units: number;
  /** When it was reserved (ISO): the window is counted from it. */
  at: string;
}

/** Shares older than every window are dropped once an aggregate holds more than this many of them. */
const PRUNE_FROM = 50;

function holdsOf(item: RecordItem | undefined): Record<string, Hold> {
  const holds = item?.ledgerHolds;
  return holds && typeof holds === 'object' ? (holds as Record<string, Hold>) : {};
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
    return Promise.all(
      shares.map(async (share) => {
        const item = await this.add(requestId, share, now);
        const start = windowStart(share, now);
        const holds = Object.entries(holdsOf(item));
        const expired = holds.filter(([, hold]) => !inWindow(hold, start)).map(([id]) => id);
        if (expired.length >= PRUNE_FROM) await this.drop(share, expired);
        // Saturates rather than losing precision: a total that large is over every limit anyway.
        return countOf(holds.filter(([, hold]) => inWindow(hold, start)).reduce((sum, [, hold]) => sum + Number(hold.units), 0));
      }),
    );
  }

  /** Removes the request's shares (it ended with no effect). Idempotent; an aggregate it never reached is left as it is. */
  async release(requestId: string, shares: readonly Pick<CumulativeShare, 'action' | 'name' | 'per'>[]): Promise<void> {
    await Promise.all(
      shares.map((share) =>
        this.records.updateIf({ key: ledgerKey(share), update: 'REMOVE ledgerHolds.#rid', condition: 'attribute_exists(ledgerHolds.#rid)', names: { '#rid': requestId } }),
      ),
    );
  }

  /** One update adding the share, unless the request holds one already; the item after it. */
  private async add(requestId: string, share: CumulativeShare, now: Date): Promise<RecordItem> {
    const key = ledgerKey(share);
    const args = {
      key,
      update: 'SET ledgerHolds.#rid = if_not_exists(ledgerHolds.#rid, :hold), ledgerOf = :of',
      condition: 'attribute_exists(ledgerHolds)',
      names: { '#rid': requestId },
      values: {
        ':hold': { units: share.units, at: now.toISOString() } satisfies Hold,
        // For an operator reading the table: which aggregate this is.
        ':of': { action: share.action, name: share.name, per: share.per },
      },
    };
    const added = await this.records.updateIf(args);
    if (added) return added;
    // The aggregate's first share: create its (empty) map, whoever gets there first, then add.
    await this.records.updateIf({ key, update: 'SET ledgerHolds = if_not_exists(ledgerHolds, :empty)', condition: 'attribute_not_exists(ledgerHolds)', values: { ':empty': {} } });
    const retried = await this.records.updateIf(args);
    if (!retried) throw new Error(`${share.action} ${share.name}: the aggregate has no share map after creating it`);
    return retried;
  }

  /** Drops shares that are outside the window for good (a reserved time never moves). */
  private async drop(share: CumulativeShare, requestIds: readonly string[]): Promise<void> {
    const batch = requestIds.slice(0, 100);
    const names = Object.fromEntries(batch.map((id, i) => [`#r${i}`, id]));
    await this.records.updateIf({
      key: ledgerKey(share),
      update: `REMOVE ${batch.map((_, i) => `ledgerHolds.#r${i}`).join(', ')}`,
      condition: 'attribute_exists(ledgerHolds)',
      names,
    });
  }
}
