/**
 * Verification of a whole history as data: files of bytes in, a verdict out. No I/O, so every
 * tamper case is a plain test over byte arrays.
 *
 * The chain rules: line N+1's `prev` is the SHA-256 of line N's bytes; seq counts 1, 2, … with
 * no gaps across rotated files; each entry is signed by the key the chain says is current (the
 * trust root, then each key announced by a `key.rotated` entry signed by its predecessor).
 *
 * @example
 * ```ts
 * declare const bytes: Uint8Array;
 * declare const kid: string;
 * declare const publicKeyRaw: Uint8Array;
 * import { verifyHistory } from "./verify_core.ts";
 * const r = verifyHistory([{ name: "deployments.log", bytes }], { kid, publicKeyRaw });
 * if (!r.ok) console.log(r.firstBad); // { line: 7, file: "deployments.log", reason: "edited", ... }
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { type KeyObject, verify as edVerify } from "node:crypto";
import { GENESIS_PREV, type ParsedLine, parseEntryLine, sha256Hex } from "./entry.ts";
import { signedBytesOfLine } from "./signed_bytes.ts";
import { keyObjectCache, kidOf } from "./keys.ts";
import { ACTION } from "./actions.ts";
import { checkV1Signature } from "./legacy_v1.ts";
import { cleanHistory } from "./fast_verify.ts";
import { type LaneJob, SIGNED } from "./sig_lanes.ts";
import type { Checkpoint } from "./checkpoint_core.ts";
import { matchCheckpoints } from "./checkpoint_match.ts";
import { type ChainState, diagnose } from "./diagnose.ts";
import {
  type HistoryFile,
  type HistoryLines,
  historyLines,
  lineBytes,
  type Rec,
  recAt,
} from "./lines.ts";
import { leafHash } from "./merkle.ts";
import type { FailReason, TrustRoot, VerifyResult } from "./verdict.ts";

/**
 * Verifies a history. Stops at the first bad line and names a reason from `FailReason`.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./checkpoint_core.ts";
 * import type { HistoryFile } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * declare const files: HistoryFile[];
 * declare const root: TrustRoot;
 * declare const cp: Checkpoint;
 * const r = verifyHistory(files, root, { checkpoints: [cp] });
 * console.log(r.ok, r.entries, r.firstBad?.reason);
 * ```
 */
export function verifyHistory(
  files: HistoryFile[],
  root: TrustRoot,
  options: {
    checkpoints?: Checkpoint[];
    /** Per-line verdicts from `checkLinesInParallel`: a clean history needs no second look. */
    lanes?: LaneJob;
    /** `files` split into lines already (as the lanes were given them). */
    lines?: HistoryLines;
  } = {},
): VerifyResult {
  const lines = options.lines ?? historyLines(files);
  const keyObject = keyObjectCache();
  const result = emptyResult(files);
  const known = new Map<string, Uint8Array>([[root.kid, root.publicKeyRaw]]);
  const fail = (i: number, reason: FailReason, detail: string): VerifyResult => {
    const r = i < lines.count
      ? recAt(lines, i)
      : { file: files.length - 1, line: i - (lines.firstLine.at(-1) ?? 0) + 1 };
    result.ok = false;
    result.firstBad = { line: r.line, file: files[r.file]?.name ?? "", reason, detail };
    return result;
  };

  const clean = options.lanes && cleanHistory(lines, root, options.lanes);
  if (clean) {
    const { known: chainKeys, ...verdict } = clean;
    Object.assign(result, verdict);
    for (const [kid, raw] of chainKeys) known.set(kid, raw);
  } else {
    const bad = fullPass(lines, root, options.lanes, result, known, keyObject);
    if (bad) return fail(...bad);
  }
  const match = matchCheckpoints(options.checkpoints ?? [], {
    entries: result.entries,
    *leaves() {
      for (let i = 0; i < result.entries; i++) yield leafHash(lineBytes(lines, i));
    },
    known,
    keyObject,
  });
  result.checkpoints = match.matched;
  return match.bad ? fail(match.bad.entry, match.bad.reason, match.bad.detail) : result;
}

