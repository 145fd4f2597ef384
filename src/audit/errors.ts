/**
 * Errors the audit module throws, so callers (and the CLI's exit codes) can tell "the log is
 * bad" from "you gave me something I cannot use".
 *
 * @example
 * ```ts
 * import { MissingSigningKeyError } from "./errors.ts";
 * try { throw new MissingSigningKeyError("/tmp/x/audit-signing.key"); }
 * catch (e) { if (e instanceof MissingSigningKeyError) console.error(e.message); }
 * ```
 * @module
 */
import { FailureError, InputError } from "../errors.ts";

/**
 * No signing key exists, so nothing can be appended. The message is fixed by the design because
 * operators and runbooks grep for it.
 *
 * @example
 * ```ts
 * new MissingSigningKeyError("/home/deploy/.protocol/audit-signing.key").message;
 * // "no audit signing key at /home/deploy/.protocol/audit-signing.key; create one with `deno task audit:keygen`"
 * ```
 */
export class MissingSigningKeyError extends InputError {
  /** Path where the key was expected. */
  readonly path: string;
  constructor(path: string) {
    super(`no audit signing key at ${path}; create one with \`deno task audit:keygen\``);
    this.name = "MissingSigningKeyError";
    this.path = path;
  }
}

/**
 * Input the tool cannot work with: a missing log or keyring, an unreadable checkpoint, invalid
 * fields passed to `appendAudit`. The CLI maps it to exit code 2.
 *
 * @example
 * ```ts
 * throw new AuditInputError("no audit log at /tmp/x/deployments.log");
 * ```
 */
export class AuditInputError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = "AuditInputError";
  }
}

/**
 * The operation was refused because doing it would weaken the log (overwriting a key, signing
 * with a key the chain does not expect, appending after a corrupt last line). Exit code 1.
 *
 * @example
 * ```ts
 * throw new AuditRefusedError("an audit signing key already exists; use `deno task audit:rotate-key`");
 * ```
 */
export class AuditRefusedError extends FailureError {
  constructor(message: string) {
    super(message);
    this.name = "AuditRefusedError";
  }
}
