/**
 * `Promise.all` that waits for every promise to settle before it throws the first failure (in
 * the order given) or gives the values: a step never ends while one of its writes is still in
 * flight, to land after whatever the failure makes happen next.
 */
export async function allSettled<T extends readonly unknown[]>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
