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

/** How a step went. */
export interface StepOutcome {
  status: StepStatus;
  attempts: number;
  exitCode?: number;
  stdout: string;
  stderr: string;
  /** One sentence on why it failed, for the summary. */
  error?: string;
  /** The connection to the step's node was lost: the step's real outcome is unknown. */
  lost?: string;
}
