/**
 * Text for the operator's terminal, where a line may carry what a node printed: a compromised
 * or confused node must not be able to drive the terminal through its step output — move the
 * cursor over earlier progress lines, erase them, return to the start of a line (`\r`) to
 * print `✔` over a failure, set the clipboard (OSC 52), the title or a hyperlink, hide text, or
 * reorder it (bidi overrides). Every control character is shown as an escape instead; only the
 * tool's own colours (`paint` in `progress.ts`) pass. Pure: the run record and the evidence keep
 * the bytes as printed.
 *
 * @example
 * ```ts
 * import { terminalText } from "./terminal_text.ts";
 * terminalText("ok\r\x1b[2Kfake \x1b]52;c;aGk=\x07"); // "ok\\r\\x1b[2Kfake \\x1b]52;c;aGk=\\x07"
 * terminalText("\x1b[31mfailed\x1b[0m"); // unchanged: the tool's own colour
 * ```
 * @module
 */
import { UNSAFE } from "../source/printable.ts";

/** The tool's own colours: reset, bold, dim, red, green, yellow (`\x1b[Nm`). */
// deno-lint-ignore no-control-regex
const OWN_COLOUR = /\x1b\[(?:0|1|2|31|32|33)m/g;

/**
 * `text` with every control character but tab and newline written as an escape (`\r`,
 * `\x1b`, `\u202e`), the tool's own colour sequences kept.
 *
 * @example
 * ```ts
 * import { terminalText } from "./terminal_text.ts";
 * terminalText("50%\r100%"); // "50%\\r100%"
 * ```
 */
export function terminalText(text: string): string {
  let out = "";
  let from = 0;
  for (const colour of text.matchAll(OWN_COLOUR)) {
    out += visible(text.slice(from, colour.index)) + colour[0];
    from = colour.index + colour[0].length;
  }
  return out + visible(text.slice(from));
}

function visible(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === "\r") return "\\r";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Which console methods write to which stream. */
const CONSOLE_STREAMS = [
  ["log", Deno.stdout],
  ["info", Deno.stdout],
  ["debug", Deno.stdout],
  ["warn", Deno.stderr],
  ["error", Deno.stderr],
] as const;

let guarded = false;

/**
 * Makes the console show control characters as escapes ({@link terminalText}) while it writes
 * to a terminal: the one guard for every line a command prints there, whatever it quotes — a
 * node's log lines (`docker:logs`), release records and status read from nodes, a check's
 * error. Pipes and files get their bytes as they are (JSON escapes controls itself). Installed
 * once, by `main`; later calls do nothing.
 *
 * @example
 * ```ts
 * import { guardConsole } from "./terminal_text.ts";
 * guardConsole();
 * console.log("web-1: \x1b]52;c;aGk=\x07"); // on a terminal: web-1: \x1b]52;c;aGk=\x07
 * ```
 */
export function guardConsole(): void {
  if (guarded) return;
  guarded = true;
  for (const [method, stream] of CONSOLE_STREAMS) {
    if (!stream.isTerminal()) continue;
    const write = console[method];
    console[method] = (...args: unknown[]) =>
      write(...args.map((arg) => typeof arg === "string" ? terminalText(arg) : arg));
  }
}
