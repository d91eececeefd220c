import { WardenError } from '../errors';
import type { RecordItem, RecordTable } from '../ports';
import { countOf, ledgerKey, type CumulativeShare } from './shares';

/**
 * The cumulative ledger: per aggregate (an action's measure for one vendor, order, customer…),
 * one item in the record table holding every request's share in the window — held while the
 * request is in flight, committed once its effect runs. Reserving is a read, then one write
 * conditional on the item's revision: of two concurrent requests the later writer always sees
 * the earlier one's share, so they cannot both slip under a limit. A hold is released when its
 * request ends without an effect (rejected, expired, failed); a committed share never is.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** One request's share in an aggregate item (`ledgerHolds[requestId]`). */
interface Hold {
  units: number;
  /** When it was reserved (ISO): the window is counted from it. */
  at: string;
  /** The effect ran (or may have): kept whatever the request's outcome. */
  committed?: boolean;
}

/** Too many concurrent writers on one aggregate for the attempts allowed: the step fails and is retried. */
export class LedgerContention extends WardenError {
  constructor(message: string) {
    super('ledger_contention', message, 503);
  }
}

export interface LedgerOptions {
  /** Conditional-write attempts per aggregate before giving up. @default 40 */
  readonly maxAttempts?: number;
  /** Waits between attempts (jittered), so that contenders spread out. */
  readonly backoffMs?: (attempt: number) => number;
}

function holdsOf(item: RecordItem | undefined): Record<string, Hold> {
  const holds = item?.ledgerHolds;
  return holds && typeof holds === 'object' ? { ...(holds as Record<string, Hold>) } : {};
}

function windowStart(share: CumulativeShare, now: Date): number {
  return share.windowDays === undefined ? Number.NEGATIVE_INFINITY : now.getTime() - share.windowDays * DAY_MS;
}

/** In the window: reserved at or after its start; a hold whose time cannot be read counts (fail closed). */
function inWindow(hold: Hold, start: number): boolean {
  const at = Date.parse(hold.at);
  return Number.isNaN(at) || at >= start;
}

export class CumulativeLedger {
  private readonly maxAttempts: number;
  private readonly backoffMs: (attempt: number) => number;

  constructor(
    private readonly records: RecordTable,
    options: LedgerOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 40;
    this.backoffMs = options.backoffMs ?? ((attempt) => Math.min(200, 5 * attempt) * Math.random());
  }

  /**
   * Adds the request's share to each aggregate (again after a retry: a request holds one share
   * per aggregate) and returns each aggregate's total in the window, this request included.
   * Shares outside every window are dropped from the item as it is rewritten.
   */
  async reserve(requestId: string, shares: readonly CumulativeShare[], now: Date): Promise<number[]> {
    const totals: number[] = [];
    for (const share of shares) {
      const start = windowStart(share, now);
      totals.push(
        await this.rewrite(share, (holds) => {
          for (const [id, hold] of Object.entries(holds)) if (!inWindow(hold, start)) delete holds[id];
          const own = holds[requestId];
          // A retried reservation keeps its first time, and a committed share stays committed.
          holds[requestId] = { units: share.units, at: own?.at ?? now.toISOString(), ...(own?.committed ? { committed: true } : {}) };
          // Saturates rather than losing precision: a total that large is over every limit anyway.
          return countOf(Object.values(holds).reduce((sum, hold) => sum + Number(hold.units), 0));
        }),
      );
    }
    return totals;
  }

  /**
   * Marks the request's shares committed, before its effect runs: from then on they are never
   * released. A share no longer held (dropped from its window while the request waited) is
   * written again, committed, dated now: an effect always counts.
   */
  async commit(requestId: string, shares: readonly CumulativeShare[], now: Date): Promise<void> {
    for (const share of shares) {
      await this.rewrite(share, (holds) => {
        const own = holds[requestId];
        if (own?.committed) return undefined;
        holds[requestId] = { units: own?.units ?? share.units, at: own?.at ?? now.toISOString(), committed: true };
        return 0;
      });
    }
  }

  /** Removes the request's held shares (it ended with no effect); committed ones stay. Idempotent. */
  async release(requestId: string, shares: readonly Pick<CumulativeShare, 'action' | 'name' | 'per'>[]): Promise<void> {
    for (const share of shares) {
      await this.rewrite(share, (holds) => {
        const own = holds[requestId];
        if (!own || own.committed) return undefined;
        delete holds[requestId];
        return 0;
      });
    }
  }

  /**
   * Reads the aggregate, lets `change` edit its holds (returning a number, or undefined when
   * there is nothing to write), and writes it back on the condition that nobody else did in
   * between; retries on a lost race.
   */
  private async rewrite(
    share: Pick<CumulativeShare, 'action' | 'name' | 'per'>,
    change: (holds: Record<string, Hold>) => number | undefined,
  ): Promise<number> {
    const key = ledgerKey(share);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      const item = await this.records.get(key);
      const holds = holdsOf(item);
      const result = change(holds);
      if (result === undefined) return 0;
      const revision = typeof item?.ledgerRev === 'number' ? item.ledgerRev : undefined;
      const written = await this.records.updateIf({
        key,
        update: 'SET ledgerHolds = :holds, ledgerRev = :next, ledgerOf = :of',
        condition: revision === undefined ? 'attribute_not_exists(pk)' : 'ledgerRev = :rev',
        values: {
          ':holds': holds,
          ':next': (revision ?? 0) + 1,
          // For an operator reading the table: which aggregate this is.
          ':of': { action: share.action, name: share.name, per: share.per },
          ...(revision === undefined ? {} : { ':rev': revision }),
        },
      });
      if (written) return result;
      await new Promise((resolve) => setTimeout(resolve, this.backoffMs(attempt)));
    }
    throw new LedgerContention(`${share.action} ${share.name}: ${this.maxAttempts} concurrent writes in a row lost the race`);
  }
}
