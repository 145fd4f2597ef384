/**
 * When a running step is stopped, for every way a target runs one: on its timeout or its abort
 * signal, TERM first, then KILL once the grace period has passed without the step ending.
 *
 * @example
 * ```ts
 * import { stopOnTimeoutOrAbort } from "./step_stop.ts";
 * const stopper = stopOnTimeoutOrAbort({ timeoutMs: 1000 }, (signal) => console.log(signal));
 * // ... wait for the step ...
 * stopper.end();
 * stopper.timedOut; // true when the timeout fired first
 * ```
 * @module
 */
import { type ExecRequest, type ExecResult, type OutputCollector, outputCut } from "./target.ts";

/** Milliseconds between asking a step's process group to stop (TERM) and making it (KILL). */
export const KILL_GRACE_MS = 5000;

/** Stops the running step's process group with `signal`. */
export type StopStep = (signal: "TERM" | "KILL") => void;

/** The watch over one running step, ended once the step has. */
export interface StepStopper {
  /** Whether the step's timeout fired (rather than an abort, or nothing). */
  readonly timedOut: boolean;
  /** The step is over: no stop comes after this. */
  end(): void;
  /** The step's result: its exit code and output, with whether it was stopped and how. */
  result(
    code: number,
    stdout: OutputCollector,
    stderr: OutputCollector,
    started: number,
  ): ExecResult;
}

/**
 * The result of a step stopped before it started (`ms` since `started`, if given).
 *
 * @example
 * ```ts
 * import { notRun } from "./step_stop.ts";
 * notRun().code; // 130
 * ```
 */
export function notRun(started?: number): ExecResult {
  const ms = started === undefined ? 0 : performance.now() - started;
  return { code: 130, stdout: "", stderr: "", aborted: true, timedOut: false, ms };
}

/**
 * Calls `stop("TERM")` when `request`'s timeout fires or its signal aborts, and
 * `stop("KILL")` `graceMs` later, until {@link StepStopper.end} is called.
 *
 * @example
 * ```ts
 * import { stopOnTimeoutOrAbort } from "./step_stop.ts";
 * const abort = new AbortController();
 * const stopper = stopOnTimeoutOrAbort({ signal: abort.signal }, (s) => console.log(s), 100);
 * abort.abort(); // logs TERM now, KILL 100 ms later unless end() comes first
 * stopper.end();
 * ```
 */
export function stopOnTimeoutOrAbort(
  request: Pick<ExecRequest, "timeoutMs" | "signal">,
  stop: StopStep,
  graceMs: number = KILL_GRACE_MS,
): StepStopper {
  let timedOut = false;
  let killer: ReturnType<typeof setTimeout> | undefined;
  const halt = () => {
    stop("TERM");
    killer ??= setTimeout(() => stop("KILL"), graceMs);
  };
  const timer = request.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    halt();
  }, request.timeoutMs);
  request.signal?.addEventListener("abort", halt);
  return {
    get timedOut() {
      return timedOut;
    },
    end() {
      clearTimeout(timer);
      clearTimeout(killer);
      request.signal?.removeEventListener("abort", halt);
    },
    result(code, stdout, stderr, started) {
      return {
        code,
        stdout: stdout.text(),
        stderr: stderr.text(),
        timedOut,
        aborted: request.signal?.aborted ?? false,
        ms: performance.now() - started,
        cut: outputCut(stdout, stderr),
      };
    },
  };
}
