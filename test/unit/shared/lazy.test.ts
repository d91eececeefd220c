import { keptAnswers, lazy } from '../../../lambdas/shared/lazy';

describe('lazy', () => {
  it('builds on first use only, once', () => {
    let builds = 0;
    const value = lazy(() => ({ n: ++builds }));
    expect(builds).toBe(0);
    expect(value()).toBe(value());
    expect(builds).toBe(1);
  });
});

describe('keptAnswers', () => {
  it('works an answer out once per key and gives it again after', () => {
    const worked: string[] = [];
    const answers = keptAnswers<string>(10);
    const ask = (key: string) => answers(key, () => (worked.push(key), `answer to ${key}`));
    expect([ask('a'), ask('b'), ask('a'), ask('b')]).toEqual(['answer to a', 'answer to b', 'answer to a', 'answer to b']);
    expect(worked).toEqual(['a', 'b']);
  });

  it('keeps falsy answers too', () => {
    let worked = 0;
    const answers = keptAnswers<boolean>(10);
    expect(answers('k', () => (worked++, false))).toBe(false);
    expect(answers('k', () => (worked++, true))).toBe(false);
    expect(worked).toBe(1);
  });

  it('keeps at most `kept` answers: past them it starts afresh', () => {
    const worked: string[] = [];
    const answers = keptAnswers<number>(2);
    const ask = (key: string) => answers(key, () => (worked.push(key), key.length));
    ask('a');
    ask('bb');
    ask('ccc'); // a third: the two kept ones are dropped, this one kept
    ask('ccc');
    ask('a'); // worked out again
    expect(worked).toEqual(['a', 'bb', 'ccc', 'a']);
  });
});
