/**
 * The runbook engine's public face: load and check runbooks, describe them (plans, checklists),
 * run them on one node ({@link runRunbook}) or across nodes ({@link runRollout}), and the
 * pieces around a run — exit codes, interruptions, the abort summary.
 *
 * @example
 * ```ts
 * import { exitCodeOf, Interrupter, loadRunbook, runRollout } from "./mod.ts";
 * // const loaded = await loadRunbook(root, "deploy");
 * // const interrupter = new Interrupter(); const stop = interrupter.listen();
 * // const record = await runRollout(loaded, { ...options, interrupter });
 * // stop(); Deno.exitCode = exitCodeOf(record);
 * ```
 * @module
 */
export { listRunbooks, type LoadedRunbook, loadRunbook, validateFile } from "./load.ts";
export { bindParameters, ParameterError } from "./params.ts";
export { Run, runRunbook } from "./run.ts";
export type { RunObserver, RunOptions } from "./run_options.ts";
export { humanItems } from "./human.ts";
export { exitCodeOf, isFailure } from "./record.ts";
export { maskedJournal, runContext, targetInfo } from "./context.ts";
export {
  forceUnlockRecorded,
  nodeLockPath,
  type RolloutObserver,
  type RolloutOptions,
  runRollout,
} from "./fleet.ts";
export {
  describeRollout,
  formatRolloutPlan,
  planBatches,
  selectNodes,
  targetProblems,
} from "./rollout.ts";
export { describeInterruption, Interrupter, interruptionOf } from "./interrupt.ts";
export { abortSummary, nextCommand } from "./abort_summary.ts";
export type { Answer, Confirmer, Gate, StepOutcome } from "./execute.ts";
export type { ResolvedStep } from "./resolve.ts";
