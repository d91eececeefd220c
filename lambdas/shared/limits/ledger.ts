import type { RecordItem, RecordKey, RecordTable } from '../ports';
import { isRecord } from '../is-record';
import { allSettled } from '../settled';
import { aggregateDigest, countOf, ledgerKey, type CumulativeShare } from './shares';

/**
 * The cumulative ledger: per aggregate (an action's measure for one vendor, order, customer…),
 * each request's share, keyed by request, in one item of the record table. Reserving is one
 * update that adds the share and returns the item as it is after it: DynamoDB applies the updates
 * of one item one at a time, so of two concurrent requests the later one always sees the earlier
 * one's share, and they cannot both slip under a limit. A share is released when its request ends
 * with no effect (rejected, expired, failed before its effect); one whose effect ran stays until
 * its window has passed.
 *
 * Measures of one action share an item when one is counted per a subset of what another is
 * counted per (a vendor's orders, and one requester's orders to that vendor): the narrower
 * measure's shares live in the wider one's item, each tagged with its own aggregate. A request's
 * shares are then reserved, released and committed in one update, all of them or none.
 *
 * A share is kept on its own while it may still be released or committed (the approval wait and
 * a day); after that, shares are summed per day and aggregate, so that an item holds the last
 * days one by one and each earlier day as a few numbers.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A request's shares in an item: the attribute `hold#<requestId>`, with the item's own measure's
 * share (`units`, `at`) and, under `by`, the share of each measure the item hosts (its aggregate's
 * `of`, and `units` or `at` only where they differ from the own share's). Top-level attributes,
 * so that the first share of a new aggregate is the same single update as any other. Older items
 * keep shares in two more places, still counted, released and pruned: a `ledgerHolds` map of own
 * shares, and (moved in from a hosted measure's own item) `hold#<requestId>#<measure>`.
 */
interface Hold {
  /** Absent when the own share is in an older item's map (the hosted ones then carry theirs). */
  units?: number;
  /** When it counts from (ISO): its reservation, or the later date its effect takes effect (`countsFrom`), or when it ran after a human's approval. The window is counted from it. */
  at?: string;
  by?: Record<string, HostedHold>;
}

interface HostedHold {
  /** Which of the hosted measure's aggregates it belongs to (`tagOf`). */
  of: string;
  units?: number;
  at?: string;
}

/** One share as counted. */
interface Share {
  requestId: string;
  /** The hosted measure it is a share of; absent: the item's own measure. */
  measure?: string;
  of?: string;
  units: number;
  at: string;
}

/** One attribute of the item (or one entry of an older item's map) and the shares it holds. */
interface Stored {
  attribute: string;
  legacy?: true;
  /** A day's settled shares, summed (`day#…`). */
  rolledUp?: true;
  shares: Share[];
}

/** Attributes dropped once an item holds this many whose shares are all past their windows. */
const PRUNE_FROM = 50;
/** Shares moved from a measure's own item per update (an update expression is at most 4 KB). */
const MOVE_CHUNK = 40;
/**
 * Settled shares (past every release and commit: the approval wait and a day more) are summed
 * per day once this many have gathered, this many per update: an item then holds the shares of
 * the last few days one by one and each earlier day as one sum per aggregate.
 */
const ROLL_UP_FROM = 50;
const ROLL_UP_CHUNK = 25;
/** How long after the approval wait a share may still be released or committed (a failure, an abort). */
const SETTLE_MARGIN_MS = DAY_MS;

const HOLD_PREFIX = 'hold#';
/** A day's settled shares: `day#<date>` for the item's own measure, `day#<date>#<measure>#<tag>` for a hosted one (a number). */
const DAY_PREFIX = 'day#';
const LEGACY_MAP = 'ledgerHolds';
/** Marks a hosted aggregate whose own item (from before measures shared items) has been moved in: `moved#<measure>#<tag>`. */
const MOVED_PREFIX = 'moved#';
const LAYOUT = 'ledgerLayout';
/**
 * The longest approval wait any reservation of the item has named (ms): a share is neither
 * summed nor dropped before it, so that a shorter timeout set later does not take the shares of
 * requests still waiting under a longer one (their executions keep the wait they started with).
 */
