/**
 * A drill's report as data: from what was injected and what each step of the runbook saw,
 * whether and when each fault was detected, each phase's timing against the severity's
 * response target, what was cleaned, and the follow-ups. Pure, so detection rules are tested
 * on plain observations; Markdown and JSON renderings at the end.
 *
 * @example
 * ```ts
 * import { buildDrillReport, formatDrillReport } from "./report.ts";
 * // const report = buildDrillReport({ drill, faults, steps, run, cleaned, started, finished });
 * // console.log(formatDrillReport(report, "md"));
 * ```
 * @module
 */
import type { RunRecord } from "../state/runs.ts";
import type { InjectedFault } from "./faults.ts";
import { type Drill, RESPONSE_TARGETS_MS } from "./schema.ts";

/** One step of the runbook as the drill saw it. */
export interface ObservedStep {
  number: string;
  name: string;
  kind: string;
  /** The name of the `uses` step it belongs to, for a task's steps. */
  group?: string;
  /** For `policy:` steps, the policy. */
  operand?: string;
  status: string;
  started: string;
  finished: string;
  /** Everything it printed, and its failure message. */
  output: string[];
}

/** The phases of SOP 8 that a drill times. */
export const PHASES = ["detect", "triage", "contain", "eradicate", "recover"] as const;
/** A phase of SOP 8. */
export type Phase = typeof PHASES[number];

/** A step's phase, from the word its name starts with; success criteria are recovery. */
export function phaseOf(
  step: { name: string; number: string; group?: string },
): Phase | undefined {
  const word = /^(detect|triage|contain|eradicate|recover)\b/i.exec(step.group ?? step.name)?.[1];
  if (word) return word.toLowerCase() as Phase;
  return step.number.startsWith("S") ? "recover" : undefined;
}

/** A policy step's text report split per check: status and the lines under it. */
export function checksIn(output: string[]): Map<string, { status: string; lines: string[] }> {
  const checks = new Map<string, { status: string; lines: string[] }>();
  let current: { status: string; lines: string[] } | undefined;
  for (const line of output) {
    const row = /^(PASS|FAIL|WARN|ERROR|SKIP|WAIVED|N\/A)\s+(critical|high|medium|low|info)\s+(\S+)/
      .exec(line);
    if (row) {
      current = { status: row[1], lines: [] };
      checks.set(row[3], current);
    } else if (current && line.startsWith("    ")) current.lines.push(line.trim());
    else current = undefined;
  }
  return checks;
}

/** The first step whose output shows one of `fault.detected_by` failing about this fault. */
export function detection(
  fault: Pick<InjectedFault, "detected_by" | "marker">,
  steps: ObservedStep[],
): { step: ObservedStep; check: string } | undefined {
  for (const step of steps) {
    if (step.kind === "policy" && step.operand) {
      for (const [id, check] of checksIn(step.output)) {
        const name = `${step.operand}/${id}`;
        if (!fault.detected_by.includes(name) || !["FAIL", "WARN"].includes(check.status)) continue;
        if (check.lines.some((line) => line.includes(fault.marker))) return { step, check: name };
      }
    }
    // A shell step names the check it is in parentheses: "Detect: ... (release-diff)".
    const check = step.kind === "http" ? "health" : /\(([a-z-]+)\)$/.exec(step.name)?.[1];
    if (
      check && step.kind !== "policy" && fault.detected_by.includes(check) &&
      step.status !== "success" && step.output.some((line) => line.includes(fault.marker))
    ) return { step, check };
  }
  return undefined;
}

/** One fault's outcome. */
export interface FaultOutcome {
  type: InjectedFault["type"];
  note?: string;
  what: string;
  injected_at: string;
  detected: boolean;
  detected_at?: string;
  /** Milliseconds from injection to the end of the step that caught it. */
  time_to_detect_ms?: number;
  detected_by?: string;
  step?: string;
  expected: string[];
  cleaned: boolean;
  leftover?: string;
}

