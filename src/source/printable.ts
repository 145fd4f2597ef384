/**
 * Text from files and arguments made safe to print: control characters and terminal escape
 * sequences (ESC, CSI, carriage return, C1 controls) are shown as `\xNN` / `\u{NNNN}` instead
 * of being sent raw, so a key in a YAML file cannot retitle, clear or overwrite the terminal.
 * Newlines and tabs stay: messages span lines on purpose.
 *
 * @example
 * ```ts
 * import { printable } from "./printable.ts";
 * printable("key\x1b]0;owned\x07"); // "key\\x1b]0;owned\\x07"
 * printable("two\nlines"); // unchanged
 * ```
 * @module
 */

/**
 * What must not reach a terminal raw: C0 controls but tab and newline, DEL, the C1 range, and
 * the bidi embeddings, overrides and isolates that reorder text. The one list, for messages
 * here and for what the CLI prints (`cli/terminal_text.ts`).
 *
 * @example
 * ```ts
 * import { UNSAFE } from "./printable.ts";
 * "a\x1b[2Jb".replace(UNSAFE, "?"); // "a?[2Jb"
 * ```
 */
// deno-lint-ignore no-control-regex
export const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every unsafe character escaped.
 *
 * @example
 * ```ts
 * import { printable } from "./printable.ts";
 * printable("a\rb"); // "a\\x0db"
 * ```
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u{${code.toString(16)}}`;
  });
}
