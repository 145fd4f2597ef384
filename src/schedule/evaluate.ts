/**
 * Judging a schedule against the audit log, as data: entries and a clock in, one verdict per
 * control out. No files, so every overdue and current case is a plain test over entries.
 *
 * Rules: an entry counts as evidence when every field of the control's `evidence` matches.
 * Entries marked `drill: true` count only for a control whose evidence asks for `drill` — a
 * drill's security audit of a sandbox is not the weekly audit of production. A `per_deployment`
 * control is current when the latest deployment has evidence in the same run or within
 * `deployment_window` of it.
 *
 * @example
 * ```ts
 * import { evaluateSchedule } from "./evaluate.ts";
 * import { loadSchedule } from "./schema.ts";
 * import { readAuditEntries } from "../audit/mod.ts";
 * const schedule = await loadSchedule("policies/schedule.yaml");
 * const report = evaluateSchedule(schedule, await readAuditEntries("/home/deploy/.protocol"), new Date());
 * Deno.exitCode = report.overdue.length ? 1 : 0;
 * ```
 * @module
 */
import type { AuditEntry } from "../audit/mod.ts";
import { type Control, intervalMs, type Schedule } from "./schema.ts";

/** Where a control stands. */
export type ControlStatus = "current" | "overdue" | "not_recorded" | "not_applicable";

/** The entry that last showed a control (or a deployment) was done. */
export interface EvidenceRef {
  seq: number;
  ts: string;
  status: string;
  run?: string;
}

/** One control's verdict. */
export interface ControlVerdict {
  id: string;
  title: string;
  frequency: string;
  command?: string;
  every?: string;
  per_deployment: boolean;
  status: ControlStatus;
  last?: EvidenceRef;
  /** When it is due again by its interval. */
  next_due?: string;
  /** The latest deployment, and the evidence that covers it, for per-deployment controls. */
  deployment?: { entry: EvidenceRef; covered_by?: EvidenceRef };
  /** Why it is overdue or not recorded, one sentence each. */
  reasons: string[];
}

/** The whole report. */
export interface ScheduleReport {
  schedule: string;
  title: string;
  now: string;
  controls: ControlVerdict[];
  /** Ids of the overdue controls. */
  overdue: string[];
}

/**
 * Whether an entry matches a set of field values (a list means any of them).
 *
 * @example
 * ```ts
 * matches({ action: "policy", policy: "soc2" } as never, { action: "policy", policy: ["soc2"] }); // true
 * ```
 */
export function matches(entry: AuditEntry, match: Control["evidence"]): boolean {
  if (entry.drill === true && !("drill" in match)) return false;
  return Object.entries(match).every(([field, wanted]) => {
    const value = entry[field];
    if (value === undefined) return false;
    const options = Array.isArray(wanted) ? wanted : [wanted];
    return options.some((option) => String(option) === String(value));
  });
}

/** A node's run (`ID@web-1`) and a failure path's (`ID.rollback`) belong to run `ID`. */
export function runRoot(run: unknown): string | undefined {
  return typeof run === "string" && run ? run.split(/[@.]/)[0] : undefined;
}

const ref = (entry: AuditEntry): EvidenceRef => ({
  seq: entry.seq,
  ts: entry.ts,
  status: entry.status,
  run: typeof entry.run === "string" ? entry.run : undefined,
});

/** The ids a policy entry lists in a comma-separated field (`not_applicable`, `skipped`). */
function listed(entry: AuditEntry, field: string): string[] {
  const value = entry[field];
  return typeof value === "string" ? value.split(",").filter(Boolean) : [];
}

/**
 * How a policy entry bears on a control done by one of its checks. A run narrowed to other
 * checks (`policy: security-audit/compose-risks`) does not match the control's evidence at all.
 */
function checkOutcome(entry: AuditEntry, check: string): "ran" | "not_applicable" | "not_run" {
  if (listed(entry, "skipped").includes(check)) return "not_run";
  return listed(entry, "not_applicable").includes(check) ? "not_applicable" : "ran";
}

function latest(entries: AuditEntry[], match: Control["evidence"]): AuditEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (matches(entries[i], match)) return entries[i];
  return undefined;
}

/**
 * Judges one control. `entries` are in log order (oldest first).
 *
 * @example
 * ```ts
 * import { loadSchedule } from "./schema.ts";
 * const schedule = await loadSchedule("policies/schedule.yaml");
 * const verdict = judgeControl(schedule.controls[0], [], schedule.deployment, new Date());
 * verdict.status; // "overdue" or "current"
 * ```
 */
