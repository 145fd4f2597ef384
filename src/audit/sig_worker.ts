/**
 * Worker half of parallel verification: waits for a {@link LaneJob} (lines and verdict arrays in
 * shared memory), takes chunks of lines until none is left (`checkChunks`), then says done. It
 * judges nothing by itself; the sequential pass in `fast_verify.ts` / `verify_core.ts` reads
 * the verdicts as evidence and still checks every rule.
 *
 * @example
 * ```ts
 * import type { LaneJob } from "./sig_lanes.ts";
 * declare const job: LaneJob;
 * const w = new Worker(new URL("./sig_worker.ts", import.meta.url), { type: "module" });
 * w.postMessage(job);
 * ```
 * @module
 */
/// <reference lib="deno.worker" />
import { checkChunks, type LaneJob } from "./sig_lanes.ts";

self.onmessage = (ev: MessageEvent<LaneJob>) => {
  checkChunks(ev.data);
  self.postMessage("done");
};
