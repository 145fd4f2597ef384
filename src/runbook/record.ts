/**
 * The run record as a run fills it: a fresh record, each step's entry built from what ran and
 * how it went (secrets masked, output hashed, the tail kept for failures), and the exit code a
 * finished record maps to. Pure: saving is `state/runs.ts`'s job, ordering is `run.ts`'s.
 *
 * @example
 * ```ts
 * import { exitCodeOf } from "./record.ts";
 * import type { RunRecord } from "../state/runs.ts";
 * declare const record: RunRecord;
 * Deno.exitCode = exitCodeOf(record); // 0, 1, or 130
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { LoadedRunbook } from "./load.ts";
import type { PlannedStep, RunContext } from "./plan.ts";
import type { ResolvedStep } from "./resolve.ts";
import type { StepOutcome } from "./execute.ts";
import { outputHash, type RunRecord, type StepRecord } from "../state/runs.ts";
import type { TemplateValue } from "../template.ts";
import type { RunSubject } from "../audit/actions.ts";

/**
 * Exit code for a finished run: 0 success; 130 interrupted by a signal; 1 anything else
 * (failed, declined, or stopped because a node's connection was lost).
 *
 * @example
 * ```ts
 * import { exitCodeOf } from "./record.ts";
 * import type { RunRecord } from "../state/runs.ts";
 * declare const record: RunRecord;
 * exitCodeOf({ ...record, status: "aborted", interruption: { kind: "signal", what: "SIGHUP" } }); // 130
 * ```
 */
export function exitCodeOf(record: RunRecord): number {
  if (record.status === "success") return 0;
  if (record.status === "aborted" && record.interruption?.kind !== "connection") return 130;
  return 1;
}

/**
 * Whether a step's status stops the run (or fails a criterion).
 *
 * @example
 * ```ts
 * import { isFailure } from "./record.ts";
 * isFailure("declined"); // true
 * isFailure("skipped"); // false
 * ```
 */
export function isFailure(status: StepRecord["status"]): boolean {
  return status === "failure" || status === "timed_out" || status === "aborted" ||
    status === "declined";
}

/**
 * A fresh record of a run on `target` (a node, or for a rollout its nodes), not started yet.
 *
 * @example
 * ```ts
 * import { newRunRecord } from "./record.ts";
 * import type { LoadedRunbook } from "./load.ts";
 * declare const loaded: LoadedRunbook;
 * const run = { id: "r1", operator: "alice", host: "ops", started: new Date().toISOString() };
 * newRunRecord(loaded, { params: {}, config: { file: "protocol.yaml" } }, { run }, "web-1").status; // "running"
 * ```
 */
export function newRunRecord(
  loaded: LoadedRunbook,
  options: { params: Record<string, TemplateValue>; config: Pick<Config, "file"> },
  context: Pick<RunContext, "run">,
  target: string,
): RunRecord {
  return {
    id: context.run.id,
    runbook: loaded.runbook.id,
    title: loaded.runbook.title,
    file: loaded.file,
    params: options.params,
    operator: context.run.operator,
    host: context.run.host,
    target,
    config: options.config.file,
    started: context.run.started,
    status: "running",
    steps: [],
  };
}

/**
 * The record of one finished step: `mask` hides secrets in everything stored.
 *
 * @example
 * ```ts
 * import { stepRecord } from "./record.ts";
 * import type { ResolvedStep } from "./resolve.ts";
 * declare const step: ResolvedStep;
 * const outcome = { status: "success" as const, attempts: 1, stdout: "ok\n", stderr: "" };
 * stepRecord(step, "step", new Date(), outcome, (text) => text).status; // "success"
 * ```
 */
export function stepRecord(
  step: ResolvedStep,
  phase: StepRecord["phase"],
  started: Date,
  raw: StepOutcome,
  mask: (text: string) => string,
): StepRecord {
  const failed = isFailure(raw.status);
  const error = raw.error && mask(raw.error);
  // A step's `message` says what its "no" means (no such tag, nothing deployed). It is true
  // only when the step ran and answered: never for a lost connection, a timeout, an
  // interruption or a step that could not start, whose error alone says what happened.
  const answered = raw.status === "failure" && !raw.lost && raw.attempts > 0;
  const stdout = mask(raw.stdout), stderr = mask(raw.stderr);
  return {
    number: step.number,
    phase,
    name: step.name,
    checklist: step.checklist ?? step.name,
    kind: step.kind,
    status: raw.status,
    started: started.toISOString(),
    duration_ms: Date.now() - started.getTime(),
    attempts: raw.attempts,
    exit_code: raw.exitCode,
    command: step.script && mask(step.script),
    url: step.http?.url,
    output_sha256: raw.attempts ? outputHash(stdout, stderr) : undefined,
    output_cut: raw.cut ? raw.cut.stdout + raw.cut.stderr : undefined,
    tail: failed ? (stderr || stdout).trimEnd().split("\n").slice(-20) : undefined,
    message: failed
      ? [answered ? step.message : undefined, error].filter(Boolean).join(": ")
      : undefined,
    min_wait_ms: raw.gate?.min_wait_ms,
    waited_ms: raw.gate?.waited_ms,
    early: raw.gate?.early,
  };
}

/**
 * Why a prerequisite is unmet, in its own words: its `message`; for a script without one that
 * ran and said no, the last line it printed (`no tag v9.9.9 in …`: a script that tells its
 * causes apart says which one it found); otherwise the engine's error, or its name.
 *
 * @example
 * ```ts
 * import { unmetReason } from "./record.ts";
 * import type { PlannedStep } from "./plan.ts";
 * import type { StepRecord } from "../state/runs.ts";
 * declare const item: PlannedStep, step: StepRecord;
 * unmetReason(item, step); // "no tag v9.9.9 in /srv/app.git: create it with release:create …"
 * ```
 */
export function unmetReason(item: Pick<PlannedStep, "kind" | "step">, step: StepRecord): string {
  const said = item.kind === "run" && item.step.message === undefined &&
      step.status === "failure" && step.exit_code
    ? step.tail?.at(-1)?.trim()
    : undefined;
  return said || step.message || step.name;
}

/**
 * A run as the audit log names it.
 *
 * @example
 * ```ts
 * import { runSubject } from "./record.ts";
 * import type { RunRecord } from "../state/runs.ts";
 * declare const record: RunRecord;
 * runSubject(record).run === record.id; // true
 * ```
 */
export function runSubject(record: Pick<RunRecord, "id" | "runbook" | "target">): RunSubject {
  return { run: record.id, runbook: record.runbook, target: record.target };
}
