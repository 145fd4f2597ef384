/**
 * What leaves the host: the history's entries with their exact line bytes, but only from a log
 * that verifies (unless forced), and never with an unreadable line quietly left out.
 *
 * @example
 * ```ts
 * import { exportableEntries } from "./export.ts";
 * const { records, skipped } = await exportableEntries("/srv/state", { force: false });
 * for (const r of records) console.log(r.entry.seq, r.line);
 * ```
 * @module
 */
import type { AuditEntry } from "./entry.ts";
import { parseEntryLine } from "./entry.ts";
import { AuditRefusedError } from "./errors.ts";
import { loadHistory } from "./history.ts";
import { verifyAuditLog } from "./verify.ts";
import { splitLines } from "./lines.ts";
import type { VerifyResult } from "./verdict.ts";

/** One entry as exported: the parsed entry and its exact line (what `sig` and `prev` cover). */
export interface ExportRecord {
  entry: AuditEntry;
  line: string;
}

/** A line that could not be exported, and why; the CLI names every one of them. */
export interface SkippedLine {
  file: string;
  line: number;
  detail: string;
}

/** The result of `exportableEntries`. */
export interface Exportable {
  records: ExportRecord[];
  skipped: SkippedLine[];
  /** The verification verdict the export was gated on. */
  verdict: VerifyResult;
}

const decoder = new TextDecoder();

/**
 * Verifies the history, then returns every verified entry in order with its exact line (entries
 * appended while it ran are left for the next export). A log that does
 * not verify is refused (`AuditRefusedError`, exit 1) unless `force`; with `force`, lines that do
 * not parse as entries are returned in `skipped` (never dropped without a trace). Input problems
 * (no log, no trust root) throw `AuditInputError` as `verifyAuditLog` does.
 *
 * @example
 * ```ts
 * const { records, verdict } = await exportableEntries("/srv/state", { pubkeyFile: "/safe/root.pub" });
 * console.log(verdict.ok, records.length);
 * ```
 */
export async function exportableEntries(
  stateDir: string,
  options: { pubkeyFile?: string; force?: boolean } = {},
): Promise<Exportable> {
  const verdict = await verifyAuditLog(stateDir, { pubkeyFile: options.pubkeyFile });
  if (!verdict.ok && !options.force) {
    throw new AuditRefusedError(
      `the audit log does not verify (${describeBad(verdict)}); refusing to export it ` +
        "(run audit:verify; --force exports it anyway)",
    );
  }
  const files = await loadHistory(stateDir);
  const records: ExportRecord[] = [];
  const skipped: SkippedLine[] = [];
  for (const rec of splitLines(files)) {
    // Lines appended after the verification above were not verified: they wait for next time.
    if (verdict.ok && records.length === verdict.entries) break;
    const file = files[rec.file].name;
    if (rec.torn) {
      skipped.push({ file, line: rec.line, detail: "torn last line (no final newline)" });
      continue;
    }
    const parsed = parseEntryLine(rec.bytes);
    if (!parsed.ok) {
      skipped.push({
        file,
        line: rec.line,
        detail: rec.bytes.length ? parsed.detail : "empty line",
      });
      continue;
    }
    records.push({ entry: parsed.entry, line: decoder.decode(rec.bytes) });
  }
  return { records, skipped, verdict };
}

/**
 * One phrase for a failed verdict: where and why.
 *
 * @example
 * ```ts
 * import { verifyAuditLog } from "./verify.ts";
 * const verdict = await verifyAuditLog("/srv/state");
 * if (!verdict.ok) console.error(describeBad(verdict)); // "line 7 of /srv/state/deployments.log: edited (signature does not match …)"
 * ```
 */
export function describeBad(verdict: VerifyResult): string {
  const b = verdict.firstBad;
  return b ? `line ${b.line} of ${b.file}: ${b.reason} (${b.detail})` : "unknown failure";
}
