/**
 * Markdown for change tickets and audit evidence: a summary, a table of every check with its
 * SOC 2 controls, then the findings of each check that needs attention.
 *
 * @example
 * ```ts
 * import { formatMarkdown } from "./markdown.ts";
 * // await Deno.writeTextFile("soc2-evidence.md", formatMarkdown(report));
 * ```
 * @module
 */
import type { PolicyReport } from "../evaluate.ts";
import { findingText, SHOWN_FINDINGS, statusLabel, summaryLine } from "./text.ts";
import { defineReport } from "./format.ts";

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

/** Formats a report as Markdown. */
export function formatMarkdown(report: PolicyReport): string {
  const out = [
    `# ${report.policy.title}`,
    "",
    `Target \`${report.target}\`, ${report.started}. ${summaryLine(report)}.`,
    "",
    "| Status | Severity | Check | Controls | Title |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const r of report.results) {
    const controls = Object.entries(r.controls).map(([fw, ids]) => `${fw}: ${ids.join(", ")}`)
      .join("; ");
    out.push(
      `| ${statusLabel(r)} | ${r.severity} | \`${r.id}\` | ${cell(controls)} | ${cell(r.title)} |`,
    );
  }
  for (const r of report.results.filter((r) => r.status !== "pass")) {
    out.push("", `## ${statusLabel(r)}: ${r.title} (\`${r.id}\`)`, "");
    if (r.message) out.push(cell(r.message), "");
    for (const f of r.findings.slice(0, SHOWN_FINDINGS)) out.push(`- ${cell(findingText(f))}`);
    if (r.findings.length > SHOWN_FINDINGS) {
      out.push(`- … and ${r.findings.length - SHOWN_FINDINGS} more`);
    }
    for (const w of r.waived) {
      out.push(
        `- waived until ${w.waiver.expires} (${cell(w.waiver.approver)}): ${cell(findingText(w))}`,
      );
    }
    for (const note of r.notes) out.push(`- **${cell(note)}**`);
    if (r.status === "fail" || r.status === "error") {
      out.push("", `**Remediation:** ${cell(r.remediation)}`);
    }
  }
  return out.join("\n") + "\n";
}

/** The `md` format (change tickets, audit evidence). */
export const markdownReport = defineReport("md", (report) => formatMarkdown(report));
