/**
 * The per-line work of verification that needs no other line's verdict, done in parallel by the
 * signature workers and the main thread alike: strict parse, seq against position, `prev`
 * against the SHA-256 of the line before, and the Ed25519 signature under the key its kid names.
 * Every line is one flag byte and one key index in shared memory; threads take chunks of lines
 * from one atomic counter, so none idles while another still has work.
 *
 * The flags are only evidence for the sequential pass (`fast_verify.ts`), which still checks
 * which key was current for each line and falls back to the full, diagnosing pass on anything
 * unusual.
 *
 * @example
 * ```ts
 * import { checkChunks, newLaneJob } from "./sig_lanes.ts";
 * declare const bytes: Uint8Array;
 * declare const bounds: Int32Array;
 * declare const raw: Uint8Array;
 * const job = newLaneJob(bytes, bounds, [["0123456789abcdef", raw]]);
 * checkChunks(job); // the calling thread's share; workers run the same on the same job
 * ```
 * @module
 */
import { type KeyObject, verify } from "node:crypto";
import { GENESIS_PREV, parseEntryLine, sha256Hex } from "./entry.ts";
import { signedMessageInto } from "./signed_bytes.ts";
import { KID_FROM_END, PREV_FROM_END, scanCanonicalLine, type ScannedLine } from "./line_scan.ts";
import { publicKeyFromRaw } from "./keys.ts";
import { ACTION } from "./actions.ts";

/** The line is a strictly parsed v2 entry (canonical bytes, not the v1 layout). */
export const PARSED = 1;
/** Its seq is its position (1-based) in the history. */
export const SEQ_IN_PLACE = 2;
/** Its prev is the SHA-256 of the line before (the genesis constant for the first). */
export const CHAINED = 4;
/** Its signature verifies under the candidate key its kid names. */
export const SIGNED = 8;
/** It is a `key.rotated` entry (the sequential pass reads it). */
export const ROTATION = 16;
/** Every flag a line needs to pass without a closer look. */
export const CLEAN = PARSED | SEQ_IN_PLACE | CHAINED | SIGNED;
/** `kidIndex` of a line whose kid is no candidate key (or that did not parse). */
export const NO_KEY = 0xffff;

const CHUNK = 256;

/** One verification's shared state: the lines, the candidate keys, the verdicts. */
export interface LaneJob {
  /** Every history file's bytes, concatenated. */
  bytes: Uint8Array;
  /** Line i is bytes[bounds[2i], bounds[2i+1]). */
  bounds: Int32Array;
  /** Candidate keys (kid, raw public key); `kidIndex` indexes this list. */
  keys: [string, Uint8Array][];
  /** Per line: the flags above. */
  flags: Uint8Array;
  /** Per line: index into `keys` of the key its kid names, or `NO_KEY`. */
  kidIndex: Uint16Array;
  /** [0]: next chunk to take. */
  next: Int32Array;
}

/**
 * A job over `bytes` (which should live in a SharedArrayBuffer for workers to see it without a
 * copy) with verdict arrays in shared memory.
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array;
 * const job = newLaneJob(bytes, new Int32Array([0, bytes.length]), []);
 * ```
 */
export function newLaneJob(
  bytes: Uint8Array,
  bounds: Int32Array,
  keys: [string, Uint8Array][],
): LaneJob {
  const lines = bounds.length / 2;
  return {
    bytes,
    bounds,
    keys,
    flags: new Uint8Array(new SharedArrayBuffer(lines)),
    kidIndex: new Uint16Array(new SharedArrayBuffer(lines * 2)),
    next: new Int32Array(new SharedArrayBuffer(4)),
  };
}

/**
 * Takes chunks of lines until none is left and writes their verdicts. Safe to run on any number
 * of threads at once over the same job.
 *
 * @example
 * ```ts
 * declare const job: LaneJob;
 * checkChunks(job);
 * ```
 */
export function checkChunks(job: LaneJob): void {
  const keyObjects: KeyObject[] = job.keys.map(([, raw]) => publicKeyFromRaw(raw));
  const keyIndex = new Map(job.keys.map(([kid], i) => [kid, i]));
  const kidBytes = job.keys.map(([kid]) => new TextEncoder().encode(kid));
  const lines = job.flags.length;
  let longest = 0;
  for (let i = 0; i < lines; i++) {
    longest = Math.max(longest, job.bounds[2 * i + 1] - job.bounds[2 * i]);
  }
  const scratch = { message: new Uint8Array(longest + 64), sig: new Uint8Array(64) };
  const scanned: ScannedLine = { seq: 0, rotation: false };
  const line = (i: number) => job.bytes.subarray(job.bounds[2 * i], job.bounds[2 * i + 1]);
  // Consecutive lines mostly share a kid: compare its 16 bytes before building a string.
  let lastKey = NO_KEY;
  const kidAt = (bytes: Uint8Array, at: number): number => {
    if (lastKey !== NO_KEY && sameAt(bytes, at, kidBytes[lastKey])) return lastKey;
    const k = keyIndex.get(String.fromCharCode(...bytes.subarray(at, at + 16))) ?? NO_KEY;
    if (k !== NO_KEY) lastKey = k;
    return k;
  };
  for (;;) {
    const start = Atomics.add(job.next, 0, 1) * CHUNK;
    if (start >= lines) return;
    const end = Math.min(lines, start + CHUNK);
    let prevHash = start === 0 ? GENESIS_PREV : sha256Hex(line(start - 1));
    for (let i = start; i < end; i++) {
      const bytes = line(i);
      let flags = 0;
      let k = NO_KEY;
      if (scanCanonicalLine(bytes, scanned)) {
        // The common case: seq and the action from the scan, prev and kid at fixed offsets.
        flags |= PARSED;
        if (scanned.seq === i + 1) flags |= SEQ_IN_PLACE;
        if (hexAt(bytes, bytes.length - PREV_FROM_END, prevHash)) flags |= CHAINED;
        if (scanned.rotation) flags |= ROTATION;
        k = kidAt(bytes, bytes.length - KID_FROM_END);
      } else {
        const p = parseEntryLine(bytes);
        if (p.ok && !p.v1Form) {
          const e = p.entry;
          flags |= PARSED;
          if (e.seq === i + 1) flags |= SEQ_IN_PLACE;
          if (e.prev === prevHash) flags |= CHAINED;
          if (e.action === ACTION.keyRotated) flags |= ROTATION;
          k = keyIndex.get(e.kid) ?? NO_KEY;
        }
      }
      if (k !== NO_KEY && signatureValid(bytes, keyObjects[k], scratch)) flags |= SIGNED;
      job.flags[i] = flags;
      job.kidIndex[i] = k;
      prevHash = sha256Hex(bytes);
    }
  }
}

function signatureValid(
  bytes: Uint8Array,
  key: KeyObject,
  scratch: { message: Uint8Array; sig: Uint8Array },
): boolean {
  try {
    const length = signedMessageInto(bytes, scratch);
    return length > 0 && verify(null, scratch.message.subarray(0, length), key, scratch.sig);
  } catch {
    return false; // malformed: the sequential pass diagnoses it
  }
}

function hexAt(bytes: Uint8Array, at: number, hex: string): boolean {
  for (let j = 0; j < hex.length; j++) if (bytes[at + j] !== hex.charCodeAt(j)) return false;
  return true;
}

function sameAt(bytes: Uint8Array, at: number, want: Uint8Array): boolean {
  for (let j = 0; j < want.length; j++) if (bytes[at + j] !== want[j]) return false;
  return true;
}
