/**
 * Naming what is wrong with the first line that does not continue the chain. The verdict
 * itself (this line fails) is `verifyHistory`'s; this only tells an edit from a deletion, an
 * insertion or a reordering, by what the line and its neighbours still prove.
 *
 * @example
 * ```ts
 * import type { ChainState } from "./diagnose.ts";
 * import type { AuditEntry } from "./entry.ts";
 * declare const state: ChainState;
 * declare const entry: AuditEntry;
 * import { diagnose } from "./diagnose.ts";
 * const [reason, detail, at] = diagnose(state, 6, entry, "ab12…", true, true);
 * ```
 * @module
 */
import type { AuditEntry, ParsedLine } from "./entry.ts";
import type { Rec } from "./lines.ts";
import type { FailReason } from "./verdict.ts";

/** What the sequential pass knows when a line does not fit. */
export interface ChainState {
  recs: Rec[];
  parse(i: number): ParsedLine;
  hashOf(i: number): string;
  /** Hash of every verified line -> its index. */
  seenHashes: Map<string, number>;
  /** kid -> the seq of the key.rotated entry that retired it. */
  retired: Map<string, number>;
  /** The kid that must sign the next entry. */
  current: string;
  expSeq: number;
  expPrev: string;
  /** "line N of FILE" for line i. */
  where(i: number): string;
}

/**
 * The reason, its detail and the index of the line to blame (the line before, when this line
 * proves that line was replaced). Heuristics, in order of how much they can prove: a line that
 * is not authentic (unknown or retired key, bad signature) was forged or edited; an authentic
 * line out of place was deleted around, reordered or duplicated.
 *
 * @example
 * ```ts
 * import type { AuditEntry } from "./entry.ts";
 * declare const state: ChainState;
 * declare const e: AuditEntry;
 * declare const hash: string;
 * diagnose(state, 3, e, hash, false, true); // ["edited", "signature does not match …", 3]
 * ```
 */
export function diagnose(
  s: ChainState,
  i: number,
  e: AuditEntry,
  hash: string,
  sigOk: boolean,
  keyKnown: boolean,
): [FailReason, string, number] {
  const { recs, expSeq, expPrev, current } = s;
  const copy = s.seenHashes.get(hash);
  if (copy !== undefined) return ["inserted", `exact copy of ${s.where(copy)} re-inserted`, i];
  const next = i + 1 < recs.length && !recs[i + 1].torn ? s.parse(i + 1) : undefined;
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
          s.retired.get(e.kid)
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
      if (s.hashOf(j) === hash) {
        return ["inserted", `copy of ${s.where(j)} inserted ahead of its place`, i];
      }
      const pj = s.parse(j);
      if (later === undefined && pj.ok && pj.entry.seq === expSeq) later = j;
    }
    if (later !== undefined) {
      return [
        "reordered",
        `seq ${e.seq} found where ${expSeq} was expected; ${expSeq} is at ${s.where(later)}`,
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