/**
 * Where a pass over part of a history starts: the index of its first line, the kid the chain
 * says signs it, and the hash of the line before it. Lines before `from` are taken as verified.
 */
export interface ChainStart {
  from: number;
  current: string;
  expPrev: string;
  /** The seq of line `from` (default `from + 1`: lines that are the whole history from seq 1). */
  seq?: number;
}

/**
 * Verifies the lines from `start.from` on, as the full pass would after verifying the ones
 * before (`known`: the keys the chain introduced before `from`; a v1 entry there is refused).
 * What the seal runs over the entries after its last checkpoint (`seal_verify.ts`). `entries`
 * counts the lines it verified.
 *
 * @example
 * ```ts
 * import type { HistoryLines } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * declare const lines: HistoryLines;
 * declare const root: TrustRoot;
 * declare const known: Map<string, Uint8Array>;
 * const r = verifyFrom(lines, root, { from: 120, current: "0123456789abcdef", expPrev: "…" }, known);
 * if (!r.ok) console.log(r.firstBad);
 * ```
 */
export function verifyFrom(
  lines: HistoryLines,
  root: TrustRoot,
  start: ChainStart,
  known: Map<string, Uint8Array>,
): VerifyResult {
  const keyObject = keyObjectCache();
  const result = emptyResult(lines.files);
  const bad = fullPass(lines, root, undefined, result, new Map(known), keyObject, start);
  if (bad) {
    const r = recAt(lines, Math.min(bad[0], lines.count - 1));
    result.ok = false;
    result.firstBad = {
      line: r.line,
      file: lines.files[r.file].name,
      reason: bad[1],
      detail: bad[2],
    };
  }
  return result;
}

// A verdict before any line was looked at.
function emptyResult(files: HistoryFile[]): VerifyResult {
  return { ok: true, entries: 0, files: files.map((f) => f.name), keys: [], checkpoints: [] };
}

