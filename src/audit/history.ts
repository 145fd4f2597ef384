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
import { type HistoryFile, splitLines } from "./lines.ts";

/**
 * Loads every history file, oldest first, into one buffer (read in place, no growing copies:
 * `Deno.readFile` costs several times more CPU on a large log). With `shared`, the buffer is a
 * SharedArrayBuffer that verification workers read without a copy. A missing live log counts as
 * empty when rotated files exist (a crash right after rotation); no history at all is an
 * `AuditInputError`. Each file is read up to the size it had when opened, so an append racing
 * the read is left for next time rather than half read.
 *
 * @example
 * ```ts
 * const files = await loadHistory("/srv/state");
 * ```
 */
export async function loadHistory(
  stateDir: string,
  options: { shared?: boolean } = {},
): Promise<HistoryFile[]> {
  const paths = await historyFiles(stateDir);
  const opened: { path: string; file?: Deno.FsFile; size: number }[] = [];
  try {
    for (const path of paths) {
      try {
        const file = await Deno.open(path, { read: true });
        opened.push({ path, file, size: (await file.stat()).size });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        if (paths.length === 1) throw new AuditInputError(`no audit log at ${path}`);
        opened.push({ path, size: 0 });
      }
    }
    const total = opened.reduce((n, f) => n + f.size, 0);
    const all = new Uint8Array(
      options.shared ? new SharedArrayBuffer(total) : new ArrayBuffer(total),
    );
    const files: HistoryFile[] = [];
    let at = 0;
    for (const f of opened) {
      let got = 0;
      while (f.file && got < f.size) {
        const n = await f.file.read(all.subarray(at + got, at + f.size));
        if (n === null) break; // shrank since opened: what is there is what there is
        got += n;
      }
      files.push({ name: f.path, bytes: all.subarray(at, at + got) });
      at += f.size;
    }
    return files;
  } finally {
    for (const f of opened) f.file?.close();
  }
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
