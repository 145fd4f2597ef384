/**
 * Reading the history (rotated files + live log) for verification and display.
 *
 * @example
 * ```ts
 * import { readAuditEntries } from "./history.ts";
 * for (const e of await readAuditEntries("/srv/state")) console.log(e.seq, e.action);
 * ```
 * @module
 */
import type { AuditEntry } from "./entry.ts";
import { parseEntryLine } from "./entry.ts";
import { AuditInputError } from "./errors.ts";
import { historyFiles } from "./paths.ts";
import { type HistoryFile, splitLines } from "./verify_core.ts";

/**
 * Loads every history file, oldest first. A missing live log counts as empty when rotated files
 * exist (a crash right after rotation); no history at all is an `AuditInputError`.
 *
 * @example
 * ```ts
 * const files = await loadHistory("/srv/state");
 * ```
 */
export async function loadHistory(stateDir: string): Promise<HistoryFile[]> {
  const paths = await historyFiles(stateDir);
  const files: HistoryFile[] = [];
  for (const path of paths) {
    try {
      files.push({ name: path, bytes: await Deno.readFile(path) });
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      if (paths.length === 1) throw new AuditInputError(`no audit log at ${path}`);
      files.push({ name: path, bytes: new Uint8Array() });
    }
  }
  return files;
}

/**
 * Every parseable entry of the history, oldest first. For display only: it skips torn or
 * malformed lines instead of judging them (that is `verifyAuditLog`'s job).
 *
 * @example
 * ```ts
 * const dir = "/srv/state";
 * const deploys = (await readAuditEntries(dir)).filter((e) => e.action === "deploy");
 * ```
 */
export async function readAuditEntries(stateDir: string): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  for (const rec of splitLines(await loadHistory(stateDir))) {
    if (rec.torn || rec.bytes.length === 0) continue;
    const p = parseEntryLine(rec.bytes);
    if (p.ok) out.push(p.entry);
  }
  return out;
}
