/**
 * Operations on the log as a whole: signed checkpoints and log rotation for retention.
 *
 * @example
 * ```ts
 * import { rotateLog, writeCheckpoint } from "./maintenance.ts";
 * const { path } = await writeCheckpoint("/srv/state");
 * await rotateLog("/srv/state"); // deployments.log -> deployments.log.<N>
 * ```
 * @module
 */
import { join } from "node:path";
import { ensureStateDir } from "../state/mod.ts";
import { type Checkpoint, makeCheckpoint } from "./checkpoint_core.ts";
import { writePrivateFileAtomic } from "./fs.ts";
import { auditPaths, LOG_NAME, rotatedLogFiles } from "./paths.ts";
import { loadSigner, signerForTail } from "./signing.ts";
import { openLogForAppend, withAuditLock } from "./writer.ts";

/**
 * Signs a checkpoint of the history as it is now (complete lines only) and writes it to `out`
 * or `<stateDir>/checkpoints/<ts>.json`. Copy it somewhere the host cannot rewrite.
 *
 * @example
 * ```ts
 * const { checkpoint, path } = await writeCheckpoint("/srv/state");
 * console.log(JSON.stringify(checkpoint), path);
 * ```
 */
export async function writeCheckpoint(
  stateDir: string,
  out?: string,
): Promise<{ checkpoint: Checkpoint; path: string }> {
  await loadSigner(stateDir);
  const checkpoint = await withAuditLock(stateDir, async () => {
    const log = await openLogForAppend(stateDir);
    try {
      const signer = await signerForTail(stateDir, log.tail);
      const ts = new Date().toISOString();
      return makeCheckpoint({ count: log.tail.seq, last_hash: log.tail.prev, ts }, signer);
    } finally {
      log.close();
    }
  });
  let path = out;
  if (!path) {
    const dir = await ensureStateDir(auditPaths(stateDir).checkpoints);
    path = join(dir, `${checkpoint.ts.replace(/[:.]/g, "-")}.json`);
  }
  await writePrivateFileAtomic(path, JSON.stringify(checkpoint) + "\n");
  return { checkpoint, path };
}

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
  await loadSigner(stateDir);
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