const WAIT = 'ledgerWaitMs';
/** A share larger than this stays on its own (a day's sum must stay an exact number). */
const ROLL_UP_MAX_UNITS = 2 ** 40;
/** The item was created where its hosted measures live: none of their shares was ever anywhere else. */
const HOSTED_FROM_START = 'hosted';
/** The item held its own measure's shares before measures shared items: a hosted measure's older shares may be in their own item until it is moved in. */
const HOSTED_SINCE_UPGRADE = 'hosted-after-separate';

type Aggregate = Pick<CumulativeShare, 'action' | 'name' | 'per'>;

interface Member<S extends Aggregate> {
  share: S;
  /** Where it is in the request's shares (the totals come back in that order). */
  index: number;
  /** A hosted measure's aggregate tag; absent for the item's own measure. */
  of?: string;
}

/** One item a request writes to: the aggregate it is keyed by, and the request's shares in it. */
interface Placement<S extends Aggregate> {
  key: RecordKey;
  host: S;
  members: Member<S>[];
}

/** A hosted aggregate's tag in its host item: a prefix of its identity, one per measure and values. */
function tagOf(share: Aggregate): string {
  return aggregateDigest(share).slice(0, 16);
}

function movedMark(member: Member<Aggregate>): string {
  return `${MOVED_PREFIX}${member.share.name}#${member.of}`;
}

function holdAttribute(requestId: string): string {
  return `${HOLD_PREFIX}${requestId}`;
}

/** Where a share moved in from a hosted measure's own item is kept. */
function movedAttribute(requestId: string, member: Member<Aggregate>): string {
  return `${HOLD_PREFIX}${requestId}#${member.share.name}`;
}

/**
 * The items a request's shares go to. A share is hosted by a share of the same action counted
 * per a subset of its own values (same names, same values: within one request the values of a
 * name agree, so this depends on the declaration alone and is the same for every request of the
 * action); otherwise it has its own item. The shares counted per the fewest values are placed
 * first (then by name), so the placement does not depend on the order policy.json lists them in.
 */
function placementsOf<S extends Aggregate>(shares: readonly S[]): Placement<S>[] {
  const placements: Placement<S>[] = [];
  const byWidth = shares.map((share, index) => ({ share, index })).sort((a, b) => Object.keys(a.share.per).length - Object.keys(b.share.per).length || a.share.name.localeCompare(b.share.name));
  for (const { share, index } of byWidth) {
    const host = placements.find((placement) => placement.host.action === share.action && Object.entries(placement.host.per).every(([name, value]) => share.per[name] === value));
    if (host) host.members.push({ share, index, of: tagOf(share) });
    else placements.push({ key: ledgerKey(share), host: share, members: [{ share, index }] });
  }
  return placements;
}

