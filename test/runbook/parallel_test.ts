/** Bounded concurrency for rollouts: never more at once than the limit, order kept. */
import assert from "node:assert/strict";
import { inParallel, limiter } from "../../src/runbook/parallel.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

Deno.test("inParallel: at most `limit` at a time, results in the items' order", async () => {
  let active = 0, peak = 0;
  const results = await inParallel([5, 1, 4, 2, 3], 2, async (n) => {
    peak = Math.max(peak, ++active);
    for (let i = 0; i < n; i++) await tick();
    active--;
    return n * 10;
  });
  assert.deepEqual(results, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
});

Deno.test("limiter: at most `limit` at once, the rest start in the order they came", async () => {
  const gate = limiter(3);
  let active = 0, peak = 0;
  const started: number[] = [];
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    gate(async () => {
      started.push(i);
      peak = Math.max(peak, ++active);
      await tick();
      active--;
      if (i === 4) throw new Error("four fails");
      return i;
    }).catch((error: Error) => error.message)));
  assert.equal(peak, 3);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(results, [0, 1, 2, 3, "four fails", 5, 6, 7, 8, 9]);
  assert.equal(await gate(() => Promise.resolve("a place is free again")), "a place is free again");
});
