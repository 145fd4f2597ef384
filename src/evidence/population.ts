/**
 * The auditor's population: every production change of a period, one row each, from the audit
 * log alone (pure). A change is a whole run (a rollout across nodes, or a run on one node) of a
 * change runbook, dated by the entry that closed it; drills are listed apart and never counted.
 *
 * @example
 * ```ts
 * import { buildPopulation } from "./population.ts";
 * const population = buildPopulation([], {
 *   from: new Date("2026-07-01T00:00:00Z"), to: new Date("2026-10-01T00:00:00Z"),
 *   now: new Date(), criteria: new Map() });
 * population.changes.length; // 0
 * ```
 * @module
 */
import { ACTION } from "../audit/actions.ts";
import {
  type Approval,
  approvalsFromLog,
  type Approver,
  personKeyId,
  retroReviews,
  type RetroStatus,
} from "../approval/mod.ts";
import type { LogLine } from "./build.ts";

/** The runbooks whose runs change production (SOP 1–7). */
export const CHANGE_RUNBOOKS: readonly string[] = [
  "deploy",
  "node-setup",
  "rollback",
  "shadow-deploy",
  "config-change",
  "hotfix",
  "key-rotation",
];

/**
 * How a change was authorized: an approved request, an emergency (retro-review owed), the
 * project's written `approval: { mode: off }`, or nothing at all.
 */
export type Authorization = "approved" | "emergency" | "off" | "none";

/** What the success criteria of a run said. */
export type CriteriaResult = "passed" | "failed" | "not_reached" | "none" | "unknown";

/** One production change. */
export interface ChangeRow {
  ts: string;
  run: string;
  runbook: string;
  /** The version or environment the change was about. */
  subject: string;
  nodes: string[];
  operator: string;
  authorization: Authorization;
  approvers: string[];
  /** The id of the key each approver signed with (`approvers[i]` signed with `approver_keys[i]`). */
  approver_keys: string[];
  /**
   * The git blob id of the approvers file the run's approvals were checked against (the gate
   * reads the file it is given): find it on the protected branch with `git log --find-object`.
   */
  approvers_blob: string;
  /** For an emergency change: where its retro-review stands. */
  retro?: RetroStatus;
  /** For a change run under `approval: { mode: off }`: the reason the project gave. */
  approval_reason?: string;
  /** Gates acknowledged with `--yes` before their `min_wait` had passed (`A3@web-1 Monitor ...`). */
  early_gates: string[];
  result: string;
  criteria: CriteriaResult;
  request: string;
  seq: number;
  hash: string;
}

/** One drill, listed apart. */
export interface DrillRow {
  ts: string;
  drill: string;
  runbook: string;
  result: string;
  seq: number;
  hash: string;
}

/** The population of a period. */
export interface Population {
  from: string;
  to: string;
  changes: ChangeRow[];
  drills: DrillRow[];
  /** The log it was drawn from, as verified (`loadPopulation`): how an auditor checks it is whole. */
  log?: PopulationLog;
}

/**
 * What the verification of the log said when the population was drawn: the number of entries,
 * and the seq and SHA-256 of the last one, which a checkpoint or the log itself can confirm.
 */
export interface PopulationLog {
  verified: boolean;
  entries: number;
  last_seq?: number;
  last_hash?: string;
  /** `file:line: reason` of the first bad line. */
  problem?: string;
}

/** What the population is built from besides the log. */
export interface PopulationOptions {
  /** Start of the period (inclusive). */
  from: Date;
  /** End of the period (exclusive). */
  to: Date;
  now: Date;
  /** Success-criteria result by run id (from the run records). */
  criteria: ReadonlyMap<string, CriteriaResult>;
  runbooks?: readonly string[];
  /**
   * The approvers file the auditor trusts (their copy of the protected branch's): when given,
   * an approval counts only if its approver is listed with that very key and the role approver.
   */
  approvers?: readonly Approver[];
}

