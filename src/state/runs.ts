/**
 * Run records: what happened in a run, step by step — the raw material for the audit log and
 * for evidence checklists. `runs/<id>.json` is written whole when a run starts and when it
 * ends; in between, each finished step (and a rollout's each finished node run) is appended to
 * `runs/<id>.steps.jsonl` (one line, no rewrite: a step costs the same whether it is the 2nd or
 * the 200th), so a crash loses nothing that had finished. Readers ({@link readRunRecord},
 * {@link listRunRecords}) merge the appended lines into a record still `running`.
 *
 * @example
 * ```ts
 * import { newRunId, saveRunRecord } from "./runs.ts";
 * console.log(newRunId()); // "20261123T190102Z-a1b2c3"
 * ```
 * @module
 */
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { TemplateValue } from "../template.ts";

/** How a step ended. */
export type StepStatus =
  | "success"
  | "failure"
  | "skipped"
  | "aborted"
  | "timed_out"
  | "confirmed"
  | "acknowledged"
  | "declined";

/** One step (or human checklist item) of a run. */
export interface StepRecord {
  number: string;
  phase: "prerequisite" | "before" | "step" | "success" | "after";
  name: string;
  checklist: string;
  kind: string;
  status: StepStatus;
  started: string;
  duration_ms: number;
  attempts: number;
  exit_code?: number;
  /** The command as it ran, with every value quoted. */
  command?: string;
  url?: string;
  /** SHA-256 of stdout then stderr, so evidence can be matched without storing secrets. */
  output_sha256?: string;
  /**
   * Bytes the step printed past the 1 MiB a target keeps of each stream: counted, but in neither
   * `output_sha256` nor `tail`. Absent when nothing was cut.
   */
  output_cut?: number;
  /** Last lines of output, kept for failures. */
  tail?: string[];
  message?: string;
  /** A gate with `min_wait`: the wait it required and the time from the step before it to the answer. */
  min_wait_ms?: number;
  waited_ms?: number;
  /** Acknowledged with `--yes` before its `min_wait` had passed. */
  early?: true;
}

/** How a run ended. `declined`: a human said no at a gate before anything changed. */
export type RunStatus = "running" | "success" | "failure" | "declined" | "aborted" | "skipped";

/** What stopped a run from outside: a signal to the tool, or a node's lost connection. */
export interface Interruption {
  kind: "signal" | "connection";
  /** `SIGINT`, `SIGTERM`, `SIGHUP`; or the node whose connection was lost. */
  what: string;
  detail?: string;
}

/** One node as an aborted run left it: what an on-call engineer checks first. */
export interface NodeAfterAbort {
  node: string;
  /** The run of this node: how it ended. */
  status: RunStatus;
  /** The active release (`current`), when it could be read. */
  release?: string;
  /** Whether the app answered its health check with 200; undefined when there is none. */
  healthy?: boolean;
  health?: string;
  /** Whether a deploy lock is still on the node, and whose. */
  lock: "free" | "held by this run" | "held by another run" | "unknown";
  /** What happened to a node that had changed: rolled back, kept, or could not be undone. */
  undo?: string;
  /** Why a fact could not be read (unreachable node). */
  problem?: string;
  /** The exact command to run next. */
  next: string;
}

/** A whole run. */
export interface RunRecord {
  id: string;
  runbook: string;
  title: string;
  file: string;
  params: Record<string, TemplateValue>;
  operator: string;
  host: string;
  /** The node (or, for a run across nodes, the selector). */
  target: string;
  /** The rollout batch of a node's run, from 1. */
  batch?: number;
  /** For a run across nodes: the strategy and every node's own run. */
  strategy?: string;
  nodes?: RunRecord[];
  config?: string;
  started: string;
  finished?: string;
  duration_ms?: number;
  status: RunStatus;
  /** Why a run did not succeed, in one sentence. */
  reason?: string;
  steps: StepRecord[];
  /** The run of the failure path (`on_failure`), when it ran. */
  failure_path?: RunRecord;
  /** Whether this run changed its node (a step marked `changes` started). */
  changed?: boolean;
  /** Steps that change a node and finished successfully, as `number name`. */
  changes_made?: string[];
  /** What interrupted an aborted run. */
  interruption?: Interruption;
  /** For an aborted rollout: every node as the run left it. */
  abort_summary?: NodeAfterAbort[];
  /** The run this one resumes (`--resume`). */
  resumes?: string;
}

/** A new run id: UTC time to the second, then six random hex digits. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${[...random].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** SHA-256 hex of a step's output. */
export function outputHash(stdout: string, stderr: string): string {
  return createHash("sha256").update(stdout).update("\0").update(stderr).digest("hex");
}

/** Where run records live. */
export function runsDir(stateDir: string): string {
  return join(stateDir, "runs");
}

/** The file of a run's steps appended since its record was last written whole. */
function stepsPath(stateDir: string, id: string): string {
  return join(runsDir(stateDir), `${id}.steps.jsonl`);
}

/**
 * Writes a run record whole, atomically (temp file, then rename), mode 0600; the steps appended
 * before it are in it now, so their file goes.
 *
 * @example
 * ```ts
 * import { saveRunRecord } from "./runs.ts";
 * import type { RunRecord } from "./runs.ts";
 * declare const record: RunRecord;
 * await saveRunRecord("/tmp/state", record); // "/tmp/state/runs/<id>.json"
 * ```
 */
export function saveRunRecord(stateDir: string, record: RunRecord): Promise<string> {
  try {
    return Promise.resolve(writeRecordWhole(stateDir, record));
  } catch (error) {
    return Promise.reject(error);
  }
}