// Every line, one by one, with a diagnosis of the first that fails: the index, reason and
// detail of the first bad line, or undefined when all verify. Fills `result` and `known`.
function fullPass(
  lines: HistoryLines,
  root: TrustRoot,
  lanes: LaneJob | undefined,
  result: VerifyResult,
  known: Map<string, Uint8Array>,
  keyObject: (kid: string, raw: Uint8Array) => KeyObject,
  start: ChainStart = { from: 0, current: root.kid, expPrev: GENESIS_PREV },
): [number, FailReason, string] | undefined {
  // Lines before `start.from` are never looked at (a diagnosis only looks forward).
  const recs: Rec[] = new Array(lines.count);
  for (let i = start.from; i < lines.count; i++) recs[i] = recAt(lines, i);
  const parsed: (ParsedLine | undefined)[] = new Array(recs.length);
  const hashes: (string | undefined)[] = new Array(recs.length);
  const state: ChainState = {
    recs,
    parse: (i) => parsed[i] ??= parseEntryLine(recs[i].bytes),
    hashOf: (i) => hashes[i] ??= sha256Hex(recs[i].bytes),
    seenHashes: new Map(),
    retired: new Map(),
    current: start.current,
    expSeq: start.seq ?? start.from + 1,
    expPrev: start.expPrev,
    where: (i) => `line ${recs[i].line} of ${lines.files[recs[i].file].name}`,
  };
  // A lane's "signed" verdict counts only if made with the very key this pass authenticated.
  const laneKeys = new Map(lanes?.keys.map(([kid, raw]) => [kid, raw]));
  const sameKey = new Map<string, boolean>();
  const laneSigned = (i: number, kid: string, raw: Uint8Array) => {
    if (lanes === undefined || (lanes.flags[i] & SIGNED) === 0) return false;
    let same = sameKey.get(kid);
    if (same === undefined) {
      const laneRaw = laneKeys.get(kid);
      sameKey.set(kid, same = laneRaw !== undefined && Buffer.compare(laneRaw, raw) === 0);
    }
    return same;
  };
  // v1 entries are accepted only before the first v2 entry (format.upgraded after a v1 prefix).
  let v1Open = start.from === 0 && (start.seq ?? 1) === 1;
  for (let i = start.from; i < recs.length; i++) {
    const rec = recs[i];
    if (rec.torn) {
      return [
        i,
        "torn last line",
        `${rec.bytes.length} bytes after the last newline: an append was ` +
        "interrupted; the next append cuts them and records a log.recovered entry",
      ];
    }
    if (rec.bytes.length === 0) return [i, "inserted", "empty line"];
    const p = state.parse(i);
    if (!p.ok) return [i, p.reencoded ? "re-encoded" : "edited", p.detail];
    const e = p.entry;
    const hash = state.hashOf(i);
    const keyRaw = known.get(e.kid);
    let sigOk = false;
    let v1 = false;
    if (keyRaw) {
      sigOk = !p.v1Form &&
        (laneSigned(i, e.kid, keyRaw) || checkLineSignature(rec.bytes, keyObject(e.kid, keyRaw)));
      // A v1 entry (the old signing input) counts only in the history's v1 prefix.
      if (!sigOk && v1Open) v1 = sigOk = checkV1Signature(e, keyObject(e.kid, keyRaw));
    }
    if (!(sigOk && e.kid === state.current && e.seq === state.expSeq && e.prev === state.expPrev)) {
      if (!sigOk && !v1Open && keyRaw && checkV1Signature(e, keyObject(e.kid, keyRaw))) {
        return [i, "downgraded", `a v1 entry after the log moved to v2 (${ACTION.formatUpgraded})`];
      }
      if (p.v1Form && !v1Open) {
        return [
          i,
          "re-encoded",
          "same values, other bytes: not the writer's canonical serialization",
        ];
      }
      const [reason, detail, at] = diagnose(state, i, e, hash, sigOk, !!keyRaw);
      return [at, reason, detail];
    }
    // The entry is authentic and in place.
    if (!v1 && v1Open) {
      // The first v2 entry ends the v1 prefix for good; after v1 entries it must say so.
      v1Open = false;
      if (result.entries > 0 && e.action !== ACTION.formatUpgraded) {
        return [
          i,
          "downgraded",
          `v1 entries end at seq ${state.expSeq - 1} but this first v2 entry is ${e.action}, ` +
          `not ${ACTION.formatUpgraded}`,
        ];
      }
    }
    if (e.action === ACTION.keyRotated) {
      const raw = Buffer.from(String(e.new_public_key ?? ""), "base64");
      if (raw.length !== 32 || kidOf(raw) !== e.new_kid) {
        return [
          i,
          "unknown key",
          "key.rotated entry announces a public key that does not match new_kid",
        ];
      }
      state.retired.set(state.current, e.seq);
      state.current = e.new_kid as string;
      known.set(state.current, new Uint8Array(raw));
    }
    if (!result.keys.includes(e.kid)) result.keys.push(e.kid);
    state.seenHashes.set(hash, i);
    result.entries++;
    result.firstTs ??= e.ts;
    result.lastTs = e.ts;
    result.lastHash = hash;
    state.expSeq++;
    state.expPrev = hash;
  }
  return undefined;
}

/**
 * Checks one canonical line's Ed25519 signature against a public key, over the line's own bytes
 * (`signedBytesOfLine`).
 *
 * @example
 * ```ts
 * import { publicKeyFromRaw } from "./keys.ts";
 * declare const lineBytes: Uint8Array;
 * declare const raw: Uint8Array;
 * checkLineSignature(lineBytes, publicKeyFromRaw(raw)); // true | false
 * ```
 */
export function checkLineSignature(line: Uint8Array, key: KeyObject): boolean {
  const m = signedBytesOfLine(line);
  if (!m) return false;
  try {
    return edVerify(null, m.message, key, m.sig);
  } catch {
    return false;
  }
}
