/**
 * `appendAudit`: the one call the rest of the tool makes to record something.
 *
 * @example
 * ```ts
 * const stateDir = "/srv/state";
 * import { appendAudit } from "./append.ts";
 * await appendAudit(stateDir, { action: "deploy", repo: "/opt/app", from: "v1", to: "v2", status: "success" });
 * ```
 * @module
 */
import { type AuditEntry, type AuditFields, validateFields } from "./entry.ts";
import { requireSigningKey } from "./signing.ts";
import { signerForAppend } from "./tail.ts";
import { openLogForAppend, withAuditLock } from "./writer.ts";
import { noteAuditWrite } from "./written.ts";

/**
 * Appends one signed entry and returns it once it is on disk (fdatasync). Fills seq, ts, host,
 * user (unless given), prev, kid and sig; drops undefined fields; status defaults to "success".
 * Safe across processes: appends are serialized by an exclusive lock and each re-reads the tail.
 * A signing key in use for more than 24 h is evolved first (forward security).
 *
 * @example
 * ```ts
 * const e = await appendAudit("/home/deploy/.protocol", { action: "rollback", repo: "/opt/app", to: "v1.1.0" });
 * console.log(e.seq, e.sig);
 * ```
 */
export async function appendAudit(stateDir: string, fields: AuditFields): Promise<AuditEntry> {
  validateFields(fields); // bad fields are the caller's bug: fail before touching anything
  await requireSigningKey(stateDir); // MissingSigningKeyError before taking the lock
  return await withAuditLock(stateDir, async () => {
    const log = await openLogForAppend(stateDir);
    try {
      const signer = await signerForAppend(stateDir, log, { evolve: true });
      const [entry] = await log.append([fields], signer);
      noteAuditWrite(stateDir); // sealed at the end of the command (cli/audit_sealing.ts)
      return entry;
    } finally {
      log.close();
    }
  });
}
