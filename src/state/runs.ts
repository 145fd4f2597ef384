/**
 * Run records: what happened in a run, step by step — the raw material for the audit log and
 * for evidence checklists. Saved in the state directory after every step, so a crash loses
 * nothing that had finished.
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
  /** Last lines of output, kept for failures. */
  tail?: string[];
  message?: string;
}

/** How a run ended. */
export type RunStatus = "running" | "success" | "failure" | "aborted" | "skipped";

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

/** Writes a run record atomically (temp file, then rename), mode 0600. */
export async function saveRunRecord(stateDir: string, record: RunRecord): Promise<string> {
  const dir = runsDir(stateDir);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${record.id}.json`);
  const temp = `${path}.tmp`;
  await Deno.writeTextFile(temp, JSON.stringify(record, null, 2) + "\n", { mode: 0o600 });
  await Deno.rename(temp, path);
  return path;
}

/** Reads a saved run record. */
export async function readRunRecord(stateDir: string, id: string): Promise<RunRecord> {
  return JSON.parse(await Deno.readTextFile(join(runsDir(stateDir), `${id}.json`)));
}
