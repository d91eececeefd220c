import { BUDGET_NOT_MET_STATUS, checkBudgets, ioCallsBudget, IO_CALLS, type BudgetVerdict } from '../../../bench/budgets';
import { EXPIRED_PATH, PATHS } from '../../../bench/paths';

const verdict = (name: string, met: boolean): BudgetVerdict => ({ name, issue: 14, met, detail: met ? 'within' : 'over' });

describe('checkBudgets: the exit status of `npm run bench -- --check`', () => {
  it('is 0 when every budget measured is met', () => {
    expect(checkBudgets([verdict('transitions auto-approved ≤ 8', true), verdict('throughput 8 clients', true)])).toEqual({ status: 0, missed: [] });
  });

  it('is 0 for a run that measured no budget (every section skipped)', () => {
    expect(checkBudgets([])).toEqual({ status: 0, missed: [] });
  });

  it('is 3 when one is not met, and names exactly the ones missed, in order', () => {
    const budgets = [verdict('a', true), verdict('b', false), verdict('c', true), verdict('d', false)];
    const { status, missed } = checkBudgets(budgets);
    expect(status).toBe(3);
    expect(BUDGET_NOT_MET_STATUS).toBe(3);
    expect(missed.map((b) => b.name)).toEqual(['b', 'd']);
  });
});

describe('DynamoDB + S3 call budgets per path', () => {
  it('are 15 on the auto-approved path and the others cut by the same factor (15/30), rounded down', () => {
    expect(ioCallsBudget('auto-approved')).toBe(15);
    expect(ioCallsBudget('rejected')).toBe(14); // 28 × 0.5
    expect(ioCallsBudget('approved')).toBe(22); // 44 × 0.5
    expect(ioCallsBudget('rejected by approver')).toBe(20); // 40 × 0.5
    expect(ioCallsBudget('expired')).toBe(17); // 35 × 0.5 = 17.5
  });

  it('every path the bench runs has a recorded "before" figure, so none goes without a budget', () => {
    const names = [...PATHS, EXPIRED_PATH].map((path) => path.name);
    expect(Object.keys(IO_CALLS.before).sort()).toEqual([...names].sort());
    for (const name of names) expect(ioCallsBudget(name)).toBeLessThan(IO_CALLS.before[name]);
  });

  it('a path without a recorded figure has no budget', () => {
    expect(ioCallsBudget('a path nobody measured')).toBeUndefined();
  });
});