// Synchronous calls: local files written to the page cache (no fsync) return in microseconds,
// and each asynchronous file call is a round trip through Deno's blocking thread pool, which
// at 100 nodes cost more of the controller's CPU than the writes themselves.
function writeRecordWhole(stateDir: string, record: RunRecord): string {
  closeStepFile(stepsPath(stateDir, record.id));
  const dir = runsDir(stateDir);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${record.id}.json`);
  const temp = `${path}.tmp`;
  Deno.writeTextFileSync(temp, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  Deno.renameSync(temp, path);
  try {
    Deno.removeSync(stepsPath(stateDir, record.id));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return path;
}

/**
 * One appended line: a finished step with what it changed in the run's own fields, or (for a
 * rollout) a node's finished run.
 */
type AppendedLine = { step: StepRecord; changed?: boolean; changes_made?: string[] } | {
  node: RunRecord;
};

/**
 * Appends a finished step of a running record (written whole at its start by
 * {@link saveRunRecord}): one JSON line, so a step's cost does not grow with the run.
 *
 * @example
 * ```ts
 * import { appendRunStep } from "./runs.ts";
 * import type { RunRecord } from "./runs.ts";
 * declare const record: RunRecord;
 * appendRunStep("/tmp/state", record, record.steps.at(-1)!);
 * ```
 */
export function appendRunStep(
  stateDir: string,
  record: Pick<RunRecord, "id" | "changed" | "changes_made">,
  step: StepRecord,
): void {
  appendLine(stateDir, record.id, {
    step,
    changed: record.changed,
    changes_made: record.changes_made,
  });
}

/**
 * Appends the finished runs of a rollout's nodes to its running record (written whole at its
 * start by {@link saveRunRecord}): one line each, so a batch does not write every earlier node's
 * run again (a rolling rollout of 100 nodes one at a time wrote its record whole 100 times).
 *
 * @example
 * ```ts
 * import { appendRunNodes } from "./runs.ts";
 * import type { RunRecord } from "./runs.ts";
 * declare const rollout: RunRecord;
 * appendRunNodes("/tmp/state", rollout, rollout.nodes!.slice(-2));
 * ```
 */
export function appendRunNodes(
  stateDir: string,
  record: Pick<RunRecord, "id">,
  nodes: RunRecord[],
): void {
  for (const node of nodes) appendLine(stateDir, record.id, { node });
}

function appendLine(stateDir: string, id: string, line: AppendedLine): void {
  const path = stepsPath(stateDir, id);
  let file = stepFiles.get(path);
  if (!file) {
    file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
    stepFiles.set(path, file);
  }
  const bytes = encoder.encode(JSON.stringify(line) + "\n");
  // O_APPEND: each write lands at the end; a short write (rare on a file) is finished off.
  for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
}

const encoder = new TextEncoder();

/**
 * The steps files of running records, open for appending from their first step until the record
 * is written whole ({@link saveRunRecord}): a step then costs one write, not an open, a write and
 * a close (the path resolved, the mode checked) — at 100 nodes, 2,000 of each for 20 steps. The
 * write is synchronous (see `writeRecordWhole`).
 */
const stepFiles = new Map<string, Deno.FsFile>();

function closeStepFile(path: string): void {
  const file = stepFiles.get(path);
  if (!file) return;
  stepFiles.delete(path);
  file.close();
}

/**
 * A record as saved, with the steps (and a rollout's node runs) appended since it was written
 * whole when it is still `running` (a run in progress, or one that crashed: its finished steps
 * are all there). A torn last line (a crash mid-append) is left out.
 */
async function loadRunRecord(stateDir: string, file: string): Promise<RunRecord> {
  const record: RunRecord = JSON.parse(await Deno.readTextFile(join(runsDir(stateDir), file)));
  if (record.status !== "running") return record;
  let text: string;
  try {
    text = await Deno.readTextFile(stepsPath(stateDir, record.id));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return record;
    throw error;
  }
  for (const line of text.split("\n")) {
    if (!line.endsWith("}")) continue;
    let appended: AppendedLine;
    try {
      appended = JSON.parse(line);
    } catch {
      continue;
    }
    if ("node" in appended) {
      (record.nodes ??= []).push(appended.node);
      continue;
    }
    record.steps.push(appended.step);
    if (appended.changed) record.changed = true;
    if (appended.changes_made) record.changes_made = appended.changes_made;
  }
  return record;
}

/**
 * The newest saved top-level run records (node runs and failure paths, which live inside
 * their rollout's record, are left out), newest first.
 *
 * @example
 * ```ts
 * import { listRunRecords } from "./runs.ts";
 * for (const run of await listRunRecords("/tmp/state", 5)) console.log(run.id, run.status);
 * ```
 */
export async function listRunRecords(stateDir: string, limit = 20): Promise<RunRecord[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(runsDir(stateDir))) {
      // Ids of node runs carry `@node`, of failure paths `.runbook`: their parent holds them.
      if (entry.isFile && /^[^@.]+\.json$/.test(entry.name)) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  // Ids start with the UTC time, so name order is time order.
  names.sort().reverse();
  const records: RunRecord[] = [];
  for (const name of names.slice(0, limit)) {
    try {
      records.push(await loadRunRecord(stateDir, name));
    } catch {
      // a record being written (temp then rename) or damaged: list the rest
    }
  }
  return records;
}

/**
 * Reads a saved run record (with the steps appended to it while it runs).
 *
 * @example
 * ```ts
 * import { readRunRecord } from "./runs.ts";
 * (await readRunRecord("/tmp/state", "20261123T190102Z-a1b2c3")).status; // "success"
 * ```
 */
export async function readRunRecord(stateDir: string, id: string): Promise<RunRecord> {
  return await loadRunRecord(stateDir, `${id}.json`);
}
