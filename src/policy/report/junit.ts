/**
 * JUnit XML for CI dashboards: the policy is a test suite, each check a test case. A blocking
 * result is a `<failure>` (or `<error>` when facts could not be gathered); skipped, not
 * applicable and waived checks are `<skipped>`; a non-blocking warning passes with its
 * findings in `<system-out>`.
 *
 * @example
 * ```ts
 * import { formatJunit } from "./junit.ts";
 * // await Deno.writeTextFile("policy-junit.xml", formatJunit(report));
 * ```
 * @module
 */
import type { PolicyReport } from "../evaluate.ts";
import { blocks } from "../evaluate.ts";
import { findingText } from "./text.ts";
import { defineReport } from "./format.ts";

/** Escapes text for XML attributes and content. */
export function xmlEscape(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
    // deno-lint-ignore no-control-regex
  ).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "");
}

/** Formats a report as JUnit XML. */
export function formatJunit(report: PolicyReport, strict = false): string {
  const suite = report.policy.id;
  let failures = 0, errors = 0, skipped = 0;
  const cases = report.results.map((r) => {
    const open = `    <testcase classname="${xmlEscape(suite)}" name="${
      xmlEscape(`${r.id}: ${r.title}`)
    }" time="${(r.ms / 1000).toFixed(3)}">`;
    const details = xmlEscape(
      [...r.findings.map(findingText), ...r.notes, `fix: ${r.remediation}`].join("\n"),
    );
    let body = "";
    if (blocks(r, strict) && r.status === "error") {
      errors++;
      body = `      <error message="${xmlEscape(r.message)}" type="error">${details}</error>`;
    } else if (blocks(r, strict)) {
      failures++;
      body = `      <failure message="${
        xmlEscape(r.message)
      }" type="${r.severity}">${details}</failure>`;
    } else if (["skip", "not_applicable", "waived"].includes(r.status)) {
      skipped++;
      body = `      <skipped message="${
        xmlEscape(`${r.status}: ${r.message || "all findings waived"}`)
      }"/>`;
    } else if (r.status !== "pass") {
      body = `      <system-out>WARN: ${xmlEscape(r.message)}\n${details}</system-out>`;
    }
    return body ? `${open}\n${body}\n    </testcase>` : `${open}</testcase>`;
  });
  const time = (report.ms / 1000).toFixed(3);
  const counts = `tests="${report.results.length}" failures="${failures}" errors="${errors}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // The xunit plugin's XSD allows `skipped` on <testsuite> only, not on <testsuites>.
    `<testsuites name="protocol policy" ${counts} time="${time}">`,
    `  <testsuite name="${
      xmlEscape(suite)
    }" ${counts} skipped="${skipped}" time="${time}" timestamp="${
      report.started.slice(0, 19)
    }" hostname="${xmlEscape(report.target)}">`,
    ...cases,
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

/** The `junit` format (CI test dashboards). */
export const junitReport = defineReport(
  "junit",
  (report, options) => formatJunit(report, options.strict),
);
