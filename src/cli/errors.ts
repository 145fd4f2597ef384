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
import { CommanderError } from "commander";
import { ProtocolError } from "../errors.ts";
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

/**
 * The CLI's one mapping from an error to an exit code: a commander usage error is 2 (`--help`
 * and `--version` are 0), an expected error ({@link ProtocolError}) prints its message and ends
 * with its own code; anything else is a bug and is thrown on, to surface with its stack.
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "./errors.ts";
 * import { UsageError } from "../errors.ts";
 * exitCodeFor(new UsageError("--limit must be a non-negative integer")); // 2, message on stderr
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (!(error instanceof ProtocolError)) throw error;
  printError(error);
  return error.exitCode;
}
