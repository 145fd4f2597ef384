/**
 * SARIF 2.1.0 for GitHub code scanning: every check is a rule (id, short and full description,
 * help, severity); every standing finding that has a file becomes a result with a physical
 * location. Findings without a file (a process, a mode) are in the text/JSON/JUnit reports:
 * code scanning only shows results it can place in the repository.
 *
 * @example
 * ```ts
 * import { formatSarif } from "./sarif.ts";
 * // const log = JSON.parse(formatSarif(report, { baseDir: Deno.cwd() }));
 * // log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri
 * ```
 * @module
 */
import { isAbsolute, relative } from "node:path";
import type { CheckResult, PolicyReport } from "../evaluate.ts";
import { defineReport } from "./format.ts";

/** SARIF level per severity. */
const LEVEL = { critical: "error", high: "error", medium: "warning", low: "note", info: "note" };
/** GitHub's `security-severity` (a CVSS-like score as a string) per severity. */
const SCORE = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0", info: "0.0" };

/** A file path as a SARIF URI: relative to `baseDir` when inside it, else a file:// URI. */
export function sarifUri(file: string, baseDir?: string): string {
  if (baseDir && isAbsolute(file)) {
    const rel = relative(baseDir, file);
    if (!rel.startsWith("..") && !isAbsolute(rel)) {
      return rel.split("/").map(encodeURIComponent).join("/");
    }
  }
  return isAbsolute(file) ? `file://${file.split("/").map(encodeURIComponent).join("/")}` : file;
}

function rule(r: CheckResult) {
  const tags = [
    "security",
    ...Object.entries(r.controls).flatMap(([fw, ids]) => ids.map((id) => `${fw}:${id}`)),
  ];
  return {
    id: r.id,
    name: r.id.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase()),
    shortDescription: { text: r.title },
    fullDescription: { text: r.message || r.title },
    help: { text: r.remediation, markdown: `**Remediation:** ${r.remediation}` },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: { tags, "security-severity": SCORE[r.severity], precision: "high" },
  };
}

/** Formats a report as a SARIF 2.1.0 log (JSON text). */
export function formatSarif(report: PolicyReport, options: { baseDir?: string } = {}): string {
  const results = report.results.flatMap((r, ruleIndex) =>
    r.status !== "fail" ? [] : r.findings.filter((f) => f.file).map((f) => ({
      ruleId: r.id,
      ruleIndex,
      level: r.level === "warn" ? "warning" : LEVEL[r.severity],
      // The location is carried apart; the text says what was found and why it matters.
      message: { text: `${r.message} Found: ${f.message}` },
      locations: [{
        physicalLocation: {
          artifactLocation: { uri: sarifUri(f.file!, options.baseDir) },
          region: { startLine: Math.max(1, f.line ?? 1) },
        },
      }],
      partialFingerprints: { primaryLocationLineHash: `${r.id}:${f.file}:${f.line ?? 1}` },
    }))
  );
  const rules = report.results.map(rule);
  return JSON.stringify(
    {
      $schema:
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
      version: "2.1.0",
      runs: [{
        tool: {
          driver: {
            name: "protocol-policy",
            // No informationUri: the project has no public home page, and SARIF makes it
            // optional rather than asking for a made-up one.
            semanticVersion: "0.1.0",
            rules,
          },
        },
        automationDetails: { id: `${report.policy.id}/${report.target}/` },
        results,
      }],
    },
    null,
    2,
  );
}

/** The `sarif` format (GitHub code scanning). */
export const sarifReport = defineReport("sarif", (report, options) => formatSarif(report, options));
