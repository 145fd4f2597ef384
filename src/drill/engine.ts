/**
 * What a drill needs from the runbook engine, and nothing more: the parameters a runbook
 * declares, and running it unattended on the local machine. Drills sit below the engine, so
 * they define this small interface and the CLI passes in the engine's implementation
 * (`runbook/local_engine.ts`).
 *
 * @example
 * ```ts
 * import type { RunbookEngine } from "./engine.ts";
 * const engine: RunbookEngine = {
 *   parameters: () => Promise.resolve(["version"]),
 *   run: () => Promise.reject(new Error("no engine in this example")),
 * };
 * (await engine.parameters("deploy")).includes("version"); // true
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Journal } from "../journal.ts";
import type { RunRecord } from "../state/runs.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import type { Target } from "../targets/target.ts";

/** A step as a drill watches it start. */
export interface WatchedStep {
  kind: string;
  number: string;
  name: string;
  operand?: string;
}

/** What a drill watches while its runbook runs. */
export interface DrillObserver {
  stepStarted?(step: WatchedStep): void;
  output?(line: string): void;
  stepFinished?(record: { number: string; status: string; message?: string }): void;
}

/** How a drill runs a runbook: unattended (human items acknowledged), on local or a staging node. */
export interface EngineRun {
  config: Config;
  stateDir: string;
  journal?: Journal;
  /** Where the runbook runs (default: this machine), and the node that target reaches. */
  target?: Target;
  node?: InventoryNode;
  observer?: DrillObserver;
  signal?: AbortSignal;
}

/** The runbook engine as a drill uses it. */
export interface RunbookEngine {
  /** The names of the parameters runbook `name` declares; throws when it does not load. */
  parameters(name: string): Promise<string[]>;
  /** Runs runbook `name` with `params` (bound and checked by the engine) to its end. */
  run(name: string, params: Record<string, string>, options: EngineRun): Promise<RunRecord>;
}
