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
import {
  type AuditEntry,
  GENESIS_PREV,
  type ParsedLine,
  parseEntryLine,
  sha256Hex,
  signedBytesOfLine,
} from "./entry.ts";
import { kidOf, publicKeyFromRaw } from "./keys.ts";
import { ACTION } from "./actions.ts";
import { checkV1Signature } from "./legacy_v1.ts";
import { cleanHistory } from "./fast_verify.ts";
import { type LaneJob, SIGNED } from "./sig_lanes.ts";
import { AuditInputError } from "./errors.ts";
import { type Checkpoint, checkpointSigner } from "./checkpoint_core.ts";
import { leafHash, rootsAtSizes } from "./merkle.ts";

/** The fixed set of reasons a verification can fail with. */
export type FailReason =
  | "edited"
  | "re-encoded"
  | "downgraded"
  | "inserted"
  | "deleted"
  | "reordered"
  | "bad signature"
  | "unknown key"
  | "torn last line"
  | "shorter than the checkpoint"
  | "rewritten since the checkpoint";

/** Where and why verification stopped. `line` is 1-based within `file`. */
export interface BadLine {
  line: number;
  file: string;
  reason: FailReason;
  detail: string;
}

/** A verdict over the whole history. */
export interface VerifyResult {
  ok: boolean;
  /** Entries that verified before the first bad line (all of them when ok). */
  entries: number;
  files: string[];
  firstTs?: string;
  lastTs?: string;
  /** Key ids that signed verified entries, in order of first use. */
  keys: string[];
  /** SHA-256 of the last verified line (what a checkpoint records). */
  lastHash?: string;
  firstBad?: BadLine;
  /** Checkpoints the history matched (size and where each came from). */
  checkpoints: { size: number; kid: string; source: string }[];
}

/** One file of the history, oldest first. */
export interface HistoryFile {
  name: string;
  bytes: Uint8Array;
}

/** The key trusted to sign the first entry. */
export interface TrustRoot {
  kid: string;
  publicKeyRaw: Uint8Array;
}

/**
 * Signature verdicts made ahead (by the lanes), indexed by global line position. A `1` is only
 * taken when made with the very key the sequential pass authenticated for that kid; anything
 * else is checked here again.
 */
interface SignatureHints {
  valid: Uint8Array;
  /** kid -> base64 raw public key the verdicts were made with. */
  keys: Map<string, string>;
}

/** One line of the history: which file, which line, its bytes, and whether it lacks its newline. */
export interface Rec {
  file: number;
  line: number;
  bytes: Uint8Array;
  torn: boolean;
}

/**
 * Splits files into lines at the byte level (hashes must cover the exact bytes), marking a
 * final segment without a newline as torn.
 *
 * @example
 * ```ts
 * splitLines([{ name: "f", bytes: new TextEncoder().encode("a\nb") }]); // [a, b(torn)]
 * ```
 */
export function splitLines(files: HistoryFile[]): Rec[] {
  const recs: Rec[] = [];
  files.forEach((f, fi) => {
    let start = 0;
    let line = 1;
    const b = f.bytes;
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, start)) {
      recs.push({ file: fi, line: line++, bytes: b.subarray(start, i), torn: false });
      start = i + 1;
    }
    if (start < b.length) recs.push({ file: fi, line, bytes: b.subarray(start), torn: true });
  });
  return recs;
}

