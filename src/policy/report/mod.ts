/**
 * Report formats: `text` (a table for terminals), `json` (the whole report), `sarif` (GitHub
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
import { formatJunit } from "./junit.ts";
import { formatMarkdown } from "./markdown.ts";
import { formatSarif } from "./sarif.ts";
import { formatText } from "./text.ts";

/** The formats {@link formatReport} writes. */
export const REPORT_FORMATS = ["text", "json", "sarif", "junit", "md"] as const;
/** One of {@link REPORT_FORMATS}. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Renders a report; `strict` decides whether warnings block, `baseDir` relativizes SARIF URIs. */
export function formatReport(
  report: PolicyReport,
  format: ReportFormat,
  options: { strict?: boolean; baseDir?: string } = {},
): string {
  switch (format) {
    case "text":
      return formatText(report, options.strict);
    case "json":
      return JSON.stringify(report, null, 2);
    case "sarif":
      return formatSarif(report, options);
    case "junit":
      return formatJunit(report, options.strict);
    case "md":
      return formatMarkdown(report);
  }
}
