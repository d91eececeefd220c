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