/** Whether an approval's signer is in `approvers` (when given) with that key and the role. */
function listed(approval: Approval, approvers: readonly Approver[] | undefined): boolean {
  return approvers === undefined ||
    approvers.some((a) =>
      a.name === approval.approver && a.publicKey === approval.approver_key &&
      a.roles.includes("approver")
    );
}

/** A run id of a whole run: not a node's part (`@node`) nor a failure path (`.rollback`). */
function isWholeRun(run: unknown): run is string {
  return typeof run === "string" && !run.includes("@") && !run.includes(".");
}

/**
 * Builds the population of a period from the log lines.
 *
 * @example
 * ```ts
 * // const population = buildPopulation(await readLogLines(stateDir), { from, to, now, criteria });
 * ```
 */
export function buildPopulation(lines: readonly LogLine[], options: PopulationOptions): Population {
  const runbooks = new Set(options.runbooks ?? CHANGE_RUNBOOKS);
  const inPeriod = (ts: string) => {
    const t = Date.parse(ts);
    return t >= options.from.getTime() && t < options.to.getTime();
  };
  const params = new Map<string, Record<string, unknown>>();
  const approversBlobs = new Map<string, string>();
  const carried = carriedOut();
  const early = new Map<string, string[]>();
  for (const { entry } of lines) {
    if (entry.action === ACTION.step && entry.early === true && typeof entry.run === "string") {
      const [whole, node] = entry.run.split("@");
      const list = early.get(whole) ?? [];
      list.push(`${entry.step}${node ? `@${node}` : ""} ${entry.name}`);
      early.set(whole, list);
    }
    if (
      entry.action === "run" && entry.status === "initiated" && typeof entry.params === "string"
    ) {
      const whole = String(entry.run).split("@")[0];
      if (!params.has(whole)) params.set(whole, safeJson(entry.params));
    }
    if (entry.action === ACTION.changeCheck && entry.status === "success") {
      approversBlobs.set(String(entry.request), String(entry.approvers_blob ?? ""));
    }
    carried.record(entry, approversBlobs);
  }
  // Requests and approvals count only as far as their signatures verify from the log itself.
  const signed = approvalsFromLog(lines.map((l) => l.entry));
  const requests = signed.requests;
  const approvals = new Map<string, { name: string; key: string }[]>();
  for (const [request, list] of signed.approvals) {
    const prior: { name: string; key: string }[] = [];
    for (const a of list.filter((a) => a.kind === "prior" && listed(a, options.approvers))) {
      const given = { name: a.approver, key: personKeyId(a.approver_key) };
      if (!prior.some((p) => p.name === given.name && p.key === given.key)) prior.push(given);
    }
    approvals.set(request, prior);
  }
  const retro = new Map(
    retroReviews(lines.map((l) => l.entry), options.now).map((r) => [
      r.request,
      r.status,
    ]),
  );
  const changes: ChangeRow[] = [];
  const drills: DrillRow[] = [];
  const closedRollouts = new Set<string>();
  const unfinished = unfinishedRuns(lines, runbooks);
  for (const { entry, hash } of lines) {
    const open = unfinished.get(entry.seq);
    if (open !== undefined && inPeriod(entry.ts)) {
      changes.push(row({ ...open, ts: entry.ts, status: "unfinished" }, hash, entry.seq));
      continue;
    }
    if (!inPeriod(entry.ts)) continue;
    if (entry.action === ACTION.drill && entry.status !== "initiated") {
      drills.push({
        ts: entry.ts,
        drill: String(entry.drill_id ?? entry.scenario ?? ""),
        runbook: String(entry.runbook ?? ""),
        result: entry.status,
        seq: entry.seq,
        hash,
      });
      continue;
    }
    const closing = (entry.action === "run" || entry.action === "rollout") &&
      entry.status !== "initiated" && isWholeRun(entry.run) && entry.drill !== true;
    if (!closing || !runbooks.has(String(entry.runbook))) continue;
    if (entry.action === "rollout") closedRollouts.add(String(entry.run));
    else if (closedRollouts.has(String(entry.run))) continue;
    changes.push(row(entry, hash, entry.seq));
  }
  return { from: options.from.toISOString(), to: options.to.toISOString(), changes, drills };

  // One change from the entry that closed its run (or, for a run that never closed, its
  // opening entry dated and hashed by the run's last entry).
  function row(entry: Record<string, unknown>, hash: string, seq: number): ChangeRow {
    const run = String(entry.run);
    // A run counts as authorized by its request only if it passed the gate itself: entries that
    // merely name a request (a replay by a program that skipped the gate) authorize nothing.
    const named = typeof entry.request === "string" ? entry.request : "";
    const requestId = carried.runs.has(run) ? named : "";
    const request = requests.get(requestId);
    const emergency = request?.emergency !== undefined;
    const approvedBy = approvals.get(requestId) ?? [];
    const given = params.get(run) ?? {};
    return {
      ts: String(entry.ts),
      run,
      runbook: String(entry.runbook),
      subject: String(given.version ?? given.env ?? given.from ?? given.failed ?? ""),
      nodes: nodesOf(entry),
      operator: String(request?.operator ?? entry.user),
      authorization: emergency
        ? "emergency"
        : request && approvedBy.length
        ? "approved"
        : entry.approval === "off"
        ? "off"
        : "none",
      approvers: approvedBy.map((a) => a.name),
      approver_keys: approvedBy.map((a) => a.key),
      approvers_blob: carried.runs.get(run) ?? "",
      retro: emergency ? retro.get(requestId) : undefined,
      approval_reason: !request && entry.approval === "off"
        ? String(entry.approval_reason ?? "")
        : undefined,
      result: String(entry.status),
      criteria: options.criteria.get(run) ?? "unknown",
      request: named,
      early_gates: early.get(run) ?? [],
      seq,
      hash,
    };
  }
}

