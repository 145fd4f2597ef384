/**
 * The text written into the run's long-lived local shell (`local_shell.ts`). Pure: builds
 * argv and script text, runs nothing.
 *
 * The shell's first block (the hello) turns job control on where it can and says which shell it
 * is; the second (the setup) defines `__protocol_step`, so a step's frame is one short line,
 * `__protocol_step '<script>'`: bash reads a pipe one byte at a time, and the ~300-byte frame of
 * before cost as many `read` calls a step, half of them after the step had ended. As on a node
 * (`ssh_command.ts`), the step's `sh` writes its pid to a file first thing, where a stop reads it:
 * no pid line on the shell's stdout, which a step already printing could garble (bash writes a
 * line's leading newline apart from the rest), and nothing that wakes the tool while a step runs.
 *
 * @example
 * ```ts
 * import { frameLocalSetup, frameLocalStep } from "./local_frames.ts";
 * frameLocalSetup("__m", "jobs", "/tmp/p/step.pid"); // defines __protocol_step
 * frameLocalStep({ script: "echo hi" }, "/tmp/p/step.pid"); // "__protocol_step '…echo hi'\n"
 * ```
 * @module
 */
import { shellQuote } from "../shell/quote.ts";
import { innerScript, JOB_CONTROL_PROBE, type RemoteStep, SHELL_CHOICE } from "./ssh_command.ts";
import type { StepGroup } from "./ssh_command.ts";

/**
 * The command that becomes the long-lived shell: in its own session, reading steps on stdin;
 * bash where there is one (see {@link SHELL_CHOICE}), unless `jobControl` is off. `/bin/sh` by
 * path: `setsid` looks a bare `sh` up in every directory of PATH (ten failed `execve` calls on
 * a machine with pyenv and cargo in front).
 *
 * @example
 * ```ts
 * import { localShellArgv } from "./local_frames.ts";
 * localShellArgv(false); // ["setsid", "/bin/sh"]
 * ```
 */
export function localShellArgv(jobControl = true): string[] {
  return jobControl ? ["setsid", "/bin/sh", "-c", SHELL_CHOICE] : ["setsid", "/bin/sh"];
}

/**
 * The first block sent: job control on where the shell has it, and which it is (`ready jobs` or
 * `ready setsid` on the stdout marker line).
 *
 * @example
 * ```ts
 * import { frameLocalHello } from "./local_frames.ts";
 * frameLocalHello("__m").endsWith("printf '\\n%s\\n' __m >&2\n"); // true
 * ```
 */
export function frameLocalHello(marker: string): string {
  return [
    JOB_CONTROL_PROBE,
    `printf '\\n%s ready %s\\n' ${marker} "$__protocol_jobs"; printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}

/**
 * The second block: defines `__protocol_step SCRIPT`, which starts SCRIPT with `/bin/sh -c` in a
 * process group of its own (bash's job control, or `setsid`) with stdin from /dev/null (so it
 * cannot eat the next step), waits for it, empties the pid file (a stop between steps finds no
 * pid), then prints the exit code on stdout and the end of its stderr. `wait`'s own stderr goes
 * nowhere (bash reports a step killed by a signal there).
 *
 * @example
 * ```ts
 * import { frameLocalSetup } from "./local_frames.ts";
 * frameLocalSetup("__m", "setsid", "/tmp/p/step.pid").includes("setsid /bin/sh -c"); // true
 * ```
 */
export function frameLocalSetup(marker: string, group: StepGroup, pidFile: string): string {
  return [
    "__protocol_step() {",
    `  ${group === "setsid" ? "setsid " : ""}/bin/sh -c "$1" </dev/null &`,
    `  wait $! 2>/dev/null; __protocol_status=$?; : > ${shellQuote(pidFile)}`,
    `  printf '\\n%s %s\\n' ${marker} "$__protocol_status"; printf '\\n%s\\n' ${marker} >&2`,
    "}",
    `printf '\\n%s ready\\n' ${marker}; printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}

/**
 * The frame of one step: its script as one single-quoted word for `__protocol_step`, parsed
 * once, after the line that writes the step's pid (`$$`: it leads its process group) to
 * `pidFile` and its directory and environment set as quoted words (see `innerScript`).
 *
 * @example
 * ```ts
 * import { frameLocalStep } from "./local_frames.ts";
 * frameLocalStep({ script: "echo hi" }, "/tmp/p/step.pid");
 * // "__protocol_step 'echo \"$$\" > '\\''/tmp/p/step.pid'\\''\necho hi'\n"
 * ```
 */
export function frameLocalStep(step: RemoteStep, pidFile: string): string {
  return `__protocol_step ${shellQuote(innerScript(step, pidFile))}\n`;
}
