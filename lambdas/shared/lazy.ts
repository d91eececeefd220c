/**
 * A value built on its first use, then kept for the life of the process: what a handler may
 * not need costs nothing at import (a Lambda cold start), and is built once when it is.
 */
export function lazy<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value;
  };
}

/**
 * Answers kept by key for the life of the process, for a question whose answer follows from the
 * key alone. Bounded: past `kept` answers all are dropped and the next ones kept afresh (a
 * long-lived container sees new days and many role sets).
 */
export function keptAnswers<V>(kept: number): (key: string, answer: () => V) => V {
  const answers = new Map<string, V>();
  return (key, answer) => {
    if (answers.has(key)) return answers.get(key) as V;
    const value = answer();
    if (answers.size >= kept) answers.clear();
    answers.set(key, value);
    return value;
  };
}