/** Each attribute of the item that holds shares, with the shares it holds. */
function storedOf(item: RecordItem | undefined): Stored[] {
  const stored: Stored[] = [];
  for (const [attribute, value] of Object.entries(item ?? {})) {
    if (attribute.startsWith(DAY_PREFIX)) {
      const [date, measure, of] = attribute.slice(DAY_PREFIX.length).split('#');
      // A day counts while any part of it is in the window (up to a day longer than its shares would).
      const share: Share = { requestId: attribute, units: value as number, at: `${date}T23:59:59.999Z`, ...(measure !== undefined ? { measure, of } : {}) };
      stored.push({ attribute, rolledUp: true, shares: [share] });
      continue;
    }
    if (!attribute.startsWith(HOLD_PREFIX) || !isRecord(value)) continue;
    const rest = attribute.slice(HOLD_PREFIX.length);
    const cut = rest.indexOf('#');
    if (cut >= 0) {
      const flat = value as { units: number; at: string; of?: string };
      stored.push({ attribute, shares: [{ requestId: rest.slice(0, cut), measure: rest.slice(cut + 1), of: flat.of, units: flat.units, at: flat.at }] });
      continue;
    }
    const hold = value as Hold;
    const shares: Share[] = [];
    // An own share whose units or time cannot be read counts as the most there is (countOf, inWindow).
    if (hold.units !== undefined || hold.at !== undefined) shares.push({ requestId: rest, units: hold.units as number, at: hold.at as string });
    for (const [measure, hosted] of Object.entries(isRecord(hold.by) ? hold.by : {})) {
      if (!isRecord(hosted)) continue;
      shares.push({ requestId: rest, measure, of: hosted.of, units: (hosted.units ?? hold.units) as number, at: (hosted.at ?? hold.at) as string });
    }
    stored.push({ attribute, shares });
  }
  const legacy = item?.[LEGACY_MAP];
  if (isRecord(legacy)) {
    for (const [id, hold] of Object.entries(legacy as Record<string, { units: number; at: string }>)) stored.push({ attribute: id, legacy: true, shares: [{ requestId: id, units: hold.units, at: hold.at }] });
  }
  return stored;
}

/** Whether a stored share is one of the member's aggregate. */
function isShareOf(share: Share, member: Member<Aggregate>): boolean {
  return member.of === undefined ? share.measure === undefined : share.measure === member.share.name && share.of === member.of;
}

function windowStart(share: Pick<CumulativeShare, 'windowDays'>, now: Date): number {
  return share.windowDays === undefined ? Number.NEGATIVE_INFINITY : now.getTime() - share.windowDays * DAY_MS;
}

/** In the window: counted from its start or later; a share whose time cannot be read counts (fail closed). */
function inWindow(share: Pick<Share, 'at'>, start: number): boolean {
  const at = Date.parse(share.at);
  return Number.isNaN(at) || at >= start;
}

/** A share counts from `now` (its reservation, or its effect), or from the later date its effect takes effect. */
function countedFrom(share: Pick<CumulativeShare, 'countsFrom'>, now: Date): string {
  return share.countsFrom !== undefined && Date.parse(share.countsFrom) > now.getTime() ? share.countsFrom : now.toISOString();
}

function holdInMap(item: RecordItem | undefined, requestId: string): boolean {
  const legacy = item?.[LEGACY_MAP];
  return isRecord(legacy) && requestId in legacy;
}

/** The request's hold: its own share (unless `ownElsewhere`) and each hosted one, with what differs from the own share. */
function holdOf(members: readonly Member<CumulativeShare>[], now: Date, ownElsewhere: boolean): Hold {
  const [own, ...hosted] = members;
  const units = own.share.units;
  const at = countedFrom(own.share, now);
  const by: Record<string, HostedHold> = {};
  for (const member of hosted) {
    const memberAt = countedFrom(member.share, now);
    by[member.share.name] = {
      of: member.of ?? tagOf(member.share),
      ...(ownElsewhere || member.share.units !== units ? { units: member.share.units } : {}),
      ...(ownElsewhere || memberAt !== at ? { at: memberAt } : {}),
    };
  }
  return { ...(ownElsewhere ? {} : { units, at }), ...(hosted.length > 0 ? { by } : {}) };
}

export class CumulativeLedger {
  constructor(private readonly records: RecordTable) {}

