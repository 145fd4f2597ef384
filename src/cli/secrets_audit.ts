/**
 * What the secrets, config and cron commands share: each change is one signed audit entry
 * (success or failure, never a secret value), and library errors map to exit codes — 2 for bad
 * input, 1 for a refused operation, a failed authentication or a failed git/ssh-keygen/crontab.
 *
 * No audit signing key, no change: every one of these commands checks for the key before it
 * touches anything, like `run` does, so no secret or config change goes unrecorded.
 *
 * @example
 * ```ts
 * import { audited, guard } from "./secrets_audit.ts";
 * const action = guard(async () => {
 *   await audited(stateDir, { action: "secrets", operation: "encrypt" }, async () => ({}));
 * });
 * ```
 * @module
 */
import { requireAuditKey } from "../audit/journal.ts";
import { appendAudit, type AuditFields, type FieldValue } from "../audit/mod.ts";
import {
  AuthenticationError,
  CommandFailedError,
  SecretsInputError,
  SecretsRefusedError,
} from "../secrets/mod.ts";

/** Help text of `--state-dir`, the same on every command. */
export const STATE_DIR_HELP = "state directory (default: $PROTOCOL_STATE_DIR, else ~/.protocol)";

/**
 * Runs `work` after checking the audit key, then appends one entry: `fields` plus what `work`
 * returned and `status: success`, or `status: failure` with the error's class name as `reason`
 * (messages are not recorded: a git error could quote a credential-bearing URL).
 *
 * @example
 * ```ts
 * await audited(stateDir, { action: "config", env: "production" }, async () => ({ files: ".env.enc" }));
 * ```
 */
export async function audited<T extends Record<string, FieldValue | undefined>>(
  stateDir: string,
  fields: AuditFields,
  work: () => Promise<T>,
): Promise<T> {
  await requireAuditKey(stateDir);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    const reason = error instanceof Error ? error.name : "Error";
    await appendAudit(stateDir, { ...fields, status: "failure", reason });
    throw error;
  }
  await appendAudit(stateDir, { ...fields, ...result, status: "success" });
  return result;
}

/**
 * Wraps a command action: secrets errors become one `error:` line and an exit code; anything
 * else goes to the CLI's main handler (configuration, usage and audit-key errors exit 2 there).
 *
 * @example
 * ```ts
 * program.command("secrets:key").action(guard(async () => { ... }));
 * ```
 */
// deno-lint-ignore no-explicit-any
export function guard<A extends any[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      if (error instanceof SecretsInputError) Deno.exitCode = 2;
      else if (
        error instanceof SecretsRefusedError || error instanceof AuthenticationError ||
        error instanceof CommandFailedError
      ) Deno.exitCode = 1;
      else throw error;
      console.error(`error: ${error.message}`);
    }
  };
}
