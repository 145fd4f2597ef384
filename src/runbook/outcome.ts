/**
 * How a step went: what every kind of step — a script, an HTTP check, a human gate, an
 * operation — reports back to the run. Its own file so operations and the executor both use
 * it without importing each other.
 *
 * @example
 * ```ts
 * import type { StepOutcome } from "./outcome.ts";
 * const outcome: StepOutcome = { status: "success", attempts: 1, exitCode: 0, stdout: "ok\n", stderr: "" };
 * ```
 * @module
 */
import type { StepStatus } from "../state/runs.ts";
import type { OutputCut } from "../targets/target.ts";

/** How a step went. */
export interface StepOutcome {
  status: StepStatus;
  attempts: number;
  exitCode?: number;
  stdout: string;
  stderr: string;
  /** Output past the target's limit: counted, not in `stdout`/`stderr` (`ExecResult.cut`). */
  cut?: OutputCut;
  /** One sentence on why it failed, for the summary. */
  error?: string;
  /** The connection to the step's node was lost: the step's real outcome is unknown. */
  lost?: string;
  /** A gate with `min_wait`: how long it had to wait, how long it did, and whether `--yes` acknowledged it early. */
  gate?: GateTiming;
}

/** How a gate with `min_wait` went, in the run record and its audit entry. */
export interface GateTiming {
  min_wait_ms: number;
  /** From the end of the step before it to the answer. */
  waited_ms: number;
  /** Acknowledged (`--yes`) before `min_wait` had passed. */
  early?: true;
}