/** One phase's timing. */
export interface PhaseTiming {
  phase: Phase;
  started: string;
  finished: string;
  duration_ms: number;
  /** Milliseconds from the first fault's injection to the end of this phase. */
  since_incident_ms: number;
  steps: number;
  failed: string[];
}

/** The whole drill report. */
export interface DrillReport {
  drill: string;
  title: string;
  scenario: string;
  file: string;
  runbook: string;
  severity: Drill["severity"];
  response_target_ms: number;
  /** Whether containment ended within the severity's response target. */
  target_met: boolean;
  started: string;
  finished: string;
  sandbox: string;
  run: { id: string; status: string; reason?: string };
  phases: PhaseTiming[];
  faults: FaultOutcome[];
  detected: number;
  missed: number;
  cleaned: boolean;
  follow_ups: string[];
  /** Every audit entry it wrote is marked `drill: true`. */
  drill_marked: true;
}

/** What a drill observed, to be judged. */
export interface DrillObservation {
  drill: Drill;
  faults: (InjectedFault & { leftover?: string })[];
  steps: ObservedStep[];
  run: RunRecord;
  started: string;
  finished: string;
  sandbox: string;
  sandboxLeft?: string;
}

/**
 * Judges a drill.
 *
 * @example
 * ```ts
 * // const report = buildDrillReport(observation); report.missed === 0
 * ```
 */
export function buildDrillReport(o: DrillObservation): DrillReport {
  const incident = Math.min(...o.faults.map((f) => Date.parse(f.injected_at)));
  const faults: FaultOutcome[] = o.faults.map((fault) => {
    const found = detection(fault, o.steps);
    return {
      type: fault.type,
      note: fault.note,
      what: fault.what,
      injected_at: fault.injected_at,
      detected: found !== undefined,
      detected_at: found?.step.finished,
      time_to_detect_ms: found &&
        Date.parse(found.step.finished) - Date.parse(fault.injected_at),
      detected_by: found?.check,
      step: found && `${found.step.number} ${found.step.name}`,
      expected: fault.detected_by,
      cleaned: fault.leftover === undefined,
      leftover: fault.leftover,
    };
  });
  const phases: PhaseTiming[] = [];
  for (const phase of PHASES) {
    const steps = o.steps.filter((step) => phaseOf(step) === phase);
    if (!steps.length) continue;
    const started = steps[0].started;
    const finished = steps.map((s) => s.finished).sort().at(-1)!;
    phases.push({
      phase,
      started,
      finished,
      duration_ms: Date.parse(finished) - Date.parse(started),
      since_incident_ms: Date.parse(finished) - incident,
      steps: steps.length,
      failed: steps.filter((s) =>
        !["success", "acknowledged", "confirmed", "skipped"].includes(s.status)
      )
        .map((s) => `${s.number} ${s.name}`),
    });
  }
  const target = RESPONSE_TARGETS_MS[o.drill.severity];
  const contained = phases.find((p) => p.phase === "contain");
  const targetMet = contained !== undefined && contained.failed.length === 0 &&
    contained.since_incident_ms <= target;
  const followUps = [
    ...faults.filter((f) => !f.detected).map((f) =>
      `${f.type} (${f.what}) was not detected: the runbook needs a check that catches it ` +
      `(expected one of ${f.expected.join(", ")})`
    ),
    ...phases.filter((p) => p.failed.length && p.phase !== "detect").flatMap((p) =>
      p.failed.map((step) => `${p.phase}: step ${step} failed; fix the runbook or the node`)
    ),
    ...(["detect", "contain", "recover"] as const).filter((phase) =>
      !phases.some((p) => p.phase === phase)
    ).map((phase) =>
      `the ${phase} phase never ran${
        o.run.status === "success" ? "" : ` (the run stopped: ${o.run.reason})`
      }`
    ),
    ...(targetMet ? [] : [
      contained
        ? `containment ended ${formatMs(contained.since_incident_ms)} after the incident began` +
          `${
            contained.failed.length ? " with failed steps" : ""
          }; the ${o.drill.severity} target is ${formatMs(target)}`
        : `the runbook has no containment phase to time against the ${o.drill.severity} target`,
    ]),
    ...faults.filter((f) => !f.cleaned).map((f) => `clean up by hand: ${f.leftover}`),
    ...(o.sandboxLeft ? [`clean up by hand: ${o.sandboxLeft}`] : []),
    ...o.drill.follow_ups,
  ];
  return {
    drill: o.drill.id,
    title: o.drill.title,
    scenario: o.drill.scenario.trim(),
    file: o.drill.file,
    runbook: o.drill.runbook,
    severity: o.drill.severity,
    response_target_ms: target,
    target_met: targetMet,
    started: o.started,
    finished: o.finished,
    sandbox: o.sandbox,
    run: { id: o.run.id, status: o.run.status, reason: o.run.reason },
    phases,
    faults,
    detected: faults.filter((f) => f.detected).length,
    missed: faults.filter((f) => !f.detected).length,
    cleaned: faults.every((f) => f.cleaned) && !o.sandboxLeft,
    follow_ups: followUps,
    drill_marked: true,
  };
}