  /**
   * Adds the request's share to each aggregate and returns each aggregate's total in its window,
   * this request included. A retried reservation keeps the first one (one share per request).
   * `waitsUpToMs`: how long a share may wait for a human before its effect runs (the approval
   * timeout); the item keeps the longest any reservation named. A share is not dropped before its
   * window and that wait have both passed, nor summed under its day before that wait and a day,
   * so that an effect approved late still finds its share to count from (`commit`), and a late
   * release still finds its share to remove.
   */
  async reserve(requestId: string, shares: readonly CumulativeShare[], now: Date, options: { waitsUpToMs?: number } = {}): Promise<number[]> {
    const wait = Math.max(0, options.waitsUpToMs ?? 0);
    const totals = shares.map(() => 0);
    // Every item's update settled before this answers or throws: nothing is still in flight
    // when the step ends (a release after a failure must come after every reservation).
    await allSettled(
      placementsOf(shares).map(async (placement) => {
        const added = await this.add(requestId, placement, now, wait);
        const item = await this.moveSeparate(placement, await this.waitAtLeast(placement.key, added, wait));
        const dropBefore = new Date(now.getTime() - Math.max(wait, Number(item[WAIT]) || 0));
        const stored = storedOf(item);
        const expired = stored.filter((entry) => entry.shares.every((share) => isPast(share, placement, dropBefore)));
        if (expired.length >= PRUNE_FROM) await this.drop(placement.key, expired);
        const settleBefore = dropBefore.getTime() - SETTLE_MARGIN_MS;
        const past = new Set(expired);
        const twice = item[LAYOUT] === HOSTED_FROM_START ? new Set<string>() : sharesHeldTwice(stored);
        const settled = stored.filter((entry) => !entry.legacy && !entry.rolledUp && !past.has(entry) && !entry.shares.some((share) => twice.has(hostedKey(share))) && isSettled(entry, settleBefore));
        if (settled.length >= ROLL_UP_FROM) await this.rollUp(placement.key, settled.slice(0, ROLL_UP_CHUNK));
        const all = stored.flatMap((entry) => entry.shares);
        for (const member of placement.members) {
          const start = windowStart(member.share, now);
          // One share per request: a share moved in from an older item and the same request's own hold are one.
          const counted = new Map(all.filter((share) => isShareOf(share, member) && inWindow(share, start)).map((share) => [share.requestId, share]));
          // Saturates rather than losing precision: a total that large is over every limit anyway.
          totals[member.index] = countOf([...counted.values()].reduce((sum, share) => sum + Number(share.units), 0));
        }
      }),
    );
    return totals;
  }

  /** Removes the request's shares (it ended with no effect). Idempotent; an aggregate it never reached is left as it is. */
  async release(requestId: string, shares: readonly Aggregate[]): Promise<void> {
    await allSettled(
      placementsOf(shares).map(async (placement) => {
        // One call: removing an attribute that is not there is a no-op, and the item after it tells
        // whether a share may still be held anywhere else.
        const attributes = [holdAttribute(requestId), ...placement.members.filter((member) => member.of !== undefined).map((member) => movedAttribute(requestId, member))];
        const names = Object.fromEntries(attributes.map((attribute, i) => [`#h${i}`, attribute]));
        const after = await this.records.updateIf({ key: placement.key, update: `REMOVE ${Object.keys(names).join(', ')}`, condition: 'attribute_exists(ledgerOf)', names });
        if (!after) return;
        await this.removeFromOlderMap(placement.key, after, requestId);
        await allSettled(
          this.notMovedIn(placement, after).map(async (member) => {
            const key = ledgerKey(member.share);
            const separate = await this.records.updateIf({ key, update: 'REMOVE #hold', condition: 'attribute_exists(ledgerOf)', names: { '#hold': holdAttribute(requestId) } });
            await this.removeFromOlderMap(key, separate, requestId);
          }),
        );
      }),
    );
  }

  /** Removes the request's share from an older item's `ledgerHolds` map, when `item` (as it is now) holds one there. */
  private async removeFromOlderMap(key: RecordKey, item: RecordItem | undefined, requestId: string): Promise<void> {
    if (!holdInMap(item, requestId)) return;
    await this.records.updateIf({ key, update: `REMOVE ${LEGACY_MAP}.#rid`, condition: `attribute_exists(${LEGACY_MAP}.#rid)`, names: { '#rid': requestId } });
  }

