/**
 * Bounded concurrency for a rollout: work over many nodes at most N at a time, results in the
 * nodes' order ({@link inParallel}), and a gate that lets at most N callers through at once
 * while the rest wait their turn in order ({@link limiter}).
 *
 * @example
 * ```ts
 * import { inParallel, limiter } from "./parallel.ts";
 * await inParallel([1, 2, 3], 2, (n) => Promise.resolve(n * 2)); // [2, 4, 6], two at a time
 * const gate = limiter(32);
 * await gate(() => Promise.resolve("one of at most 32 at once"));
 * ```
 * @module
 */

/** Runs `work` on every item, at most `limit` at a time; results keep the items' order. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Runs what it is given, at most `limit` at once; the others start in the order they came. */
export type Limiter = <R>(work: () => Promise<R>) => Promise<R>;

/** A {@link Limiter} with `limit` places. */
export function limiter(limit: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      // A waiter takes the place over; only with none waiting is it freed.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
