/**
 * Checks signatures of a large history on worker threads before the sequential pass, because
 * Ed25519 verification dominates verify time and is independent per line.
 *
 * @example
 * ```ts
 * import { type HistoryFile, splitLines, type TrustRoot, verifyHistory } from "./verify_core.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * import { precomputeSignatures } from "./parallel_sigs.ts";
 * const recs = splitLines(files);
 * const hints = await precomputeSignatures(files, recs, root);
 * verifyHistory(files, root, { hints, recs });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { parseEntryLine } from "./entry.ts";
import { kidOf } from "./keys.ts";
import type { HistoryFile, Rec, SignatureHints, TrustRoot } from "./verify_core.ts";

// Below this, spawning workers costs more than it saves.
const MIN_LINES = 4000;
const ROTATED = Buffer.from('"action":"key.rotated"');

/**
 * Signature verdicts for every line, computed on `threads` workers, or undefined for small
 * histories (or if workers are unavailable). Candidate keys are the trust root plus every key a
 * `key.rotated` line announces; whether those announcements are authentic is left to the
 * sequential pass, which only trusts a verdict made with the key it has authenticated.
 *
 * @example
 * ```ts
 * import { type HistoryFile, splitLines, type TrustRoot } from "./verify_core.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * const hints = await precomputeSignatures(files, splitLines(files), root, 2);
 * ```
 */
export async function precomputeSignatures(
  files: HistoryFile[],
  recs: Rec[],
  root: TrustRoot,
  threads = Math.min(4, Math.max(1, navigator.hardwareConcurrency ?? 1)),
): Promise<SignatureHints | undefined> {
  if (recs.length < MIN_LINES || threads < 1) return undefined;
  const keys = new Map<string, Uint8Array>([[root.kid, root.publicKeyRaw]]);
  for (const f of files) announcedKeys(f.bytes, keys);
  const keyList = [...keys.entries()];
  const per = Math.ceil(recs.length / threads);
  try {
    const parts = await Promise.all(Array.from({ length: threads }, (_, w) => {
      const chunk = recs.slice(w * per, (w + 1) * per);
      const offsets = new Uint32Array(chunk.length + 1);
      for (let j = 0; j < chunk.length; j++) offsets[j + 1] = offsets[j] + chunk[j].bytes.length;
      const buf = new Uint8Array(offsets[chunk.length]);
      chunk.forEach((r, j) => buf.set(r.bytes, offsets[j]));
      return runWorker(buf, offsets, keyList);
    }));
    const valid = new Uint8Array(recs.length);
    parts.forEach((p, w) => valid.set(p, w * per));
    return {
      valid,
      keys: new Map(keyList.map(([kid, raw]) => [kid, Buffer.from(raw).toString("base64")])),
    };
  } catch {
    return undefined; // the sequential pass checks everything itself
  }
}

function runWorker(
  buf: Uint8Array,
  offsets: Uint32Array,
  keys: [string, Uint8Array][],
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./sig_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (ev: MessageEvent<Uint8Array>) => {
      worker.terminate();
      resolve(ev.data);
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      worker.terminate();
      reject(new Error(ev.message));
    };
    worker.postMessage({ buf, offsets, keys }, [
      buf.buffer as ArrayBuffer,
      offsets.buffer as ArrayBuffer,
    ]);
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