/**
 * Verifies a history. Stops at the first bad line and names a reason from `FailReason`.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "./checkpoint_core.ts";
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
    recs?: Rec[];
  } = {},
): VerifyResult {
  const recs = options.recs ?? splitLines(files);
  const parsed: (ParsedLine | undefined)[] = new Array(recs.length);
  const hashes: (string | undefined)[] = new Array(recs.length);
  const parse = (i: number): ParsedLine => (parsed[i] ??= parseEntryLine(recs[i].bytes));
  const hashOf = (i: number): string => (hashes[i] ??= sha256Hex(recs[i].bytes));
  const keyObjects = new Map<string, KeyObject>();
  const keyObject = (kid: string, raw: Uint8Array) => {
    let k = keyObjects.get(kid);
    if (!k) keyObjects.set(kid, k = publicKeyFromRaw(raw));
    return k;
  };
  const b64Cache = new Map<string, string>();
  const b64 = (kid: string, raw: Uint8Array) => {
    let v = b64Cache.get(kid);
    if (v === undefined) b64Cache.set(kid, v = Buffer.from(raw).toString("base64"));
    return v;
  };
  const result: VerifyResult = {
    ok: true,
    entries: 0,
    files: files.map((f) => f.name),
    keys: [],
    checkpoints: [],
  };
  const seenHashes = new Map<string, number>();
  const retired = new Map<string, number>();
  const known = new Map<string, Uint8Array>([[root.kid, root.publicKeyRaw]]);
  let current = root.kid;
  let expSeq = 1;
  let expPrev = GENESIS_PREV;
  let rootCache: Map<number, Uint8Array> | undefined;
  // v1 entries are accepted only before the first v2 entry (format.upgraded after a v1 prefix).
  let v1Open = true;
  const fail = (i: number, reason: FailReason, detail: string): VerifyResult => {
    const r = recs[i] ?? { file: files.length - 1, line: countLines(recs, files.length - 1) + 1 };
    result.ok = false;
    result.firstBad = { line: r.line, file: files[r.file]?.name ?? "", reason, detail };
    return result;
  };
  const where = (i: number) => `line ${recs[i].line} of ${files[recs[i].file].name}`;

  const clean = options.lanes && cleanHistory(recs, root, options.lanes);
  if (clean) {
    const { known: chainKeys, ...verdict } = clean;
    Object.assign(result, verdict);
    for (const [kid, raw] of chainKeys) known.set(kid, raw);
  }
  const hints = options.lanes && hintsOf(options.lanes);
  for (let i = clean ? recs.length : 0; i < recs.length; i++) {
    const rec = recs[i];
    if (rec.torn) {
      return fail(
        i,
        "torn last line",
        `${rec.bytes.length} bytes after the last newline: an append was ` +
          "interrupted; the next append cuts them and records a log.recovered entry",
      );
    }
    if (rec.bytes.length === 0) return fail(i, "inserted", "empty line");
    const p = parse(i);
    if (!p.ok) return fail(i, p.reencoded ? "re-encoded" : "edited", p.detail);
    const e = p.entry;
    const hash = hashOf(i);
    const keyRaw = known.get(e.kid);
    let sigOk = false;
    let v1 = false;
    if (keyRaw) {
      sigOk = !p.v1Form && ((hints !== undefined && hints.valid[i] === 1 &&
        hints.keys.get(e.kid) === b64(e.kid, keyRaw)) ||
        checkLineSignature(rec.bytes, keyObject(e.kid, keyRaw)));
      // A v1 entry (the old signing input) counts only in the history's v1 prefix.
      if (!sigOk && v1Open) v1 = sigOk = checkV1Signature(e, keyObject(e.kid, keyRaw));
    }
    if (!(sigOk && e.kid === current && e.seq === expSeq && e.prev === expPrev)) {
      const [reason, detail, at]: [FailReason, string, number] = !sigOk && !v1Open && keyRaw &&
          checkV1Signature(e, keyObject(e.kid, keyRaw))
        ? ["downgraded", `a v1 entry after the log moved to v2 (${ACTION.formatUpgraded})`, i]
        : p.v1Form && !v1Open
        ? ["re-encoded", "same values, other bytes: not the writer's canonical serialization", i]
        : diagnose(i, e, hash, sigOk, !!keyRaw);
      return fail(at, reason, detail);
    }
    // The entry is authentic and in place.
    if (!v1 && v1Open) {
      // The first v2 entry ends the v1 prefix for good; after v1 entries it must say so.
      v1Open = false;
      if (result.entries > 0 && e.action !== ACTION.formatUpgraded) {
        return fail(
          i,
          "downgraded",
          `v1 entries end at seq ${expSeq - 1} but this first v2 entry is ${e.action}, ` +
            `not ${ACTION.formatUpgraded}`,
        );
      }
    }
    if (e.action === "key.rotated") {
      const raw = Buffer.from(String(e.new_public_key ?? ""), "base64");
      if (raw.length !== 32 || kidOf(raw) !== e.new_kid) {
        return fail(
          i,
          "unknown key",
          "key.rotated entry announces a public key that does not match new_kid",
        );
      }
      retired.set(current, e.seq);
      current = e.new_kid as string;
      known.set(current, new Uint8Array(raw));
    }
    if (!result.keys.includes(e.kid)) result.keys.push(e.kid);
    seenHashes.set(hash, i);
    result.entries++;
    result.firstTs ??= e.ts;
    result.lastTs = e.ts;
    result.lastHash = hash;
    expSeq++;
    expPrev = hash;
  }
  for (const cp of options.checkpoints ?? []) {
    const bad = checkAgainstCheckpoint(cp);
    if (bad) return bad;
  }
  return result;

  // A checkpoint counts only when a key of this history signed it: an unknown or forged one is
  // bad input (thrown, exit 2), never evidence that could mark an intact log as cut.
  function checkAgainstCheckpoint(cp: Checkpoint): VerifyResult | undefined {
    const where = cp.source ?? "checkpoint";
    const signer = checkpointSigner(cp, known, keyObject);
    if (!signer) {
      throw new AuditInputError(
        `${where} (${cp.origin}, size ${cp.size}) is signed by no key of this history: ` +
          "it belongs to another log, or this log was cut before the key that signed it was introduced",
      );
    }
    if (!signer.valid) {
      throw new AuditInputError(`${where}: signature does not verify under key ${signer.kid}`);
    }
    if (result.entries < cp.size) {
      return fail(
        recs.length,
        "shorter than the checkpoint",
        `the log has ${result.entries} entries but ${where} recorded ${cp.size}: ` +
          "entries were cut from the end",
      );
    }
    const root = rootsAt([cp.size]).get(cp.size)!;
    if (Buffer.compare(root, cp.root) !== 0) {
      const at = lineOfEntry(cp.size);
      return fail(
        at,
        "rewritten since the checkpoint",
        `the first ${cp.size} entries do not hash to the root ${where} recorded: ` +
          "the history up to there was replaced after the checkpoint",
      );
    }
    result.checkpoints.push({ size: cp.size, kid: signer.kid, source: where });
    return undefined;
  }

  function rootsAt(sizes: number[]): Map<number, Uint8Array> {
    rootCache ??= rootsAtSizes(
      leafHashes(),
      (options.checkpoints ?? []).map((c) => c.size).filter((n) => n <= result.entries),
    );
    const missing = sizes.filter((n) => !rootCache!.has(n));
    if (missing.length) {
      for (const [k, v] of rootsAtSizes(leafHashes(), missing)) rootCache.set(k, v);
    }
    return rootCache;
  }

  function* leafHashes(): Generator<Uint8Array> {
    for (let i = 0, n = 0; i < recs.length && n < result.entries; i++, n++) {
      yield leafHash(recs[i].bytes);
    }
  }

  // Verified entries are the first `entries` recs, one per line.
  function lineOfEntry(n: number): number {
    return Math.max(0, Math.min(n, recs.length) - 1);
  }

  // Heuristics, in order of how much they can prove. A line that is not authentic (unknown or
  // retired key, bad signature) was forged or edited; an authentic line out of place was
  // deleted around, reordered or duplicated.
  function diagnose(
    i: number,
    e: AuditEntry,
    hash: string,
    sigOk: boolean,
    keyKnown: boolean,
  ): [FailReason, string, number] {
    const copy = seenHashes.get(hash);
    if (copy !== undefined) return ["inserted", `exact copy of ${where(copy)} re-inserted`, i];
    const next = i + 1 < recs.length && !recs[i + 1].torn ? parse(i + 1) : undefined;
    const authentic = keyKnown && sigOk && e.kid === current;
    if (!authentic) {
      const why = !keyKnown
        ? `signed by unknown key ${e.kid}`
        : !sigOk
        ? "its signature does not verify"
        : `signed by retired key ${e.kid}`;
      if (next?.ok && next.entry.seq === expSeq && next.entry.prev === expPrev) {
        return ["inserted", `extra line (${why}); the next line chains to the line before it`, i];
      }
      if (!keyKnown) {
        return [
          "unknown key",
          `key ${e.kid} is neither the trust root nor announced by key.rotated`,
          i,
        ];
      }
      if (sigOk) {
        return [
          "unknown key",
          `key ${e.kid} was retired at seq ${
            retired.get(e.kid)
          }; later entries must be signed by ${current}`,
          i,
        ];
      }
      return next?.ok && next.entry.prev === hash
        ? [
          "bad signature",
          "the next entry chains to these exact bytes, yet the signature does not verify",
          i,
        ]
        : ["edited", "signature does not match the content (bytes changed after signing)", i];
    }
    if (e.seq > expSeq) {
      let later: number | undefined;
      for (let j = i + 1; j < recs.length; j++) {
        if (recs[j].torn) break;
        if (hashOf(j) === hash) {
          return ["inserted", `copy of ${where(j)} inserted ahead of its place`, i];
        }
        const pj = parse(j);
        if (later === undefined && pj.ok && pj.entry.seq === expSeq) later = j;
      }
      if (later !== undefined) {
        return [
          "reordered",
          `seq ${e.seq} found where ${expSeq} was expected; ${expSeq} is at ${where(later)}`,
          i,
        ];
      }
      const n = e.seq - expSeq;
      return [
        "deleted",
        `seq jumps from ${expSeq - 1} to ${e.seq}: ${n} ${
          n === 1 ? "entry" : "entries"
        } missing before this line`,
        i,
      ];
    }
    if (e.seq < expSeq) {
      return ["inserted", `seq ${e.seq} repeats or goes backwards (expected ${expSeq})`, i];
    }
    // Right seq, valid signature, wrong prev: the line before is authentic but not the one this
    // entry was chained to, so it was replaced after this entry was written.
    return [
      "edited",
      "prev does not match the line before: that line was replaced after this one was written",
      i > 0 ? i - 1 : i,
    ];
  }
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

// The lanes' signature verdicts as hints for the full pass (a history that was not clean).
function hintsOf(lanes: LaneJob): SignatureHints {
  return {
    valid: lanes.flags.map((f) => f & SIGNED ? 1 : 0),
    keys: new Map(lanes.keys.map(([kid, raw]) => [kid, Buffer.from(raw).toString("base64")])),
  };
}

function countLines(recs: Rec[], file: number): number {
  let n = 0;
  for (const r of recs) if (r.file === file) n++;
  return n;
}
