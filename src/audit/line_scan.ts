/**
 * A single pass over a line's bytes that recognizes the common case of a canonical v2 entry
 * without decoding or parsing it: printable ASCII, no escapes, fields in canonical order, values
 * that are plain strings, small integers or booleans. Verification runs it on every line, so it
 * must cost a fraction of `JSON.parse` + `JSON.stringify`; anything it does not recognize (a
 * non-ASCII value, an escape, a fraction) is left to the strict parser (`parseEntryLine`).
 *
 * Soundness is one-way: every line this accepts, `parseEntryLine` accepts as a canonical v2
 * entry with the same seq, action, prev and kid (test/audit/line_scan_test.ts checks it on
 * mutated lines). A canonical line ends in fixed-width fields, so `prev` and `kid` are read at
 * fixed offsets from its end (`PREV_FROM_END`, `KID_FROM_END`).
 *
 * @example
 * ```ts
 * import { scanCanonicalLine } from "./line_scan.ts";
 * declare const lineBytes: Uint8Array;
 * const out = { seq: 0, rotation: false };
 * if (scanCanonicalLine(lineBytes, out)) console.log(out.seq); // else: parseEntryLine
 * ```
 * @module
 */
import { BASE64_VALUE } from "./signed_bytes.ts";

/** What a recognized line tells beyond its fixed-offset fields. */
export interface ScannedLine {
  seq: number;
  /** The action is `key.rotated`. */
  rotation: boolean;
}

/** Where the 64 hex chars of `prev` start, counted back from the end of a canonical line. */
export const PREV_FROM_END = 188; // `"prev":"`<64>`","kid":"`<16>`","sig":"`<88>`"}`
/** Where the 16 hex chars of `kid` start, counted back from the end of a canonical line. */
export const KID_FROM_END = 115;
/**
 * The bytes a `key.rotated` entry's line holds, found by one search of a whole history: unescaped
 * they appear only as an entry's own action (inside a string value the quotes are escaped).
 * Whatever a search finds is still parsed and checked by its caller.
 */
export const ROTATION_MARK: Uint8Array = new TextEncoder().encode(`"action":"key.rotated"`);

const QUOTE = 0x22;
const enc = new TextEncoder();
const LEADING = ["seq", "ts", "host", "user", "action"].map((k) => enc.encode(k));
const TRAILING = ["status", "prev", "kid", "sig"].map((k) => enc.encode(k));
const FIXED = [...LEADING, ...TRAILING];
const ROTATED = enc.encode("key.rotated");
// Per field: name start, name end, value start, value end, value kind.
const STRING = 0, NUMBER = 1, BOOLEAN = 2;
const MAX_FIELDS = 128;
const fields = new Int32Array(MAX_FIELDS * 5);

/**
 * True when `b` is a canonical v2 entry line of the common kind; fills `out`. False means
 * "not recognized", not "invalid": the caller then asks the strict parser.
 *
 * @example
 * ```ts
 * const out = { seq: 0, rotation: false };
 * scanCanonicalLine(new TextEncoder().encode('{"seq":1}'), out); // false: not an entry
 * ```
 */
export function scanCanonicalLine(b: Uint8Array, out: ScannedLine): boolean {
  const n = b.length;
  if (n < PREV_FROM_END + 40 || b[0] !== 0x7b || b[n - 1] !== 0x7d) return false;
  let i = 1;
  let count = 0;
  for (;;) {
    if (count === MAX_FIELDS || b[i] !== QUOTE) return false;
    const nameStart = ++i;
    let c = b[i];
    if (c < 0x61 || c > 0x7a) return false; // [a-z][a-z0-9_]{0,31}
    for (c = b[++i]; c !== QUOTE; c = b[++i]) {
      if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f)) return false;
    }
    const nameEnd = i;
    if (nameEnd - nameStart > 32 || b[++i] !== 0x3a) return false;
    const valueStart = ++i;
    let kind: number;
    c = b[i];
    if (c === QUOTE) {
      // Printable ASCII without `"` or `\`: exactly what JSON.stringify writes back for it.
      for (c = b[++i]; c !== QUOTE; c = b[++i]) {
        // (undefined past the end fails the range test too)
        if (!(c >= 0x20 && c <= 0x7e) || c === 0x5c) return false;
      }
      i++;
      kind = STRING;
    } else if (c === 0x74 || c === 0x66) {
      const word = c === 0x74 ? "true" : "false";
      for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
      i += word.length;
      kind = BOOLEAN;
    } else {
      // -?(0|[1-9][0-9]{0,14}) but not -0: integers that round-trip through a double.
      if (c === 0x2d) c = b[++i];
      if (c === 0x30) {
        if (i !== valueStart) return false;
        i++;
      } else {
        if (c < 0x31 || c > 0x39) return false;
        const digits = i;
        for (c = b[++i]; c >= 0x30 && c <= 0x39; c = b[++i]);
        if (i - digits > 15) return false;
      }
      kind = NUMBER;
    }
    const f = count++ * 5;
    fields[f] = nameStart;
    fields[f + 1] = nameEnd;
    fields[f + 2] = valueStart;
    fields[f + 3] = i;
    fields[f + 4] = kind;
    if (b[i] === 0x2c) {
      i++;
      continue;
    }
    if (b[i] !== 0x7d || i !== n - 1) return false;
    break;
  }
  return fieldsAreCanonical(b, count, out);
}