/**
 * The runs that carried out the request they name: a request (its signed approvals, or the
 * emergency it declares) covers one change — the first run that opens under it, and the runs
 * that `--resume` it. A later run naming the same request is a replay (the gate refuses one;
 * a program that skips the gate can still write its entries), authorized by nothing. For each
 * run carried out, the approvers file blob of the last successful check before it opened.
 */
function carriedOut(): {
  runs: Map<string, string>;
  record(entry: Record<string, unknown>, blobs: ReadonlyMap<string, string>): void;
} {
  const runs = new Map<string, string>();
  const requestOf = new Map<string, string>();
  return {
    runs,
    record(entry, blobs) {
      const request = String(entry.request ?? "");
      const run = entry.run;
      const opening = (entry.action === "run" || entry.action === "rollout") &&
        entry.status === "initiated" && isWholeRun(run) && request !== "";
      if (!opening || runs.has(run)) return;
      const resumes = typeof entry.resumes === "string" ? entry.resumes : undefined;
      const firstRun = ![...requestOf.values()].includes(request);
      if (firstRun || (resumes !== undefined && requestOf.get(resumes) === request)) {
        requestOf.set(run, request);
        runs.set(run, blobs.get(request) ?? "");
      }
    },
  };
}

/**
 * Runs of the change runbooks that opened and never closed (the process was killed, the host
 * went down): a change all the same, whose steps may have run. Keyed by the seq of the run's
 * last entry, which dates it; the value is the entry that opened it.
 */
function unfinishedRuns(
  lines: readonly LogLine[],
  runbooks: ReadonlySet<string>,
): Map<number, Record<string, unknown>> {
  const opened = new Map<string, Record<string, unknown>>();
  const closed = new Set<string>();
  const last = new Map<string, number>();
  for (const { entry } of lines) {
    if (typeof entry.run !== "string") continue;
    const whole = entry.run.split("@")[0].split(".")[0];
    last.set(whole, entry.seq);
    if (
      (entry.action === "run" || entry.action === "rollout") && isWholeRun(entry.run) &&
      entry.drill !== true && runbooks.has(String(entry.runbook))
    ) {
      if (entry.status !== "initiated") closed.add(whole);
      else if (!opened.has(whole)) opened.set(whole, entry);
    }
  }
  const unfinished = new Map<number, Record<string, unknown>>();
  for (const [run, entry] of opened) {
    if (!closed.has(run)) unfinished.set(last.get(run)!, entry);
  }
  return unfinished;
}