/** "850 ms", "12.3 s", "4 min 5 s". */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round(ms % 60_000 / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/**
 * Renders a drill report.
 *
 * @example
 * ```ts
 * // formatDrillReport(report, "md").startsWith("## Drill: ")
 * ```
 */
export function formatDrillReport(report: DrillReport, format: "md" | "json"): string {
  if (format === "json") return JSON.stringify(report, null, 2) + "\n";
  const t0 = Date.parse(report.started);
  const at = (ts: string) => `+${formatMs(Date.parse(ts) - t0)}`;
  const lines = [
    `## Drill: ${report.title}`,
    "",
    `DRILL — not a real incident. Drill \`${report.drill}\` of runbook \`${report.runbook}\`, ` +
    `severity ${report.severity} (response target ${formatMs(report.response_target_ms)}), ` +
    `${report.started} → ${report.finished}, in a sandbox (${report.sandbox}).`,
    "",
    `**Scenario:** ${report.scenario}`,
    "",
    `**Result:** ${report.detected} of ${report.faults.length} faults detected, ${report.missed} missed; ` +
    `containment ${report.target_met ? "within" : "NOT within"} the ${report.severity} target; ` +
    `sandbox ${report.cleaned ? "cleaned, every fault removed" : "NOT fully cleaned"}; ` +
    `runbook run \`${report.run.id}\` ${report.run.status}${
      report.run.reason ? ` (${report.run.reason})` : ""
    }.`,
    "",
    "### Faults",
    "",
    "| Fault | Injected | Detected | By | Time to detect | Cleaned |",
    "|---|---|---|---|---|---|",
    ...report.faults.map((f) =>
      `| ${f.type}${f.note ? ` (${f.note})` : ""} | ${at(f.injected_at)} | ${
        f.detected ? `yes, ${at(f.detected_at!)}` : "**MISSED**"
      } | ${f.detected_by ?? `expected: ${f.expected.join(", ")}`} | ${
        f.time_to_detect_ms !== undefined ? formatMs(f.time_to_detect_ms) : "—"
      } | ${f.cleaned ? "yes" : `NO: ${f.leftover}`} |`
    ),
    "",
    "### Timeline",
    "",
    "| Phase | Start | End | Duration | Since incident | Failed steps |",
    "|---|---|---|---|---|---|",
    ...report.phases.map((p) =>
      `| ${p.phase} | ${at(p.started)} | ${at(p.finished)} | ${formatMs(p.duration_ms)} | ${
        formatMs(p.since_incident_ms)
      } | ${p.failed.join("; ") || "—"} |`
    ),
    "",
    "### Follow-ups",
    "",
    ...(report.follow_ups.length ? report.follow_ups.map((f) => `- [ ] ${f}`) : ["- none"]),
  ];
  return lines.join("\n") + "\n";
}
