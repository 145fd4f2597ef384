/**
 * The terminal report: one row per check (status, severity, id, title), findings and
 * remediation under each check that needs attention, and a summary line.
 *
 * @example
 * ```ts
 * import { formatText } from "./text.ts";
 * // console.log(formatText(report));
 * // STATUS  SEVERITY  CHECK            TITLE
 * // PASS    high      key-permissions  Encryption key is private
 * ```
 * @module
 */
import type { CheckResult, PolicyReport } from "../evaluate.ts";
import { blocks } from "../evaluate.ts";
import { defineReport } from "./format.ts";

/** Most findings listed per check in text and Markdown; JSON and SARIF carry all. */
export const SHOWN_FINDINGS = 20;

/** The label a result shows: a warn-level failure reads WARN. */
export function statusLabel(result: CheckResult): string {
  if (result.level === "warn" && result.status === "fail") return "WARN";
  return result.status === "not_applicable" ? "N/A" : result.status.toUpperCase();
}

/** One line counting each outcome that occurred. */
export function summaryLine(report: PolicyReport): string {
  const { summary } = report;
  const parts = (["pass", "fail", "warn", "error", "skip", "waived", "not_applicable"] as const)
    .filter((k) => summary[k] > 0).map((k) => `${summary[k]} ${k.replace("_", " ")}`);
  return `${summary.total} checks: ${parts.join(", ")}`;
}

/** Formats a report for a terminal. */
export function formatText(report: PolicyReport, strict = false): string {
  const rows = report.results.map((r) => [statusLabel(r), r.severity, r.id, r.title]);
  const header = ["STATUS", "SEVERITY", "CHECK", "TITLE"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const out = [
    `${report.policy.title} (${report.policy.id}) on ${report.target}`,
    "",
    line(header),
  ];
  for (const [i, r] of report.results.entries()) {
    out.push(line(rows[i]));
    const indent = " ".repeat(4);
    // A pass can carry notes (an assertion that did not apply): those are shown too.
    if (r.status === "pass" && !r.notes.length) continue;
    if (r.message) out.push(`${indent}${r.message}`);
    for (const f of r.findings.slice(0, SHOWN_FINDINGS)) out.push(`${indent}- ${findingText(f)}`);
    if (r.findings.length > SHOWN_FINDINGS) {
      out.push(`${indent}- ... and ${r.findings.length - SHOWN_FINDINGS} more (--format json)`);
    }
    for (const w of r.waived) {
      out.push(
        `${indent}~ waived until ${w.waiver.expires} by ${w.waiver.approver}: ${findingText(w)}`,
      );
    }
    for (const note of r.notes) out.push(`${indent}! ${note}`);
    if (r.status === "fail" || r.status === "error") out.push(`${indent}fix: ${r.remediation}`);
  }
  const failing = report.results.filter((r) => blocks(r, strict)).length;
  out.push("", `${summaryLine(report)}${failing ? ` — ${failing} blocking` : ""}`);
  return out.join("\n");
}

/** A finding as one line: `file:line: message` when it has a place. */
export function findingText(f: { message: string; file?: string; line?: number }): string {
  if (!f.file || f.message.includes(f.file)) return f.message;
  return `${f.file}${f.line ? `:${f.line}` : ""}: ${f.message}`;
}

/** The `text` format (a table for terminals). */
export const textReport = defineReport(
  "text",
  (report, options) => formatText(report, options.strict),
);
