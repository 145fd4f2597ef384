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
 * stepCommand("echo hello", 5000); // ["/bin/sh", "-c", "<wrapper>", "step", "echo hello", "5"]
 * ```
 * @module
 */

/**
 * Runs `$1` in a new session and forwards TERM/INT/HUP to its whole process group; `$2`
 * seconds after the first of them it KILLs the group, for a step that ignores TERM. The wrapper
 * escalates itself because the process runner forwards only the first stopping signal to it, and
 * a KILL of the wrapper would leave the group running. The KILL waits in a background `sleep`,
 * cut off from the step's pipes (its output would wait for it) and stopped when the step ends
 * first. The loop after `wait` is there because a trapped signal interrupts `wait` before the
 * step has exited.
 */
export const STEP_WRAPPER = [
  // sh gives a command started with `&` /dev/null for stdin: the step's input (a file put on
  // the target) reaches it through fd 3.
  "exec 3<&0",
  'setsid /bin/sh -c "$1" 0<&3 3<&- & pid=$!',
  "exec 3<&-",
  "grace=$2 killer=",
  "stop() {",
  "  kill -TERM -$pid 2>/dev/null",
  '  [ -n "$killer" ] && return',
  '  { sleep "$grace" && kill -KILL -$pid 2>/dev/null; } </dev/null >/dev/null 2>&1 & killer=$!',
  "}",
  "trap stop TERM INT HUP",
  "wait $pid; status=$?",
  "while kill -0 $pid 2>/dev/null; do wait $pid; status=$?; done",
  '[ -z "$killer" ] || kill $killer 2>/dev/null',
  "exit $status",
].join("\n");

/**
 * The argv that runs `script` under {@link STEP_WRAPPER}, KILLing its group `killGraceMs`
 * after it was first told to stop.
 *
 * @example
 * ```ts
 * import { stepCommand } from "./shell.ts";
 * stepCommand("echo hello", 5000).slice(-2); // ["echo hello", "5"]
 * ```
 */
export function stepCommand(script: string, killGraceMs: number): string[] {
  return ["/bin/sh", "-c", STEP_WRAPPER, "step", script, String(killGraceMs / 1000)];
}
