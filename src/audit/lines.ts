/**
 * The history as lines: where each line of each file starts and ends, at the byte level (hashes
 * cover the exact bytes), as offsets into one buffer rather than an object per line, because
 * verification walks 100k lines and mostly needs only their bounds. `recAt` makes the object
 * for the lines a caller looks at closely.
 *
 * @example
 * ```ts
 * import { historyLines, recAt } from "./lines.ts";
 * const lines = historyLines([{ name: "f", bytes: new TextEncoder().encode("a\nb") }]);
 * lines.count; // 2
 * recAt(lines, 1); // { file: 0, line: 2, bytes: "b", torn: true }
 * ```
 * @module
 */

/** One file of the history, oldest first. */
export interface HistoryFile {
  name: string;
  bytes: Uint8Array;
}

/** One line of the history: which file, which line, its bytes, and whether it lacks its newline. */
export interface Rec {
  file: number;
  line: number;
  bytes: Uint8Array;
  torn: boolean;
}

/** Every line of a history as bounds in one buffer. */
export interface HistoryLines {
  files: HistoryFile[];
  /** Every file's bytes in one view: the buffer `loadHistory` read them into, else a copy. */
  bytes: Uint8Array;
  /** Line i is `bytes[bounds[2i], bounds[2i+1])` (shared memory: the workers read it). */
  bounds: Int32Array;
  /** Index of each file's first line. */
  firstLine: number[];
  /** The lines that end a file without a newline (at most one per file). */
  torn: Set<number>;
  count: number;
}

/**
 * Finds every line of the files. A final segment without a newline is a torn line.
 *
 * @example
 * ```ts
 * const lines = historyLines([{ name: "f", bytes: new TextEncoder().encode("a\n") }]);
 * lines.bounds; // [0, 1]
 * ```
 */
export function historyLines(files: HistoryFile[]): HistoryLines {
  const { view, base } = oneView(files);
  // One pass, into an array that doubles as needed (a line is rarely under 150 bytes).
  let bounds = new Int32Array(2 * Math.max(16, Math.ceil(view.length / 150)));
  const firstLine: number[] = [];
  const torn = new Set<number>();
  let count = 0;
  const add = (start: number, end: number) => {
    if (2 * count === bounds.length) {
      const grown = new Int32Array(bounds.length * 2);
      grown.set(bounds);
      bounds = grown;
    }
    bounds[2 * count] = start;
    bounds[2 * count++ + 1] = end;
  };
  for (let fi = 0; fi < files.length; fi++) {
    firstLine.push(count);
    const b = files[fi].bytes;
    const at = b.byteOffset + base[fi];
    let start = 0;
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, start)) {
      add(at + start, at + i);
      start = i + 1;
    }
    if (start < b.length) {
      torn.add(count);
      add(at + start, at + b.length);
    }
  }
  // The workers read the bounds: shared memory, exactly one pair per line.
  const shared = new Int32Array(new SharedArrayBuffer(count * 8));
  shared.set(bounds.subarray(0, 2 * count));
  return { files, bytes: view, bounds: shared, firstLine, torn, count };
}

/**
 * Line i as an object.
 *
 * @example
 * ```ts
 * declare const lines: HistoryLines;
 * const { file, line, bytes, torn } = recAt(lines, 0);
 * ```
 */
export function recAt(lines: HistoryLines, i: number): Rec {
  // The last file whose first line is at or before i (binary search: histories of many files).
  let lo = 0, hi = lines.firstLine.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines.firstLine[mid] <= i) lo = mid;
    else hi = mid - 1;
  }
  const file = lo;
  return {
    file,
    line: i - lines.firstLine[file] + 1,
    bytes: lines.bytes.subarray(lines.bounds[2 * i], lines.bounds[2 * i + 1]),
    torn: lines.torn.has(i),
  };
}

/**
 * The bytes of line i (without its newline).
 *
 * @example
 * ```ts
 * declare const lines: HistoryLines;
 * const first = lineBytes(lines, 0);
 * ```
 */
export function lineBytes(lines: HistoryLines, i: number): Uint8Array {
  return lines.bytes.subarray(lines.bounds[2 * i], lines.bounds[2 * i + 1]);
}

/**
 * Every line of the files as objects, oldest first.
 *
 * @example
 * ```ts
 * splitLines([{ name: "f", bytes: new TextEncoder().encode("a\nb") }]); // [a, b(torn)]
 * ```
 */
export function splitLines(files: HistoryFile[]): Rec[] {
  const lines = historyLines(files);
  return Array.from({ length: lines.count }, (_, i) => recAt(lines, i));
}

// The files' bytes as one view: the buffer they already share (`loadHistory` reads every file
// into one), else one copy in shared memory. A line of file f starting at byteOffset o in its
// own view starts at o + base[f] in `view`.
function oneView(files: HistoryFile[]): { view: Uint8Array; base: number[] } {
  const buffer = files[0]?.bytes.buffer;
  if (buffer && files.every((f) => f.bytes.buffer === buffer)) {
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
