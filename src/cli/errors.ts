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

/** How the command was asked to answer. */
export interface AnswerOptions {
  /** `--json` was given: a program reads stdout, so bad input is said there too. */
  json?: boolean;
}

/**
 * The CLI's one mapping from an error to an exit code: a commander usage error is 2 (`--help`
 * and `--version` are 0), an expected error ({@link ProtocolError}) prints its message and ends
 * with its own code; anything else is a bug and is thrown on, to surface with its stack. With
 * `json`, bad input (exit 2: nothing ran, so the command printed nothing) is also said on stdout
 * as `{"ok":false,"error":"…","exit_code":2}`, so a program reading the JSON never gets an
 * empty stdout.
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "./errors.ts";
 * import { UsageError } from "../errors.ts";
 * exitCodeFor(new UsageError("--limit must be a non-negative integer")); // 2, message on stderr
 * exitCodeFor(new UsageError("--limit must be a non-negative integer"), { json: true }); // and stdout
 * ```
 */
export function exitCodeFor(error: unknown, options: AnswerOptions = {}): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0;
    if (options.json) printJsonRefusal(error.message.replace(/^error: /, ""));
    return 2;
  }
  if (!(error instanceof ProtocolError)) throw error;
  printError(error);
  if (options.json && error.exitCode === 2) printJsonRefusal(error.message);
  return error.exitCode;
}

function printJsonRefusal(message: string): void {
  console.log(JSON.stringify({ ok: false, error: message, exit_code: 2 }));
}

/**
 * Whether `args` ask for JSON: `--json` among the options (not after a `--`).
 *
 * @example
 * ```ts
 * import { wantsJson } from "./errors.ts";
 * wantsJson(["runs", "--json"]); // true
 * wantsJson(["run", "deploy", "--", "--json"]); // false
 * ```
 */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).includes("--json");
}
