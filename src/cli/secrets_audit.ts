/**
 * What the secrets, config and cron commands share: each change is one signed audit entry
 * (success or failure, never a secret value), and library errors map to exit codes — 2 for bad
 * input, 1 for a refused operation, a failed authentication or a failed git/ssh-keygen/crontab
 * (each error carries its exit code; `main.ts` maps them).
 *
 * No audit signing key, no change: every one of these commands checks for the key before it
 * touches anything, like `run` does, so no secret or config change goes unrecorded.
 *
 * @example
 * ```ts
 * import { audited } from "./secrets_audit.ts";
 * import { secretsEntry } from "../audit/actions.ts";
 * const subject = { operation: "encrypt", target: "local", file: ".env" };
 * await audited("/tmp/state", (ending) => secretsEntry(subject, ending), async () => ({}));
 * ```
 * @module
 */
import { requireAuditKey } from "../audit/journal.ts";
import { appendAudit, type FieldValue } from "../audit/mod.ts";
import { type Ending, type Entry, failed, succeeded } from "../audit/actions.ts";

/** Help text of `--state-dir`, the same on every command. */
export const STATE_DIR_HELP = "state directory (default: $PROTOCOL_STATE_DIR, else ~/.protocol)";

/**
 * Runs `work` after checking the audit key, then appends one entry built by `entry` (a builder
 * of `audit/actions.ts`, the same one the runbook step uses): what `work` returned and
 * `status: success`, or `status: failure` with the error's class and its credential-free
 * message.
 *
 * @example
 * ```ts
 * import { audited } from "./secrets_audit.ts";
 * import { configEntry } from "../audit/actions.ts";
 * const subject = { operation: "save", repo: "/opt/app", target: "local" };
 * await audited("/tmp/state", (ending) => configEntry(subject, ending), async () => ({ env: "production" }));
 * ```
 */
export async function audited<T extends Record<string, FieldValue | undefined>>(
  stateDir: string,
  entry: (ending: Ending) => Entry,
  work: () => Promise<T>,
): Promise<T> {
  await requireAuditKey(stateDir);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await appendAudit(stateDir, entry(failed(error)));
    throw error;
  }
  await appendAudit(stateDir, entry(succeeded(result)));
  return result;
}
