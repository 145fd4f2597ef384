/**
 * Errors of the secrets module, so callers (and the CLI's exit codes) can tell bad input from a
 * refused operation, a failed authentication or a failed external command.
 *
 * @example
 * ```ts
 * import { AuthenticationError } from "./errors.ts";
 * try { throw new AuthenticationError("secrets.env.enc"); }
 * catch (e) { if (e instanceof AuthenticationError) console.error(e.message); }
 * ```
 * @module
 */
import { FailureError, InputError } from "../errors.ts";

/**
 * Input the tool cannot use: a malformed key, a missing file, an unknown environment, an
 * envelope that is not base64 or too short. The CLI exits 2.
 *
 * @example
 * ```ts
 * throw new SecretsInputError("the key must be 64 hexadecimal characters");
 * ```
 */
export class SecretsInputError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = "SecretsInputError";
  }
}

/**
 * The operation was refused because doing it would lose or leak something: overwriting a key,
 * committing plaintext, switching with unsaved changes. The CLI exits 1.
 *
 * @example
 * ```ts
 * throw new SecretsRefusedError("a key already exists; use --rotate");
 * ```
 */
export class SecretsRefusedError extends FailureError {
  constructor(message: string) {
    super(message);
    this.name = "SecretsRefusedError";
  }
}

/**
 * AES-GCM authentication failed: the key is not the one the file was encrypted with, or the
 * file was changed. Never accompanied by (garbage) plaintext. The CLI exits 1.
 *
 * @example
 * ```ts
 * new AuthenticationError(".env.enc").message;
 * // "cannot decrypt .env.enc: authentication failed (wrong key, or the file was changed)"
 * ```
 */
export class AuthenticationError extends FailureError {
  constructor(what = "the envelope") {
    super(`cannot decrypt ${what}: authentication failed (wrong key, or the file was changed)`);
    this.name = "AuthenticationError";
  }
}

/**
 * An external command (git, ssh-keygen, crontab) failed; the message carries its argv and the
 * end of its stderr. The CLI exits 1.
 *
 * @example
 * ```ts
 * throw new CommandFailedError(["git", "push"], 128, "fatal: no remote");
 * ```
 */
export class CommandFailedError extends FailureError {
  constructor(readonly argv: string[], readonly code: number, readonly stderr: string) {
    const detail = stderr.trim().split("\n").slice(-5).join("\n");
    super(`\`${argv.join(" ")}\` failed (exit ${code})${detail ? `:\n${detail}` : ""}`);
    this.name = "CommandFailedError";
  }
}
