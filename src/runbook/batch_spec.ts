/**
 * Batch specs: how many nodes go at a time, and how many may fail. One owner for the syntax and
 * the arithmetic that a rollout's `strategy` and a `restart: rolling` step share.
 *
 * A batch size is a count (`2`), a percentage of all nodes (`25%`), or a ramp of those
 * (`[1, 10%, 50%]`: one node first, then 10% of the fleet, then half of it at a time). The
 * rules follow Ansible's `serial`:
 * - a percentage is of all nodes of the rollout, rounded **down**, and never less than 1 node
 *   (`25%` of 10 nodes is 2; `5%` of 10 is 1);
 * - a ramp's sizes apply in order and its last size repeats until every node is in a batch;
 * - the last batch holds whatever is left, so it may be smaller.
 *
 * `max_failed` is a count or a percentage of all nodes of the rollout, rounded down (no
 * minimum: `10%` of 5 nodes tolerates 0 failures); the rollout stops once *more* nodes failed
 * than that, counting every batch so far (like SSM's error threshold; Ansible's
 * `max_fail_percentage` counts within a batch).
 *
 * @example
 * ```ts
 * import { batchSizes, failureAllowance, parseBatchSpec } from "./batch_spec.ts";
 * batchSizes(parseBatchSpec([1, "10%", "50%"]), 20); // [1, 2, 10, 7]
 * failureAllowance("10%", 20); // 2
 * ```
 * @module
 */
import { z } from "../source/zod.ts";

/** One size: a count of nodes, or a percentage of all nodes. */
export type BatchSize = { count: number } | { percent: number };

/** A batch size or a ramp of them, parsed. */
export type BatchSpec = readonly BatchSize[];

/** A number of nodes or a percentage as written: `2`, `"25%"`. */
export type SizeValue = number | string;

const PERCENT = /^(\d{1,3})%$/;

const SIZE_MESSAGE =
  'expected a number of nodes (1 or more) or a percentage from "1%" to "100%", ' +
  'such as 2 or "25%"';
const MAX_FAILED_MESSAGE = 'expected a number of nodes (0 or more) or a percentage from "0%" ' +
  'to "100%", such as 1 or "10%"';

/**
 * A value that is a count (at least `min`) or a percentage (`min%`–`100%`). One refinement
 * rather than a union of two checked schemas, so a bad value gets one message that says both
 * forms, at its own line and column.
 */
function sizeSchema(min: number, message: string) {
  return z.union([z.number(), z.string()], { error: message }).refine(
    (value) =>
      typeof value === "number"
        ? Number.isInteger(value) && value >= min
        : percentOf(value, min) !== undefined,
    { error: message },
  );
}

/** One size of a batch: a whole number of nodes ≥ 1 or a percentage `1%`–`100%`. */
export const BatchSizeSchema = sizeSchema(1, SIZE_MESSAGE);

/** `batch:` — a size, or a ramp of sizes whose last one repeats. */
export const BatchSpecSchema = z.union([
  BatchSizeSchema,
  z.array(BatchSizeSchema).min(1, { error: "a ramp lists at least one batch size" }),
], { error: `${SIZE_MESSAGE}, or a list of those (a ramp)` }).describe(
  'Nodes per batch: a number (2), a percentage of all nodes rounded down, at least 1 ("25%"), ' +
    'or a ramp whose last size repeats ([1, "10%", "50%"]).',
);

/** `max_failed:` — a number of nodes ≥ 0 or a percentage `0%`–`100%` of all nodes. */
export const MaxFailedSchema = sizeSchema(0, MAX_FAILED_MESSAGE).describe(
  "Failed nodes tolerated before the rollout stops: a number, or a percentage of all nodes " +
    'rounded down ("10%").',
);

