/**
 * Splits one output stream of a remote shell into the output of successive steps. Each step's
 * output ends with a line `\n<marker>[ <status>]\n`; the newline before the marker is the
 * framing's own and is removed, so a step's output arrives byte for byte as it printed it.
 *
 * @example
 * ```ts
 * import { MarkedStream } from "./marked_stream.ts";
 * const parts: string[] = [];
 * const stream = new MarkedStream("__m", (text) => parts.push(text));
 * const ends = stream.push("hello\n\n__m 0\n");
 * // parts.join("") === "hello\n", ends[0] === "0"
 * ```
 * @module
 */

/** Feeds text in, hands step output out, and reports each marker line it passes. */
export class MarkedStream {
  #buffer = "";
  readonly #needle: string;

  /**
   * `onMarker`, if given, hears each marker line in its place among the text: what came before
   * it has been handed to `onText`, nothing after it yet.
   */
  constructor(
    readonly marker: string,
    readonly onText: (text: string) => void,
    readonly onMarker?: (end: string) => void,
  ) {
    this.#needle = `\n${marker}`;
  }

  /**
   * Takes the next piece of the stream. Returns what followed the marker on each marker line
   * completed by this piece (`"0"` for `\n<marker> 0\n`, `""` for a bare marker).
   */
  push(text: string): string[] {
    this.#buffer += text;
    const ends: string[] = [];
    while (true) {
      const at = this.#buffer.indexOf(this.#needle);
      if (at < 0) break;
      const lineEnd = this.#buffer.indexOf("\n", at + this.#needle.length);
      if (lineEnd < 0) {
        this.#emit(this.#buffer.slice(0, at));
        this.#buffer = this.#buffer.slice(at);
        return ends;
      }
      this.#emit(this.#buffer.slice(0, at));
      const end = this.#buffer.slice(at + this.#needle.length, lineEnd).trim();
      this.#buffer = this.#buffer.slice(lineEnd + 1);
      ends.push(end);
      this.onMarker?.(end);
    }
    // Hold back a tail that could be the start of a marker split across pieces.
    const keep = this.#partialMarkerLength();
    this.#emit(this.#buffer.slice(0, this.#buffer.length - keep));
    this.#buffer = this.#buffer.slice(this.#buffer.length - keep);
    return ends;
  }

  /** Whatever is held back, for a stream that ended without its marker. */
  drain(): string {
    const rest = this.#buffer;
    this.#buffer = "";
    return rest;
  }

  #partialMarkerLength(): number {
    const max = Math.min(this.#needle.length, this.#buffer.length);
    for (let n = max; n > 0; n--) {
      if (this.#needle.startsWith(this.#buffer.slice(this.#buffer.length - n))) return n;
    }
    return 0;
  }

  #emit(text: string): void {
    if (text) this.onText(text);
  }
}
