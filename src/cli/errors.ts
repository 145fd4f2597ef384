/**
 * The CLI's one error printer: an expected error's problems (each `file:line:col`) and its
 * message, on stderr, with control characters and terminal escapes escaped — a message may
 * quote a key or value from a file.
 *
 * @example
 * ```ts
 * import { printError } from "./errors.ts";
 * import { UsageError } from "../errors.ts";
 * printError(new UsageError("--limit names no node: web-\x1b[2J9"));
 * // error: --limit names no node: web-\x1b[2J9   (escaped, the screen is not cleared)
 * ```
 * @module
 */
import type { ProtocolError } from "../errors.ts";
import { formatProblem, InvalidFileError, printable } from "../source/mod.ts";

/**
 * Prints `error` for the user on stderr.
 *
 * @example
 * ```ts
 * import { printError } from "./errors.ts";
 * import { FailureError } from "../errors.ts";
 * printError(new FailureError("web-1: cannot connect"));
 * ```
 */
export function printError(error: ProtocolError): void {
  if (error instanceof InvalidFileError) {
    for (const problem of error.problems) console.error(formatProblem(problem));
    console.error(`error: ${error.message}; nothing was run`);
    return;
  }
  console.error(`error: ${printable(error.message)}`);
}
