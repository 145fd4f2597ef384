/**
 * The evidence checklist of a finished run, as data: the run record's steps grouped into the
 * change-ticket checklist, each item ticked or not, and each command matched with the signed
 * audit entry that recorded it (its `seq` and the SHA-256 of its line — the value the next
 * entry's `prev` carries, so an auditor can find and check it in the log). Pure: the caller
 * reads the record and the log.
 *
 * @example
 * ```ts
 * import { buildEvidence } from "./build.ts";
 * import { readRunRecord } from "../state/runs.ts";
 * import { logVerdict, readLogLines } from "./mod.ts";
 * const stateDir = "/home/deploy/.protocol";
 * const record = await readRunRecord(stateDir, "20261123T190102Z-a1b2c3");
 * const evidence = buildEvidence(record, await readLogLines(stateDir), await logVerdict(stateDir));
 * evidence.runs[0].sections[0].items[0].ticked; // true when that item's steps succeeded
 * ```
 * @module
 */
import type { AuditEntry } from "../audit/mod.ts";
import { ACTION } from "../audit/actions.ts";
import type { RunRecord, StepRecord } from "../state/runs.ts";

/** One audit log line: its parsed entry and the SHA-256 of its bytes. */
export interface LogLine {
  entry: AuditEntry;
  hash: string;
}

/** What `audit:verify` said about the log. */
export interface LogVerdict {
  verified: boolean;
  entries: number;
  /** `file:line: reason` of the first bad line. */
  problem?: string;
}

/** How a recorded command stands against the log. */
export type AuditMatch = "match" | "missing" | "mismatch" | "not_recorded";

/** One command (or human confirmation) of an item, with its audit entry. */
export interface EvidenceStep {
  number: string;
  name: string;
  status: StepRecord["status"];
  started: string;
  duration_ms: number;
  exit_code?: number;
  output_sha256?: string;
  /** Output bytes past the target's 1 MiB that `output_sha256` does not cover. */
  output_cut?: number;
  seq?: number;
  hash?: string;
  /** Who the audit entry says ran it. */
  user?: string;
  audit: AuditMatch;
  /** What differs between the run record and the audit entry. */
  detail?: string;
  /** A gate with `min_wait`: its wait, the time to the answer, and `--yes` before it passed. */
  min_wait_ms?: number;
  waited_ms?: number;
  early?: true;
}

/** One checklist item: a top-level step, criterion or human item. */
export interface EvidenceItem {
  number: string;
  text: string;
  ticked: boolean;
  /** Every step of it was skipped (its `when:` did not hold): not applicable, not undone. */
  skipped: boolean;
  /** When it started (its first command). */
  time: string;
  operator: string;
  node: string;
  steps: EvidenceStep[];
}

/** A run's items in the runbook's three checklist sections. */
export interface RunEvidence {
  run: string;
  runbook: string;
  title: string;
  node: string;
  status: RunRecord["status"];
  reason?: string;
  started: string;
  finished?: string;
  /** The run's closing `run` entry in the log. */
  closing?: { seq: number; hash: string; status: string };
  sections: { title: string; items: EvidenceItem[] }[];
}

/** The whole evidence document. */
export interface Evidence {
  run: string;
  runbook: string;
  title: string;
  params: RunRecord["params"];
  operator: string;
  host: string;
  target: string;
  status: RunRecord["status"];
  started: string;
  finished?: string;
  /** Each node's run (one for a local run), then the failure path's when it ran. */
  runs: RunEvidence[];
  log: LogVerdict;
  /** Whether every recorded command has its matching entry and the log verifies. */
  holds: boolean;
  /** The change request the run carried out, and who approved it (from the audit log). */
  request?: string;
  approvers?: string[];
  /** Each prior approval: who signed, the id of the key they signed with, when. */
  approvals?: { name: string; key_id: string; ts: string }[];
  emergency?: boolean;
  /** The run went ahead under the project's `approval: { mode: off }`: its reason. */
  approval_off?: string;
}

/** What the runbook file adds: the titles of `uses` groups and of the three sections. */
export interface RunbookShape {
  headers?: Map<string, string>;
  sections?: readonly [string, string, string];
}

const DONE = new Set<StepRecord["status"]>(["success", "confirmed", "acknowledged"]);

/** Whether a recorded status ticks a checklist box. */
export function ticks(status: StepRecord["status"]): boolean {
  return DONE.has(status);
}

/** The top-level item a step belongs to: `3.2.1` → `3`. */
export function topLevel(number: string): string {
  return number.split(".")[0];
}

/**
 * Matches one recorded step with its `step` entry in the log.
 *
 * @example
 * ```ts
 * // matchStep(step, "RUN", index).audit === "match"
 * ```
 */