  /**
   * The request's effect runs now, after a human approved it: each share counts from now (or its
   * later `countsFrom`), so a window reaches back to when the effect was committed, not to when it
   * was asked for. One update per item; a share no longer held (released, or past its window) is
   * left as it is.
   */
  async commit(requestId: string, shares: readonly CumulativeShare[], now: Date): Promise<void> {
    await allSettled(
      placementsOf(shares).map(async (placement) => {
        const [own, ...hosted] = placement.members;
        const names: Record<string, string> = { '#h': holdAttribute(requestId), '#at': 'at' };
        const values: Record<string, unknown> = { ':at': countedFrom(own.share, now) };
        const sets = ['#h.#at = :at'];
        const conditions = ['attribute_exists(#h.#at)'];
        // `by` is a reserved word.
        if (hosted.length > 0) names['#by'] = 'by';
        hosted.forEach((member, i) => {
          names[`#m${i}`] = member.share.name;
          conditions.push(`attribute_exists(#h.#by.#m${i})`);
          // A hosted share keeps a time of its own only where it differs from the own share's.
          if (member.share.countsFrom !== own.share.countsFrom) {
            values[`:at${i}`] = countedFrom(member.share, now);
            sets.push(`#h.#by.#m${i}.#at = :at${i}`);
          }
        });
        const moved = await this.records.updateIf({ key: placement.key, update: `SET ${sets.join(', ')}`, condition: conditions.join(' AND '), names, values });
        if (!moved) await this.commitEach(requestId, placement, now);
      }),
    );
  }

  /** A commit whose shares are not all where this layout puts them: each is moved where it is held. */
  private async commitEach(requestId: string, placement: Placement<CumulativeShare>, now: Date): Promise<void> {
    const item = await this.records.get(placement.key);
    if (!item) return;
    const hold = isRecord(item[holdAttribute(requestId)]) ? (item[holdAttribute(requestId)] as Hold) : undefined;
    const separate = new Set(this.notMovedIn(placement, item));
    const set = (key: RecordKey, path: string, names: Record<string, string>, at: string) =>
      this.records.updateIf({ key, update: `SET ${path}.#at = :at`, condition: `attribute_exists(${path})`, names: { ...names, '#at': 'at' }, values: { ':at': at } });
    await allSettled(
      placement.members.map(async (member) => {
        const at = countedFrom(member.share, now);
        if (member.of === undefined) {
          if (hold?.at !== undefined) await set(placement.key, '#h', { '#h': holdAttribute(requestId) }, at);
          else if (holdInMap(item, requestId)) await set(placement.key, `${LEGACY_MAP}.#rid`, { '#rid': requestId }, at);
        } else if (isRecord(hold?.by) && hold.by[member.share.name] !== undefined) {
          await set(placement.key, '#h.#by.#m', { '#h': holdAttribute(requestId), '#by': 'by', '#m': member.share.name }, at);
        } else if (item[movedAttribute(requestId, member)] !== undefined) {
          await set(placement.key, '#h', { '#h': movedAttribute(requestId, member) }, at);
        } else if (separate.has(member)) {
          // Moved in with this time whenever it is moved (from an attribute, or an even older item's map).
          const key = ledgerKey(member.share);
          if (!(await set(key, '#h', { '#h': holdAttribute(requestId) }, at))) await set(key, `${LEGACY_MAP}.#rid`, { '#rid': requestId }, at);
        }
      }),
    );
  }

