/**
 * Where the audit files live inside the state directory. One place, because the SOC 2 policy
 * checks these exact names and modes.
 *
 * @example
 * ```ts
 * import { auditPaths } from "./paths.ts";
 * auditPaths("/home/deploy/.protocol").log; // "/home/deploy/.protocol/deployments.log"
 * ```
 * @module
 */
import { join } from "node:path";

/** Base name of the live log; rotated files are `deployments.log.<N>`, 1 being the oldest. */
export const LOG_NAME = "deployments.log";

/**
 * Every audit path derived from a state directory.
 *
 * @example
 * ```ts
 * const p = auditPaths("/srv/state");
 * console.log(p.key, p.keyring, p.lock);
 * ```
 */
export function auditPaths(stateDir: string): {
  log: string;
  key: string;
  pendingKey: string;
  keyring: string;
  lock: string;
  checkpoints: string;
} {
  return {
    log: join(stateDir, LOG_NAME),
    key: join(stateDir, "audit-signing.key"),
    // Written before a key.rotated entry so a crash mid-rotation can be finished, not lost.
    pendingKey: join(stateDir, "audit-signing.key.next"),
    keyring: join(stateDir, "audit-keyring.json"),
    // A sidecar lock, not the log itself: log rotation renames the log, and a lock held on a
    // renamed inode would no longer exclude writers of the new file.
    lock: join(stateDir, "deployments.lock"),
    checkpoints: join(stateDir, "checkpoints"),
  };
}

/**
 * Rotated log files in history order (oldest first), as absolute paths.
 *
 * @example
 * ```ts
 * const files = await rotatedLogFiles("/srv/state"); // ["/srv/state/deployments.log.1", ...]
 * ```
 */
export async function rotatedLogFiles(stateDir: string): Promise<string[]> {
  const found: { n: number; path: string }[] = [];
  try {
    for await (const e of Deno.readDir(stateDir)) {
      const m = /^deployments\.log\.(\d+)$/.exec(e.name);
      if (m && e.isFile) found.push({ n: Number(m[1]), path: join(stateDir, e.name) });
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return found.sort((a, b) => a.n - b.n).map((f) => f.path);
}

/**
 * All files of the history, oldest first, ending with the live log (whether or not it exists).
 *
 * @example
 * ```ts
 * const files = await historyFiles("/srv/state"); // [...rotated, "/srv/state/deployments.log"]
 * ```
 */
export async function historyFiles(stateDir: string): Promise<string[]> {
  return [...await rotatedLogFiles(stateDir), auditPaths(stateDir).log];
}