export function matchStep(
  step: StepRecord,
  run: string,
  index: Map<string, LogLine>,
): EvidenceStep {
  const base: EvidenceStep = {
    number: step.number,
    name: step.name,
    status: step.status,
    started: step.started,
    duration_ms: step.duration_ms,
    exit_code: step.exit_code,
    output_sha256: step.output_sha256,
    output_cut: step.output_cut,
    audit: "missing",
    min_wait_ms: step.min_wait_ms,
    waited_ms: step.waited_ms,
    early: step.early,
  };
  // Skipped steps are not journaled: a condition said no, nothing ran.
  if (step.status === "skipped") return { ...base, audit: "not_recorded" };
  const line = index.get(`${run}\0${step.number}`);
  if (!line) return { ...base, detail: `no step entry for run ${run} step ${step.number}` };
  const { entry } = line;
  const differences = [
    entry.status !== step.status ? `status ${entry.status} in the log, ${step.status} here` : "",
    entry.exit_code !== step.exit_code
      ? `exit code ${entry.exit_code ?? "none"} in the log, ${step.exit_code ?? "none"} here`
      : "",
  ].filter(Boolean);
  return {
    ...base,
    seq: entry.seq,
    hash: line.hash,
    user: entry.user,
    audit: differences.length ? "mismatch" : "match",
    detail: differences.join("; ") || undefined,
  };
}

/** Indexes the log's `step` entries by run and step number. */
export function stepIndex(lines: LogLine[]): Map<string, LogLine> {
  const index = new Map<string, LogLine>();
  for (const line of lines) {
    if (line.entry.action === ACTION.step) index.set(`${line.entry.run}\0${line.entry.step}`, line);
  }
  return index;
}

/**
 * One run's checklist: steps grouped by top-level number, placed in the section of their
 * phase (prerequisites and before-items, steps and criteria, after-items).
 */
export function runEvidence(
  record: RunRecord,
  lines: LogLine[],
  shape: RunbookShape = {},
  index = stepIndex(lines),
): RunEvidence {
  const [before, during, after] = shape.sections ?? ["Before", "Steps", "After"];
  const sectionOf = (phase: StepRecord["phase"]) =>
    phase === "prerequisite" || phase === "before" ? 0 : phase === "after" ? 2 : 1;
  const sections = [before, during, after].map((title) => ({
    title,
    items: [] as EvidenceItem[],
  }));
  const groups = new Map<string, { phase: StepRecord["phase"]; steps: StepRecord[] }>();
  for (const step of record.steps) {
    const key = `${step.phase}\0${topLevel(step.number)}`;
    const group = groups.get(key) ?? { phase: step.phase, steps: [] };
    group.steps.push(step);
    groups.set(key, group);
  }
  for (const [key, group] of groups) {
    const number = key.split("\0")[1];
    const steps = group.steps.map((step) => matchStep(step, record.id, index));
    const own = group.steps.find((step) => step.number === number);
    const ran = steps.filter((step) => step.status !== "skipped");
    sections[sectionOf(group.phase)].items.push({
      number,
      text: own?.checklist ?? shape.headers?.get(number) ?? group.steps[0].checklist,
      ticked: ran.length > 0 && ran.every((step) => ticks(step.status)),
      skipped: ran.length === 0 && steps.length > 0,
      time: group.steps[0].started,
      operator: steps.find((step) => step.user)?.user ?? record.operator,
      node: record.target,
      steps,
    });
  }
  const closing = lines.findLast((l) =>
    l.entry.action === ACTION.run && l.entry.run === record.id && l.entry.status !== "initiated"
  );
  return {
    run: record.id,
    runbook: record.runbook,
    title: record.title,
    node: record.target,
    status: record.status,
    reason: record.reason,
    started: record.started,
    finished: record.finished,
    closing: closing &&
      { seq: closing.entry.seq, hash: closing.hash, status: closing.entry.status },
    sections: sections.filter((section) => section.items.length > 0),
  };
}

/**
 * The evidence document of a finished run (a node's run, a rollout's every node, and the
 * failure path that ran).
 *
 * @example
 * ```ts
 * import { buildEvidence } from "./build.ts";
 * import { readRunRecord } from "../state/runs.ts";
 * const record = await readRunRecord("/home/deploy/.protocol", "20261123T190102Z-a1b2c3");
 * const evidence = buildEvidence(record, [], { verified: true, entries: 40 });
 * evidence.holds; // false: no command matched an audit line
 * ```
 */
export function buildEvidence(
  record: RunRecord,
  lines: LogLine[],
  log: LogVerdict,
  shape: RunbookShape = {},
  failureShape: RunbookShape = {},
): Evidence {
  const index = stepIndex(lines);
  const runs = (record.nodes ?? [record]).flatMap((node) => {
    const own = runEvidence(node, lines, shape, index);
    const path = node.failure_path
      ? [runEvidence(node.failure_path, lines, failureShape, index)]
      : [];
    return [own, ...path];
  });
  const steps = runs.flatMap((run) => run.sections.flatMap((s) => s.items.flatMap((i) => i.steps)));
  return {
    run: record.id,
    runbook: record.runbook,
    title: record.title,
    params: record.params,
    operator: runs[0]?.sections[0]?.items[0]?.operator ?? record.operator,
    host: record.host,
    target: record.target,
    status: record.status,
    started: record.started,
    finished: record.finished,
    runs,
    log,
    holds: log.verified && steps.every((s) => s.audit === "match" || s.audit === "not_recorded"),
  };
}
