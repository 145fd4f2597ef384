/**
 * What a run of one runbook on one node is given ({@link RunOptions}) and who hears about it
 * as it happens ({@link RunObserver}). Its own file so the state machine (`run.ts`), the step
 * runner (`step_runner.ts`) and the rollout (`fleet.ts`) share the shapes without importing
 * each other.
 *
 * @example
 * ```ts
 * import type { RunObserver } from "./run_options.ts";
 * const observer: RunObserver = { phase: (title) => console.log(`== ${title}`) };
 * observer.phase?.("Steps");
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Journal } from "../journal.ts";
import type { Target } from "../targets/target.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import type { NodeAfterAbort, RunRecord, StepRecord } from "../state/runs.ts";
import type { NodeTargets } from "../targets/pool.ts";
import type { SecretMasker } from "../secrets/masking.ts";
import type { TemplateValue } from "../template.ts";
import type { Confirmer, StepOutcome } from "./execute.ts";
import type { Interrupter } from "./interrupt.ts";
import type { ResolvedStep } from "./resolve.ts";

/** Hears about a run as it happens (progress output, JSON reports). */
export interface RunObserver {
  runStarted?(record: RunRecord, failurePath: boolean): void;
  phase?(title: string): void;
  stepStarted?(step: ResolvedStep): void;
  output?(line: string, stream: "stdout" | "stderr"): void;
  stepFinished?(step: StepRecord, outcome: StepOutcome): void;
  runFinished?(record: RunRecord): void;
}

/** What a run needs. */
export interface RunOptions {
  /** Project root: where `runbooks/` and `tasks/` are. */
  root: string;
  params: Record<string, TemplateValue>;
  config: Config;
  stateDir: string;
  /** Where the steps run. */
  target: Target;
  /** The node `target` reaches (default: local); its vars and app settings apply. */
  node?: InventoryNode;
  /** Targets of steps that say `on:` themselves; by default they run on `target`. */
  targetsFor?: (selector: string) => { node: InventoryNode; target: Target }[];
  /** The rollout batch this node is in, for the record. */
  batch?: number;
  confirm?: Confirmer;
  /** Stops the run (default: the interrupter's signal). */
  signal?: AbortSignal;
  /**
   * Signals, lost connections and the cleanup after them (see `interrupt.ts`). Without one, a
   * lost connection fails the step like any other failure.
   */
  interrupter?: Interrupter;
  /** `false` (`--no-rollback-on-abort`): an interrupted node keeps what it had changed. */
  rollbackOnAbort?: boolean;
  /** Reconnects to a target whose connection was lost, before its failure path runs. */
  recover?: (target: Target) => Promise<void>;
  observer?: RunObserver;
  journal?: Journal;
  runId?: string;
  /**
   * Knows every secret value decrypted so far; shared by a rollout's node runs and failure
   * paths so a value one of them decrypted is masked in all of them.
   */
  masker?: SecretMasker;
}

/** Hears about the rollout as a whole. */
export interface RolloutObserver {
  batchStarted?(batch: number, of: number, nodes: InventoryNode[]): void;
  nodeSkipped?(node: InventoryNode, reason: string): void;
  /** Preflight is over: `refused` names each node that failed it (empty: all passed). */
  preflightFinished?(nodes: InventoryNode[], refused: Map<string, string>): void;
  abortSummary?(summary: NodeAfterAbort[], locks: Map<string, string>): void;
  rolloutFinished?(record: RunRecord): void;
}

/** What a rollout needs: a run's options, minus the target, plus the nodes and connections. */
export interface RolloutOptions
  extends Omit<RunOptions, "target" | "node" | "targetsFor" | "batch" | "recover"> {
  pool: NodeTargets;
  nodes: InventoryNode[];
  /** `--force-unlock REASON`: remove a stale lock first; the reason goes to the audit log. */
  forceUnlock?: string;
  /** `--resume`: the earlier rollout this one continues; its successful nodes are skipped. */
  resume?: RunRecord;
  /** Progress of each node's run (a prefix per node, say). */
  observerFor?: (node: InventoryNode) => RunObserver | undefined;
  rollout?: RolloutObserver;
}
