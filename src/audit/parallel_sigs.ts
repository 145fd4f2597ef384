/**
 * Runs the per-line checks of a history (`sig_lanes.ts`) on worker threads and the calling
 * thread at once, because Ed25519 verification dominates verify time and is independent per
 * line. The lines go to the workers once, in shared memory; no message per line or chunk.
 *
 * @example
 * ```ts
 * import { type HistoryFile, splitLines, type TrustRoot, verifyHistory } from "./verify_core.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * import { checkLinesInParallel } from "./parallel_sigs.ts";
 * const recs = splitLines(files);
 * const lanes = await checkLinesInParallel(files, recs, root);
 * verifyHistory(files, root, { lanes, recs });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { parseEntryLine } from "./entry.ts";
import { kidOf } from "./keys.ts";
import { checkChunks, type LaneJob, newLaneJob } from "./sig_lanes.ts";
import type { HistoryFile, Rec, TrustRoot } from "./verify_core.ts";

// Below this, starting a worker costs more than it saves: the calling thread does it all.
const MIN_LINES = 4000;
const ROTATED = Buffer.from('"action":"key.rotated"');

/**
 * Every line's verdicts (see `LaneJob`), computed by `workers` worker threads plus the calling
 * thread. Candidate keys are the trust root plus every key a `key.rotated` line announces;
 * whether those announcements are authentic is left to the sequential pass.
 *
 * @example
 * ```ts
 * import { type HistoryFile, splitLines, type TrustRoot } from "./verify_core.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * const lanes = await checkLinesInParallel(files, splitLines(files), root, 1);
 * ```
 */
export async function checkLinesInParallel(
  files: HistoryFile[],
  recs: Rec[],
  root: TrustRoot,
  workers = Math.max(1, Math.min(3, (navigator.hardwareConcurrency ?? 1) - 1)),
): Promise<LaneJob> {
  const job = laneJobFor(files, recs, root);
  const running = recs.length < MIN_LINES
    ? []
    : Array.from({ length: workers }, () => runWorker(job).catch(() => undefined));
  checkChunks(job); // this thread's share: it takes chunks until none is left
  await Promise.all(running);
  return job;
}

/**
 * The job for a history, not yet run: its lines copied once into shared memory, and the
 * candidate keys (the trust root, then every key a `key.rotated` line announces).
 *
 * @example
 * ```ts
 * import { checkChunks } from "./sig_lanes.ts";
 * import { type HistoryFile, splitLines, type TrustRoot } from "./verify_core.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * const job = laneJobFor(files, splitLines(files), root);
 * checkChunks(job); // all of it on this thread
 * ```
 */
export function laneJobFor(files: HistoryFile[], recs: Rec[], root: TrustRoot): LaneJob {
  const keys = new Map<string, Uint8Array>([[root.kid, root.publicKeyRaw]]);
  for (const f of files) announcedKeys(f.bytes, keys);
  const bytes = sharedBytes(files);
  const bounds = new Int32Array(new SharedArrayBuffer(recs.length * 8));
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    const start = r.bytes.byteOffset + bytes.base[r.file];
    bounds[2 * i] = start;
    bounds[2 * i + 1] = start + r.bytes.length;
  }
  return newLaneJob(bytes.view, bounds, [...keys.entries()]);
}

// The files' bytes as one view of shared memory: as they are when `loadHistory` read them into
// one SharedArrayBuffer (no copy), else copied once. A line of file f starting at byteOffset o
// in its own buffer starts at o + base[f] in `view`.
function sharedBytes(
  files: HistoryFile[],
): { view: Uint8Array; base: number[] } {
  const buffer = files[0]?.bytes.buffer;
  if (buffer instanceof SharedArrayBuffer && files.every((f) => f.bytes.buffer === buffer)) {
    return { view: new Uint8Array(buffer), base: files.map(() => 0) };
  }
  let total = 0;
  for (const f of files) total += f.bytes.length;
  const view = new Uint8Array(new SharedArrayBuffer(total));
  const base: number[] = [];
  let at = 0;
  for (const f of files) {
    base.push(at - f.bytes.byteOffset);
    view.set(f.bytes, at);
    at += f.bytes.length;
  }
  return { view, base };
}

// A worker that fails to start is no loss: the chunks it would have taken are taken by the
// calling thread, which only returns once every chunk is done.
function runWorker(job: LaneJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./sig_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = () => {
      worker.terminate();
      resolve();
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      worker.terminate();
      reject(new Error(ev.message));
    };
    worker.postMessage(job);
  });
}

function announcedKeys(bytes: Uint8Array, into: Map<string, Uint8Array>): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = b.indexOf(ROTATED); at !== -1; at = b.indexOf(ROTATED, at + 1)) {
    const start = b.lastIndexOf(10, at) + 1;
    const end = b.indexOf(10, at);
    const p = parseEntryLine(bytes.subarray(start, end === -1 ? bytes.length : end));
    if (!p.ok || typeof p.entry.new_public_key !== "string") continue;
    const raw = new Uint8Array(Buffer.from(p.entry.new_public_key, "base64"));
    if (raw.length === 32 && kidOf(raw) === p.entry.new_kid) into.set(p.entry.new_kid, raw);
  }
}
