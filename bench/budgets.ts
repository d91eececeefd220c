/**
 * Every budget `npm run bench` checks, in one place, each with where it comes from (the issue
 * and its words). The sections measure; this file says what a measurement must reach, and
 * `--check` turns the verdicts into the exit status.
 */

export interface BudgetSource {
  issue: number;
  /** The issue's own words for it. */
  words: string;
}

/** Cold-start proxy per handler (bench/cold-start.ts): import time against its floor probe and against the reference bundle. */
export const COLD_START = {
  /** At most this × the handler's own floor probe (exactly the SDK clients and Powertools utilities it uses). */
  vsOwnFloor: 1.15,
  /** At most this × the four-client reference bundle. */
  vsReference: 0.8,
  source: { issue: 14, words: 'Budget: every handler ≤ 1.15× its floor, and ≤ 0.8× the four-client reference.' },
} as const;

/** Billable state transitions (StateEntered + StateRetried) per path: set by issue 5, kept by issue 14. */
export const TRANSITIONS = {
  withoutApproval: 8,
  withApproval: 11,
  source: { issue: 14, words: 'State transitions stay ≤ 8 on the auto-approved path and ≤ 11 on the approval path.' },
} as const;

/**
 * DynamoDB + S3 calls per path. Issue 14 sets the auto-approved path's number and cuts the others
 * "in proportion": each path's budget is its recorded figure before issue 14 times the same factor
 * (15 / 30), rounded down.
 */
export const IO_CALLS = {
  autoApproved: 15,
  /** Measured on main at 9babaaa (2026-12-03), `npm run bench -- --skip cold,text`: DynamoDB + S3 calls of one request per path. */
  before: {
    'auto-approved': 30,
    'auto-approved (free text)': 34,
    rejected: 28,
    approved: 44,
    'approved (free text)': 48,
    'rejected by approver': 40,
    expired: 35,
  } as Readonly<Record<string, number>>,
  source: { issue: 14, words: 'Budget: the auto-approved path ≤ 15 DynamoDB/S3 calls, the approval path cut in proportion; bench prints calls per path.' },
} as const;

/** The DynamoDB + S3 call budget of a path, or undefined for a path with no recorded "before" figure. */
export function ioCallsBudget(path: string): number | undefined {
  const before = IO_CALLS.before[path];
  if (before === undefined) return undefined;
  return Math.floor((before * IO_CALLS.autoApproved) / IO_CALLS.before['auto-approved']);
}

/**
 * Local throughput against the emulators' own ceiling for the same calls, measured in the same
 * run, like for like: the ceiling's replaying clients on a thread of their own, as local mode runs
 * the handlers and their clients (bench/throughput.ts).
 */
export const THROUGHPUT = {
  /** At least this × the I/O ceiling. */
  vsIoCeiling: 0.8,
  lost: 0,
  /** The concurrencies the budget names (`--clients` defaults to them). */
  clients: [8, 16],
  /**
   * Untimed requests before each timed run, and as many untimed replays before each ceiling
   * (`--warmup` defaults to it): throughput is compared at steady state, both sides warmed alike.
   * Warden's handlers, engine and emulators take several hundred requests to reach it: in one
   * 8-client run of 2,400 requests after 16 (session 28), 200-request windows went 62, 75, 71,
   * then 82–91 req/s from the 800th on, CPU 26.8 ms per request down to 19–21.
   */
  warmup: 800,
  source: { issue: 14, words: 'Local throughput ≥ 0.8× the raw emulator floor measured in the same run (8 and 16 clients), 0 lost.' },
} as const;

/** The escalated purchase-order cycle over HTTP against the replay of its own DynamoDB/S3 calls. */
export const CYCLE = {
  vsIoFloor: 1.5,
  // Issue 5's text is not quoted here: these words paraphrase its performance budget.
  source: { issue: 5, words: 'The escalated approval cycle (submit → pending → approve → completed) within 1.5× the raw I/O it makes.' },
} as const;

/** Each text-reading step on each hostile 4,000-character text (bench/text.ts). */
export const HOSTILE_TEXT = {
  /** p99 strictly below this, per step. */
  p99Ms: 50,
  source: { issue: 12, words: 'A benchmark case in bench: 4,000-character adversarial inputs, p99 under 50 ms per step.' },
} as const;

/** One line of the results' budget table (`results.budgets`). */
export interface BudgetVerdict {
  name: string;
  /** The issue the budget comes from. */
  issue: number;
  met: boolean;
  detail: string;
}

/** `npm run bench -- --check`'s exit status when a budget measured in the run is not met. */
export const BUDGET_NOT_MET_STATUS = 3;

/** The exit status `--check` gives a run's verdicts: 0 when every budget measured is met, else 3 with the missed ones named. */
export function checkBudgets(budgets: readonly BudgetVerdict[]): { status: 0 | typeof BUDGET_NOT_MET_STATUS; missed: BudgetVerdict[] } {
  const missed = budgets.filter((budget) => !budget.met);
  return { status: missed.length === 0 ? 0 : BUDGET_NOT_MET_STATUS, missed };
}
