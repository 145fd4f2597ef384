/**
 * Report formats, one file each and one entry in {@link REPORTS}: `text` (a table for terminals), `json` (the whole report), `sarif` (GitHub
 * code scanning), `junit` (CI test dashboards), `md` (change tickets, audit evidence).
 *
 * @example
 * ```ts
 * import { formatReport } from "./mod.ts";
 * // console.log(formatReport(report, "sarif", { baseDir: Deno.cwd() }));
 * ```
 * @module
 */
import type { PolicyReport } from "../evaluate.ts";
import type { ReportOptions } from "./format.ts";
import { jsonReport } from "./json.ts";
import { junitReport } from "./junit.ts";
import { markdownReport } from "./markdown.ts";
import { sarifReport } from "./sarif.ts";
import { textReport } from "./text.ts";

export type { ReportFormatter, ReportOptions } from "./format.ts";

/**
 * The registry: every report format, one entry each (made by `defineReport` in its own
 * file). `--format`'s choices and {@link formatReport} derive from this list.
 */
export const REPORTS = [textReport, jsonReport, sarifReport, junitReport, markdownReport] as const;

/** The format names, in registry order: what `--format` accepts. */
export const REPORT_FORMATS = REPORTS.map((r) => r.name) as ReportFormat[];
/** One of {@link REPORT_FORMATS}. */
export type ReportFormat = (typeof REPORTS)[number]["name"];

/** Renders a report; `strict` decides whether warnings block, `baseDir` relativizes SARIF URIs. */
export function formatReport(
  report: PolicyReport,
  format: ReportFormat,
  options: ReportOptions = {},
): string {
  const formatter = REPORTS.find((r) => r.name === format);
  if (!formatter) throw new TypeError(`unknown report format ${JSON.stringify(format)}`);
  return formatter.render(report, options);
}
