/**
 * `json`: the whole report as it is evaluated (every result, finding and note), for scripts.
 *
 * @example
 * ```ts
 * import { jsonReport } from "./json.ts";
 * // const parsed = JSON.parse(jsonReport.render(report, {}));
 * jsonReport.name; // "json"
 * ```
 * @module
 */
import { defineReport } from "./format.ts";

/** The `json` format. */
export const jsonReport = defineReport("json", (report) => JSON.stringify(report, null, 2));
