/**
 * The schedule report as Markdown (for a compliance review) or JSON (for tooling).
 *
 * @example
 * ```ts
 * import { formatSchedule } from "./format.ts";
 * // console.log(formatSchedule(report, "md"));
 * ```
 * @module
 */
import type { ControlVerdict, ScheduleReport } from "./evaluate.ts";

/** Whether the evidence itself can be trusted: the audit log's verification. */
export interface LogState {
  path: string;
  verified: boolean;
  entries: number;
  /** The first bad line, when it does not verify. */
  problem?: string;
}

/** A schedule report with the state of the log it was read from. */
export type ScheduleOutput = ScheduleReport & { log: LogState };

const MARK: Record<ControlVerdict["status"], string> = {
  current: "current",
  overdue: "**OVERDUE**",
  not_recorded: "not recorded",
  not_applicable: "not applicable",
};

/**
 * Renders the report.
 *
 * @example
 * ```ts
 * // formatSchedule(output, "json") is the report object, pretty-printed
 * ```
 */
export function formatSchedule(output: ScheduleOutput, format: "md" | "json"): string {
  if (format === "json") return JSON.stringify(output, null, 2) + "\n";
  const lines = [`## ${output.title}`, "", `As of ${output.now}, from \`${output.log.path}\`.`, ""];
  lines.push("| Control | Frequency | Last done | Next due | Status |");
  lines.push("|---|---|---|---|---|");
  for (const c of output.controls) {
    const last = c.last ? `${c.last.ts} (seq ${c.last.seq}, ${c.last.status})` : "never";
    const next = [
      c.next_due,
      c.per_deployment
        ? c.deployment
          ? c.deployment.covered_by
            ? `deployment seq ${c.deployment.entry.seq} covered (seq ${c.deployment.covered_by.seq})`
            : `deployment seq ${c.deployment.entry.seq} not covered`
          : "every deployment"
        : undefined,
    ].filter(Boolean).join("; ");
    lines.push(`| ${c.title} | ${c.frequency} | ${last} | ${next || "—"} | ${MARK[c.status]} |`);
  }
  const notes = output.controls.filter((c) => c.reasons.length);
  if (notes.length) {
    lines.push("");
    for (const c of notes) {
      for (const reason of c.reasons) lines.push(`- ${c.title}: ${reason}`);
      if (c.command && c.status === "overdue") lines.push(`  - do it: \`${c.command}\``);
    }
  }
  lines.push("");
  lines.push(
    output.log.verified
      ? `Audit log verifies (${output.log.entries} entries): the dates above are evidence.`
      : `Audit log does NOT verify (${output.log.problem}): the dates above cannot be trusted.`,
  );
  lines.push(
    output.overdue.length ? `Overdue: ${output.overdue.join(", ")}.` : "Nothing is overdue.",
  );
  return lines.join("\n") + "\n";
}