export function judgeControl(
  control: Control,
  entries: AuditEntry[],
  deployment: Schedule["deployment"],
  now: Date,
): ControlVerdict {
  const matching = entries.filter((entry) => matches(entry, control.evidence));
  const check = control.check;
  // A run where the control's check did not apply says the control itself does not apply.
  const latestRun = check
    ? matching.findLast((entry) => checkOutcome(entry, check) !== "not_run")
    : undefined;
  const evidence = check
    ? matching.filter((entry) => checkOutcome(entry, check) === "ran")
    : matching;
  const last = evidence.at(-1);
  const verdict: ControlVerdict = {
    id: control.id,
    title: control.title,
    frequency: control.frequency,
    command: control.command,
    every: control.every,
    per_deployment: control.per_deployment,
    status: "current",
    last: last && ref(last),
    reasons: [],
  };
  if (check && latestRun && checkOutcome(latestRun, check) === "not_applicable") {
    verdict.status = "not_applicable";
    verdict.last = ref(latestRun);
    verdict.reasons.push(
      `the ${check} check did not apply on the latest run (seq ${latestRun.seq}, ` +
        `${latestRun.ts}): there was nothing to audit`,
    );
    return verdict;
  }
  if (!last && control.only_where_recorded) {
    verdict.status = "not_recorded";
    verdict.reasons.push(
      `never recorded in the audit log: done outside this tool (${control.frequency}); ` +
        `record each one with \`deno task schedule --record ${control.id}\` to have it tracked`,
    );
    return verdict;
  }
  if (control.every) {
    if (!last) verdict.reasons.push(`never done (due: ${control.frequency})`);
    else {
      const due = new Date(Date.parse(last.ts) + intervalMs(control.every));
      verdict.next_due = due.toISOString();
      if (due.getTime() < now.getTime()) {
        verdict.reasons.push(
          `last done ${last.ts} (seq ${last.seq}); due every ${control.every}, so due ${verdict.next_due}`,
        );
      }
    }
  }
  if (control.per_deployment) {
    const deploy = latest(entries, deployment);
    if (deploy) {
      const window = intervalMs(control.deployment_window);
      const at = Date.parse(deploy.ts);
      const root = runRoot(deploy.run);
      const cover = evidence.findLast((entry) =>
        (root !== undefined && runRoot(entry.run) === root) ||
        Math.abs(Date.parse(entry.ts) - at) <= window
      );
      verdict.deployment = { entry: ref(deploy), covered_by: cover && ref(cover) };
      if (!cover) {
        verdict.reasons.push(
          `the latest deployment (seq ${deploy.seq}, ${deploy.ts}${
            root ? `, run ${root}` : ""
          }) has no ${control.id} in its run or within ${control.deployment_window} of it`,
        );
      }
    } else if (!control.every && !last) {
      // Nothing deployed and nothing done: nothing is owed yet.
      verdict.reasons.length = 0;
    }
  }
  if (verdict.reasons.length) verdict.status = "overdue";
  return verdict;
}

/**
 * The audit fields that record a control done by hand (`schedule --record ID`): its evidence,
 * taking the first value of each list. Only for controls done outside this tool.
 *
 * @example
 * ```ts
 * // recordFields(siemReview) → { action: "review", review: "siem", status: "success" }
 * ```
 */
export function recordFields(control: Control): Record<string, string | number | boolean> {
  return Object.fromEntries(
    Object.entries(control.evidence).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]),
  );
}

/**
 * Judges every control of `schedule` against the log's entries at `now`.
 *
 * @example
 * ```ts
 * import { loadSchedule } from "./schema.ts";
 * const schedule = await loadSchedule("policies/schedule.yaml");
 * const report = evaluateSchedule(schedule, [], new Date());
 * report.overdue; // every control with no evidence yet
 * ```
 */
export function evaluateSchedule(
  schedule: Schedule,
  entries: AuditEntry[],
  now: Date,
): ScheduleReport {
  const controls = schedule.controls.map((control) =>
    judgeControl(control, entries, schedule.deployment, now)
  );
  return {
    schedule: schedule.id,
    title: schedule.title,
    now: now.toISOString(),
    controls,
    overdue: controls.filter((c) => c.status === "overdue").map((c) => c.id),
  };
}