  /**
   * One update adding the request's shares to the item, unless it holds them already; the item
   * after it. An item from before measures shared items, or one whose older map holds the
   * request's own share (that one stands), takes a second update that says so.
   */
  private async add(requestId: string, placement: Placement<CumulativeShare>, now: Date, wait: number): Promise<RecordItem> {
    const of = { action: placement.host.action, name: placement.host.name, per: placement.host.per };
    const added = await this.records.updateIf({
      key: placement.key,
      // The same update creates the item with its first shares.
      update: 'SET #h = if_not_exists(#h, :h), ledgerOf = :of, #layout = if_not_exists(#layout, :layout), #wait = if_not_exists(#wait, :wait)',
      condition: `(attribute_exists(#layout) OR attribute_not_exists(ledgerOf)) AND attribute_not_exists(${LEGACY_MAP}.#rid)`,
      names: { '#h': holdAttribute(requestId), '#layout': LAYOUT, '#rid': requestId, '#wait': WAIT },
      // ledgerOf: for an operator reading the table, which aggregate this is.
      values: { ':h': holdOf(placement.members, now, false), ':of': of, ':layout': HOSTED_FROM_START, ':wait': wait },
    });
    if (added) return added;
    const ownElsewhere = holdInMap(await this.records.get(placement.key), requestId);
    const hold = holdOf(placement.members, now, ownElsewhere);
    const writes = Object.keys(hold).length > 0;
    const updated = await this.records.updateIf({
      key: placement.key,
      update: `SET ${writes ? '#h = if_not_exists(#h, :h), ' : ''}ledgerOf = :of, #layout = if_not_exists(#layout, :layout), #wait = if_not_exists(#wait, :wait)`,
      names: { ...(writes ? { '#h': holdAttribute(requestId) } : {}), '#layout': LAYOUT, '#wait': WAIT },
      values: { ...(writes ? { ':h': hold } : {}), ':of': of, ':layout': HOSTED_SINCE_UPGRADE, ':wait': wait },
    });
    if (!updated) throw new Error(`${placement.host.action} ${placement.host.name}: the aggregate could not be updated`);
    return updated;
  }

  /** The item after its longest wait is at least `wait` (one more update, only when a longer approval timeout is first named). */
  private async waitAtLeast(key: RecordKey, item: RecordItem, wait: number): Promise<RecordItem> {
    if ((Number(item[WAIT]) || 0) >= wait) return item;
    const raised = await this.records.updateIf({ key, update: 'SET #wait = :wait', condition: 'attribute_not_exists(#wait) OR #wait < :wait', names: { '#wait': WAIT }, values: { ':wait': wait } });
    return raised ?? (await this.records.get(key)) ?? item;
  }

  /** The hosted members whose shares from before measures shared items may still be in their own item. */
  private notMovedIn<S extends Aggregate>(placement: Placement<S>, item: RecordItem): Member<S>[] {
    if (item[LAYOUT] === HOSTED_FROM_START) return [];
    return placement.members.filter((member) => member.of !== undefined && item[movedMark(member)] === undefined);
  }

