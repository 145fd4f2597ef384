/**
 * What a report format is: a name (the `--format` value) and a function from a policy report
 * to text. Each format's file makes one with {@link defineReport}; the registry in `mod.ts`
 * lists them, and `--format`'s choices and {@link ReportFormatter} dispatch follow from it.
 *
 * @example
 * ```ts
 * import { defineReport } from "./format.ts";
 * export const countReport = defineReport("count", (report) => `${report.results.length}\n`);
 * countReport.name; // "count"
 * ```
 * @module
 */
import type { PolicyReport } from "../evaluate.ts";

/** How a report is rendered: `strict` makes warnings block, `baseDir` relativizes file URIs. */
export interface ReportOptions {
  strict?: boolean;
  baseDir?: string;
}

/** A named report format. */
export interface ReportFormatter<Name extends string = string> {
  readonly name: Name;
  render(report: PolicyReport, options: ReportOptions): string;
}

/**
 * Names a render function as a report format (what the registry lists).
 *
 * @example
 * ```ts
 * import { defineReport } from "./format.ts";
 * const ids = defineReport("ids", (report) => report.results.map((r) => r.id).join("\n"));
 * ids.name; // "ids"
 * ```
 */
export function defineReport<Name extends string>(
  name: Name,
  render: (report: PolicyReport, options: ReportOptions) => string,
): ReportFormatter<Name> {
  return { name, render };
}
