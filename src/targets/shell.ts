/**
 * How a step's script is wrapped before it runs on any target. Pure: builds argv, runs nothing.
 *
 * The wrapper starts the script in its own session (`setsid`), so a timeout or Ctrl-C can stop
 * the step's whole process group, children included, and nothing it started in the foreground
 * outlives it. The script reaches `sh -c` as one argument: no second round of word splitting.
 *
 * @example
 * ```ts
 * import { stepCommand } from "./shell.ts";
 * stepCommand("echo hello"); // ["/bin/sh", "-c", "<wrapper>", "step", "echo hello"]
 * ```
 * @module
 */

/**
 * Runs `$1` in a new session and forwards TERM/INT/HUP to its whole process group. The loop
 * after `wait` is there because a trapped signal interrupts `wait` before the step has exited.
 */
export const STEP_WRAPPER = [
  // sh gives a command started with `&` /dev/null for stdin: the step's input (a file put on
  // the target) reaches it through fd 3.
  "exec 3<&0",
  'setsid /bin/sh -c "$1" 0<&3 3<&- & pid=$!',
  "exec 3<&-",
  "trap 'kill -TERM -$pid 2>/dev/null' TERM INT HUP",
  "wait $pid; status=$?",
  "while kill -0 $pid 2>/dev/null; do wait $pid; status=$?; done",
  "exit $status",
].join("\n");

/** The argv that runs `script` under {@link STEP_WRAPPER}. */
export function stepCommand(script: string): string[] {
  return ["/bin/sh", "-c", STEP_WRAPPER, "step", script];
}