  /**
   * Moves the shares a hosted measure's own item holds (from before measures shared items) into
   * the host item, once per aggregate, and returns the item after. The marks go with the last
   * update: a move cut short is done again, and adds nothing twice.
   */
  private async moveSeparate(placement: Placement<CumulativeShare>, item: RecordItem): Promise<RecordItem> {
    const pending = this.notMovedIn(placement, item);
    if (pending.length === 0) return item;
    const separate = await Promise.all(pending.map((member) => this.records.get(ledgerKey(member.share))));
    const moves = pending.flatMap((member, i) =>
      storedOf(separate[i])
        .flatMap((entry) => entry.shares)
        .filter((share) => share.measure === undefined)
        .map((share): [string, Share & { of: string }] => [movedAttribute(share.requestId, member), { ...share, of: member.of ?? tagOf(member.share) }]),
    );
    let after = item;
    for (let start = 0; start === 0 || start < moves.length; start += MOVE_CHUNK) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      moves.slice(start, start + MOVE_CHUNK).forEach(([attribute, share], i) => {
        names[`#m${i}`] = attribute;
        values[`:m${i}`] = { units: Number(share.units), at: share.at, of: share.of };
        sets.push(`#m${i} = if_not_exists(#m${i}, :m${i})`);
      });
      if (start + MOVE_CHUNK >= moves.length) {
        pending.forEach((member, i) => {
          names[`#k${i}`] = movedMark(member);
          sets.push(`#k${i} = :moved`);
        });
        values[':moved'] = true;
      }
      after = (await this.records.updateIf({ key: placement.key, update: `SET ${sets.join(', ')}`, condition: 'attribute_exists(ledgerOf)', names, values })) ?? after;
    }
    return after;
  }

  /**
   * Sums settled shares into their day's attributes and removes them, in one update that applies
   * only if every one is still there (so two reservations never sum the same share twice).
   */
  private async rollUp(key: RecordKey, entries: readonly Stored[]): Promise<void> {
    const sums = new Map<string, number>();
    for (const share of entries.flatMap((entry) => entry.shares)) {
      const date = new Date(Date.parse(share.at)).toISOString().slice(0, 10);
      const day = share.measure === undefined ? `${DAY_PREFIX}${date}` : `${DAY_PREFIX}${date}#${share.measure}#${share.of}`;
      sums.set(day, (sums.get(day) ?? 0) + countOf(Number(share.units)));
    }
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    entries.forEach((entry, i) => (names[`#r${i}`] = entry.attribute));
    [...sums].forEach(([day, units], i) => {
      names[`#d${i}`] = day;
      values[`:d${i}`] = units;
    });
    await this.records.updateIf({
      key,
      update: `REMOVE ${entries.map((_, i) => `#r${i}`).join(', ')} ADD ${[...sums.keys()].map((_, i) => `#d${i} :d${i}`).join(', ')}`,
      condition: entries.map((_, i) => `attribute_exists(#r${i})`).join(' AND '),
      names,
      values,
    });
  }

  /** Drops attributes whose shares are all outside their windows for good (a share's time only moves forward). */
  private async drop(key: RecordKey, expired: readonly Stored[]): Promise<void> {
    const batch = expired.slice(0, 100);
    const names = Object.fromEntries(batch.map((entry, i) => [`#r${i}`, entry.attribute]));
    const paths = batch.map((entry, i) => (entry.legacy ? `${LEGACY_MAP}.#r${i}` : `#r${i}`));
    await this.records.updateIf({ key, update: `REMOVE ${paths.join(', ')}`, condition: 'attribute_exists(ledgerOf)', names });
  }
}

function hostedKey(share: Share): string {
  return `${share.requestId}#${share.measure}`;
}

/**
 * A hosted share an older layout left twice in the item (moved in beside the same request's own
 * copy), by `hostedKey`: both copies stay out of a day's sum, where they would count twice
 * (counting takes one share per request; a sum no longer knows whose). Only an item that held
 * shares before measures shared items can have one.
 */
function sharesHeldTwice(stored: readonly Stored[]): Set<string> {
  const keys = (nested: boolean) =>
    new Set(stored.flatMap((entry) => entry.shares.filter((share) => share.measure !== undefined && (entry.attribute === holdAttribute(share.requestId)) === nested).map(hostedKey)));
  const moved = keys(false);
  return new Set([...keys(true)].filter((key) => moved.has(key)));
}

/** Whether every share of the entry counts from before `before` (and can be summed under its day: a hosted one knows its aggregate). */
function isSettled(entry: Stored, before: number): boolean {
  return (
    entry.shares.length > 0 &&
    entry.shares.every((share) => Date.parse(share.at) < before && Number(share.units) >= 0 && Number(share.units) <= ROLL_UP_MAX_UNITS && (share.measure === undefined || typeof share.of === 'string'))
  );
}

/** Past its measure's window; a share of a measure the action no longer counts is past every window. */
function isPast(share: Share, placement: Placement<CumulativeShare>, now: Date): boolean {
  const member = placement.members.find((m) => (m.of === undefined ? share.measure === undefined : share.measure === m.share.name));
  return member === undefined || !inWindow(share, windowStart(member.share, now));
}