function nodesOf(entry: Record<string, unknown>): string[] {
  if (typeof entry.nodes === "string") {
    return entry.nodes.split(",").filter(Boolean).map((pair) => pair.split("=")[0]);
  }
  return typeof entry.target === "string" ? [entry.target] : [];
}

function safeJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The exceptions an auditor looks at first. */
export interface Exceptions {
  unapproved: ChangeRow[];
  /** Changes the project let through with `approval: { mode: off }`, with its reason. */
  approvalOff: ChangeRow[];
  emergencyWithoutReview: ChangeRow[];
  failed: ChangeRow[];
  /** Changes with a gate acknowledged before its `min_wait` ("Monitor for 15 minutes" skipped). */
  earlyGates: ChangeRow[];
}

/**
 * The changes that need a word: unapproved, run with approvals switched off, emergency without
 * a signed retro-review, failed.
 *
 * @example
 * ```ts
 * exceptionsOf({ from: "", to: "", changes: [], drills: [] }).failed.length; // 0
 * ```
 */
export function exceptionsOf(population: Population): Exceptions {
  const { changes } = population;
  return {
    unapproved: changes.filter((c) => c.authorization === "none"),
    approvalOff: changes.filter((c) => c.authorization === "off"),
    emergencyWithoutReview: changes.filter((c) =>
      c.authorization === "emergency" && c.retro !== "reviewed"
    ),
    failed: changes.filter((c) => c.result !== "success"),
    earlyGates: changes.filter((c) => c.early_gates.length > 0),
  };
}

/**
 * Whether a change is one of the {@link exceptionsOf} (marked in tables, counted in packs).
 *
 * @example
 * ```ts
 * import type { ChangeRow } from "./population.ts";
 * declare const row: ChangeRow;
 * isException({ ...row, authorization: "off", result: "success", early_gates: [] }); // true
 * ```
 */
export function isException(row: ChangeRow): boolean {
  return row.authorization === "none" || row.authorization === "off" ||
    row.result !== "success" || (row.authorization === "emergency" && row.retro !== "reviewed") ||
    row.early_gates.length > 0;
}

/**
 * A quarter (`2026-Q3`) or a day range as a period: [from, to) in UTC.
 *
 * @example
 * ```ts
 * periodOf("2026-Q3").to.toISOString(); // "2026-10-01T00:00:00.000Z"
 * periodOf("2026-07-01", "2026-09-30").to.toISOString(); // "2026-10-01T00:00:00.000Z"
 * ```
 */
export function periodOf(from: string, to?: string): { from: Date; to: Date } {
  const quarter = /^(\d{4})-Q([1-4])$/.exec(from);
  if (quarter && to === undefined) {
    const year = Number(quarter[1]);
    const first = (Number(quarter[2]) - 1) * 3;
    return { from: new Date(Date.UTC(year, first, 1)), to: new Date(Date.UTC(year, first + 3, 1)) };
  }
  const day = (text: string | undefined, name: string) => {
    if (!text || !/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(text))) {
      throw new RangeError(`${name} expects a date such as 2026-07-01, got "${text ?? ""}"`);
    }
    const date = new Date(`${text}T00:00:00Z`);
    // JavaScript rolls 2026-02-30 over to March 2: a period must be the days the auditor named.
    if (date.toISOString().slice(0, 10) !== text) {
      throw new RangeError(`${name}: ${text} is not a day of the calendar`);
    }
    return date;
  };
  const start = day(from, "--from");
  const end = new Date(day(to, "--to").getTime() + 86_400_000);
  if (end <= start) throw new RangeError("--to is before --from");
  return { from: start, to: end };
}