// The names in canonical order (fixed leading and trailing names, the rest strictly ascending
// and none of the fixed ones) and the fixed fields' types and forms.
function fieldsAreCanonical(b: Uint8Array, count: number, out: ScannedLine): boolean {
  const lead = LEADING.length, trail = TRAILING.length;
  if (count < lead + trail) return false;
  for (let k = 0; k < lead; k++) if (!nameIs(b, k, LEADING[k])) return false;
  for (let k = 0; k < trail; k++) if (!nameIs(b, count - trail + k, TRAILING[k])) return false;
  for (let k = lead; k < count - trail; k++) {
    for (const name of FIXED) if (nameIs(b, k, name)) return false;
    if (k > lead && compareNames(b, k - 1, k) >= 0) return false;
  }
  // seq: a positive integer (the scan allowed no fraction, no exponent, at most 15 digits).
  if (fields[4] !== NUMBER || b[fields[2]] === 0x2d || b[fields[2]] === 0x30) return false;
  let seq = 0;
  for (let i = fields[2]; i < fields[3]; i++) seq = seq * 10 + b[i] - 0x30;
  for (const k of [1, 2, 3, 4, count - 4]) if (fields[k * 5 + 4] !== STRING) return false;
  // action: [a-z][a-z0-9_.-]{0,31}
  const as = fields[4 * 5 + 2] + 1, ae = fields[4 * 5 + 3] - 1;
  if (ae - as < 1 || ae - as > 32 || b[as] < 0x61 || b[as] > 0x7a) return false;
  for (let i = as + 1; i < ae; i++) {
    const c = b[i];
    if (
      !((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e ||
        c === 0x2d)
    ) return false;
  }
  // prev, kid, sig: fixed widths, so they sit at fixed offsets from the end.
  const n = b.length;
  if (!isQuoted(count - 3, 64) || !isQuoted(count - 2, 16) || !isQuoted(count - 1, 88)) {
    return false;
  }
  if (!lowerHex(b, n - PREV_FROM_END, 64) || !lowerHex(b, n - KID_FROM_END, 16)) return false;
  if (!strictSig(b, n - 90)) return false;
  out.seq = seq;
  out.rotation = ae - as === ROTATED.length && ROTATED.every((c, k) => b[as + k] === c);
  return true;
}

function isQuoted(k: number, width: number): boolean {
  return fields[k * 5 + 4] === STRING && fields[k * 5 + 3] - fields[k * 5 + 2] === width + 2;
}

function nameIs(b: Uint8Array, k: number, name: Uint8Array): boolean {
  const s = fields[k * 5], e = fields[k * 5 + 1];
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (b[s + i] !== name[i]) return false;
  return true;
}

// Byte order is string order for ASCII names.
function compareNames(b: Uint8Array, x: number, y: number): number {
  const xs = fields[x * 5], xe = fields[x * 5 + 1], ys = fields[y * 5], ye = fields[y * 5 + 1];
  for (let i = 0; i < xe - xs && i < ye - ys; i++) {
    if (b[xs + i] !== b[ys + i]) return b[xs + i] - b[ys + i];
  }
  return (xe - xs) - (ye - ys);
}

function lowerHex(b: Uint8Array, at: number, width: number): boolean {
  for (let i = at; i < at + width; i++) {
    const c = b[i];
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

// 86 base64 chars, the last with zero low bits, then "==": the one encoding of 64 bytes.
function strictSig(b: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 85; i++) if (BASE64_VALUE[b[i]] < 0) return false;
  const last = b[at + 85];
  return (last === 0x41 || last === 0x51 || last === 0x67 || last === 0x77) &&
    b[at + 86] === 0x3d && b[at + 87] === 0x3d;
}
