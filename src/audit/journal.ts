/**
 * Connects runs to the signed audit log: every run, step and runbook action becomes an entry.
 *
 * @example
 * ```ts
 * import { auditJournal, requireAuditKey } from "./journal.ts";
 * await requireAuditKey("/home/deploy/.protocol");
 * const journal = auditJournal("/home/deploy/.protocol");
 * await journal.record({ action: "run", runbook: "deploy", status: "initiated" });
 * ```
 * @module
 */
import { type Journal } from "../journal.ts";
import { appendAudit } from "./append.ts";
import { auditPaths } from "./paths.ts";
import { hasSigningKey } from "./signing.ts";
import { MissingSigningKeyError } from "./errors.ts";

/** A journal that appends signed entries to the audit log in `stateDir`. */
export function auditJournal(stateDir: string): Journal {
  return {
    async record(fields) {
      await appendAudit(stateDir, { ...fields, action: String(fields.action) });
    },
  };
}

/** Fails before a run starts when nothing could sign its audit entries. */
export function requireAuditKey(stateDir: string): void {
  if (!hasSigningKey(stateDir)) {
    throw new MissingSigningKeyError(auditPaths(stateDir).key);
  }
}
