/**
 * Runs the per-line checks of a history (`sig_lanes.ts`) on worker threads and the calling
 * thread at once, because Ed25519 verification dominates verify time and is independent per
 * line. The lines go to the workers once, in shared memory; no message per line or chunk.
 *
 * @example
 * ```ts
 * import { type HistoryFile, historyLines } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * import { verifyHistory } from "./verify_core.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * import { checkLinesInParallel } from "./parallel_sigs.ts";
 * const lines = historyLines(files);
 * const lanes = await checkLinesInParallel(lines, root);
 * verifyHistory(files, root, { lanes, lines });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { parseEntryLine } from "./entry.ts";
import { kidOf } from "./keys.ts";
import type { HistoryLines } from "./lines.ts";
import { ROTATION_MARK } from "./line_scan.ts";
import { checkChunks, type LaneJob, newLaneJob } from "./sig_lanes.ts";
import type { TrustRoot } from "./verdict.ts";

// Below this, starting a worker costs more than it saves: the calling thread does it all.
const MIN_LINES = 4000;
// The same before the lines are counted (entries are rarely under 150 bytes).
const MIN_BYTES = MIN_LINES * 150;

/**
 * Worker threads started ahead of their job, so they load their code while the caller still
 * reads and splits the history.
 */
export interface LaneWorkers {
  /** Hands each worker the job; resolves when all are done (a worker that failed counts done). */
  run(job: LaneJob): Promise<void>;
}

/**
 * Starts workers that wait for a job: one per spare core (at most 3), none for a history of
 * fewer than `MIN_BYTES` bytes, or exactly `count`.
 *
 * @example
 * ```ts
 * const workers = startLaneWorkers({ historyBytes: 36_000_000 });
 * ```
 */
export function startLaneWorkers(
  size: { historyBytes: number } | { count: number },
): LaneWorkers {
  const count = "count" in size
    ? size.count
    : size.historyBytes < MIN_BYTES
    ? 0
    : Math.max(1, Math.min(3, (navigator.hardwareConcurrency ?? 1) - 1));
  const started = Array.from({ length: count }, () => startWorker());
  return {
    run: async (job) => {
      await Promise.all(started.map((w) => w(job).catch(() => undefined)));
    },
  };
}

/**
 * Every line's verdicts (see `LaneJob`), computed by worker threads plus the calling thread.
 * Candidate keys are the trust root plus every key a `key.rotated` line announces; whether
 * those announcements are authentic is left to the sequential pass.
 *
 * @example
 * ```ts
 * import { historyLines, type HistoryFile } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * const lanes = await checkLinesInParallel(historyLines(files), root, startLaneWorkers({ count: 1 }));
 * ```
 */
export async function checkLinesInParallel(
  lines: HistoryLines,
  root: TrustRoot,
  workers?: LaneWorkers,
): Promise<LaneJob> {
  const job = laneJobFor(lines, root);
  workers ??= startLaneWorkers({ historyBytes: lines.count < MIN_LINES ? 0 : lines.bytes.length });
  const running = workers.run(job);
  checkChunks(job); // this thread's share: it takes chunks until none is left
  await running;
  return job;
}

/**
 * The job for a history, not yet run: its lines' bounds, and the candidate keys (the trust
 * root, then every key a `key.rotated` line announces).
 *
 * @example
 * ```ts
 * import { checkChunks } from "./sig_lanes.ts";
 * import { historyLines, type HistoryFile } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * const job = laneJobFor(historyLines(files), root);
 * checkChunks(job); // all of it on this thread
 * ```
 */
export function laneJobFor(lines: HistoryLines, root: TrustRoot): LaneJob {
  const keys = new Map<string, Uint8Array>([[root.kid, root.publicKeyRaw]]);
  for (const f of lines.files) announcedKeys(f.bytes, keys);
  return newLaneJob(lines.bytes, lines.bounds, [...keys.entries()]);
}

// A worker that fails to start is no loss: the chunks it would have taken are taken by the
// calling thread, which only returns once every chunk is done.
function startWorker(): (job: LaneJob) => Promise<void> {
  const worker = new Worker(new URL("./sig_worker.ts", import.meta.url), { type: "module" });
  const done = new Promise<void>((resolve, reject) => {
    worker.onmessage = () => {
      worker.terminate();
      resolve();
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      worker.terminate();
      reject(new Error(ev.message));
    };
  });
  done.catch(() => undefined); // a worker that failed before its job is handled at `run`
  return (job) => {
    worker.postMessage(job);
    return done;
  };
}

function announcedKeys(bytes: Uint8Array, into: Map<string, Uint8Array>): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = b.indexOf(ROTATION_MARK); at !== -1; at = b.indexOf(ROTATION_MARK, at + 1)) {
    const start = b.lastIndexOf(10, at) + 1;
    const end = b.indexOf(10, at);
    const p = parseEntryLine(bytes.subarray(start, end === -1 ? bytes.length : end));
    if (!p.ok || typeof p.entry.new_public_key !== "string") continue;
    const raw = new Uint8Array(Buffer.from(p.entry.new_public_key, "base64"));
    if (raw.length === 32 && kidOf(raw) === p.entry.new_kid) into.set(p.entry.new_kid, raw);
  }
}
