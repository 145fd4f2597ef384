/**
 * The one error model: every error the tool expects to meet is a {@link ProtocolError} that
 * carries the exit code it ends with — 2 for bad input (nothing ran), 1 for a refusal or a
 * failure met while working. The CLI maps errors to messages and exit codes in one place; any
 * other error is a bug and surfaces with its stack.
 *
 * @example
 * ```ts
 * import { InputError, ProtocolError } from "./errors.ts";
 * const error = new InputError("--limit names no node: web-9");
 * error instanceof ProtocolError; // true
 * error.exitCode; // 2
 * ```
 * @module
 */

/** An expected error: its message is for the user, its exit code says what kind it is. */
export class ProtocolError extends Error {
  /** 1: a refusal or a failure while working; 2: invalid input, nothing ran. */
  readonly exitCode: 1 | 2;

  constructor(message: string, exitCode: 1 | 2 = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Invalid input (a flag, parameter, file, configuration): exit 2, nothing was run. */
export class InputError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 2, options);
  }
}

/** Bad command-line input; the CLI prints the message and exits 2. */
export class UsageError extends InputError {}

/** A refusal or failure the user can act on (unreachable node, held lock): exit 1. */
export class FailureError extends ProtocolError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 1, options);
  }
}