/** Parses a valid `batch:` value (see {@link BatchSpecSchema}); throws on anything else. */
export function parseBatchSpec(value: SizeValue | readonly SizeValue[]): BatchSpec {
  const sizes = Array.isArray(value) ? value : [value as SizeValue];
  if (sizes.length === 0) throw new RangeError("a ramp lists at least one batch size");
  return sizes.map((size) => {
    if (typeof size === "number") {
      if (!Number.isInteger(size) || size < 1) throw new RangeError(`not a batch size: ${size}`);
      return { count: size };
    }
    const percent = percentOf(size, 1);
    if (percent === undefined) throw new RangeError(`not a batch size: "${size}"`);
    return { percent };
  });
}

/**
 * Parses the text form of a batch spec used by operands (`restart: rolling 25%`): sizes
 * separated by commas, optionally in brackets — `2`, `25%`, `1,10%,50%`, `[1, 10%, 50%]`.
 * Returns undefined for text that is not one.
 */
export function parseBatchText(text: string): BatchSpec | undefined {
  const inner = text.trim().replace(/^\[(.*)\]$/s, "$1");
  const words = inner.split(",").map((word) => word.trim());
  if (words.some((word) => !/^\d+%?$/.test(word))) return undefined;
  try {
    return parseBatchSpec(words.map((word) => (word.endsWith("%") ? word : Number(word))));
  } catch {
    return undefined;
  }
}

/** The sizes of the batches `total` nodes run in; they add up to `total`. */
export function batchSizes(spec: BatchSpec, total: number): number[] {
  const sizes: number[] = [];
  let left = total;
  for (let i = 0; left > 0; i++) {
    const size = Math.min(left, resolveSize(spec[Math.min(i, spec.length - 1)], total));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** Splits `items` into batches by `spec`, keeping their order. */
export function splitBatches<T>(items: readonly T[], spec: BatchSpec): T[][] {
  let at = 0;
  return batchSizes(spec, items.length).map((size) => items.slice(at, at += size));
}

/** How many of `total` nodes may fail before a rollout stops (it stops at one more). */
export function failureAllowance(value: SizeValue, total: number): number {
  if (typeof value === "number") return value;
  const percent = percentOf(value, 0);
  if (percent === undefined) throw new RangeError(`not a max_failed value: "${value}"`);
  return Math.floor(percent * total / 100);
}

/** A spec as written back: `2`, `25%`, `[1, 10%, 50%]`. */
export function formatBatchSpec(spec: BatchSpec): string {
  const words = spec.map((size) => ("count" in size ? String(size.count) : `${size.percent}%`));
  return words.length === 1 ? words[0] : `[${words.join(", ")}]`;
}

/** A size in nodes: a percentage of `total`, rounded down, at least 1. */
function resolveSize(size: BatchSize, total: number): number {
  if ("count" in size) return size.count;
  return Math.max(1, Math.floor(size.percent * total / 100));
}

/** The number in `"25%"` when it lies in `min`–100; undefined otherwise. */
function percentOf(text: string, min: number): number | undefined {
  const match = PERCENT.exec(text.trim());
  if (!match) return undefined;
  const percent = Number(match[1]);
  return percent >= min && percent <= 100 ? percent : undefined;
}

/**
 * Runs `work` on `items` batch by batch (the items of a batch at once), stopping after the
 * first batch in which `failed` holds for a result. Returns the results of the items that ran,
 * in order.
 *
 * @example
 * ```ts
 * import { inBatches, parseBatchSpec } from "./batch_spec.ts";
 * const results = await inBatches([1, 2, 3, 4], parseBatchSpec(2), (n) => Promise.resolve(n),
 *   (n) => n === 2);
 * results; // [1, 2]: the batch holding 2 failed, so 3 and 4 never ran
 * ```
 */
export async function inBatches<T, R>(
  items: readonly T[],
  spec: BatchSpec,
  work: (item: T) => Promise<R>,
  failed: (result: R) => boolean,
): Promise<R[]> {
  const results: R[] = [];
  for (const batch of splitBatches(items, spec)) {
    const done = await Promise.all(batch.map(work));
    results.push(...done);
    if (done.some(failed)) break;
  }
  return results;
}
