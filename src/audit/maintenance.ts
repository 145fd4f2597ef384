/**
 * Log rotation for retention (checkpoints live in checkpoint.ts).
 *
 * @example
 * ```ts
 * import { rotateLog } from "./maintenance.ts";
 * await rotateLog("/srv/state"); // deployments.log -> deployments.log.<N>
 * ```
 * @module
 */
import { join } from "node:path";
import { auditPaths, LOG_NAME, rotatedLogFiles } from "./paths.ts";
import { requireSigningKey, signerForTail } from "./signing.ts";
import { openLogForAppend, withAuditLock } from "./writer.ts";

/**
 * Moves the live log to `deployments.log.<N>` (N = 1 for the oldest, increasing) and starts a
 * new live log whose first entry, `log.rotated`, continues seq and prev. Returns null when the
 * live log is empty. A torn tail is recovered (log.recovered) before the file is closed off.
 *
 * @example
 * ```ts
 * const r = await rotateLog("/srv/state"); // { rotatedTo: ".../deployments.log.3", seq: 1201 }
 * ```
 */
export async function rotateLog(
  stateDir: string,
): Promise<{ rotatedTo: string; seq: number } | null> {
  requireSigningKey(stateDir); // MissingSigningKeyError before taking the lock
  return await withAuditLock(stateDir, async () => {
    const p = auditPaths(stateDir);
    const old = await openLogForAppend(stateDir);
    try {
      if (old.liveSize === 0) return null;
      if (old.tail.torn) await old.append([], await signerForTail(stateDir, old.tail));
    } finally {
      old.close();
    }
    const n = Number((await rotatedLogFiles(stateDir)).at(-1)?.match(/\.(\d+)$/)?.[1] ?? 0) + 1;
    const rotatedTo = join(stateDir, `${LOG_NAME}.${n}`);
    await Deno.rename(p.log, rotatedTo);
    // The new live log is empty, so its tail continues from the file just rotated.
    const log = await openLogForAppend(stateDir);
    try {
      const [entry] = await log.append([{
        action: "log.rotated",
        status: "success",
        rotated_file: `${LOG_NAME}.${n}`,
        rotated_last_seq: log.tail.seq,
      }], await signerForTail(stateDir, log.tail));
      return { rotatedTo, seq: entry.seq };
    } finally {
      log.close();
    }
  });
}
