/**
 * The sequential pass over per-line verdicts (`sig_lanes.ts`) for the common case, a history
 * where every line is clean: each line parsed, in place, chained and signed by the key the chain
 * says is current. It reads one flag byte and one key index per line and parses only the
 * `key.rotated` lines (to follow the chain of keys) and the first and last line. Anything else
 * — a torn, unparsed, misplaced or unsigned line, a key that is not current, a v1 entry — gives
 * undefined, and the full pass in `verify_core.ts` judges the history and names what is wrong.
 *
 * @example
 * ```ts
 * import type { LaneJob } from "./sig_lanes.ts";
 * import type { HistoryLines } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * declare const lines: HistoryLines;
 * declare const root: TrustRoot;
 * declare const lanes: LaneJob;
 * import { cleanHistory } from "./fast_verify.ts";
 * const clean = cleanHistory(lines, root, lanes); // undefined: take the full pass
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { parseEntryLine, sha256Hex } from "./entry.ts";
import { kidOf } from "./keys.ts";
import { type HistoryLines, lineBytes } from "./lines.ts";
import { CLEAN, type LaneJob, ROTATION } from "./sig_lanes.ts";
import type { TrustRoot } from "./verdict.ts";

/** What a clean history verified to. */
export interface CleanHistory {
  entries: number;
  firstTs?: string;
  lastTs?: string;
  lastHash?: string;
  /** Key ids that signed entries, in order of first use. */
  keys: string[];
  /** Every key the chain introduced (the trust root first), for checkpoint signatures. */
  known: Map<string, Uint8Array>;
}

/**
 * The verdict for a history whose every line is clean, or undefined when any line needs the
 * full pass. Never accepts what the full pass would reject: it requires every flag the full
 * pass checks, and follows the same key chain.
 *
 * @example
 * ```ts
 * import type { LaneJob } from "./sig_lanes.ts";
 * import type { HistoryLines } from "./lines.ts";
 * import type { TrustRoot } from "./verdict.ts";
 * declare const lines: HistoryLines;
 * declare const root: TrustRoot;
 * declare const lanes: LaneJob;
 * cleanHistory(lines, root, lanes)?.entries;
 * ```
 */
export function cleanHistory(
  lines: HistoryLines,
  root: TrustRoot,
  lanes: LaneJob,
): CleanHistory | undefined {
  const known = new Map<string, Uint8Array>([[root.kid, root.publicKeyRaw]]);
  let current = lanes.keys.findIndex(([kid]) => kid === root.kid);
  if (current === -1 || !sameBytes(lanes.keys[current][1], root.publicKeyRaw)) return undefined;
  if (lanes.flags.length !== lines.count || lines.torn.size > 0) return undefined;
  const keys: string[] = [];
  let lastKid = -1;
  for (let i = 0; i < lines.count; i++) {
    const flags = lanes.flags[i];
    if ((flags & CLEAN) !== CLEAN || lanes.kidIndex[i] !== current) {
      return undefined;
    }
    if (current !== lastKid) {
      if (!keys.includes(lanes.keys[current][0])) keys.push(lanes.keys[current][0]);
      lastKid = current;
    }
    if (flags & ROTATION) {
      const p = parseEntryLine(lineBytes(lines, i));
      if (!p.ok) return undefined;
      const newKid = p.entry.new_kid;
      const raw = new Uint8Array(Buffer.from(String(p.entry.new_public_key ?? ""), "base64"));
      if (raw.length !== 32 || kidOf(raw) !== newKid) return undefined;
      current = lanes.keys.findIndex(([kid]) => kid === newKid);
      if (current === -1 || !sameBytes(lanes.keys[current][1], raw)) return undefined;
      known.set(newKid, raw);
    }
  }
  const last = lines.count - 1;
  const ends = lines.count ? [0, last].map((i) => parseEntryLine(lineBytes(lines, i))) : [];
  const [firstEntry, lastEntry] = ends.map((p) => p.ok ? p.entry : undefined);
  return {
    entries: lines.count,
    firstTs: firstEntry?.ts,
    lastTs: lastEntry?.ts,
    lastHash: lines.count ? sha256Hex(lineBytes(lines, last)) : undefined,
    keys,
    known,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
