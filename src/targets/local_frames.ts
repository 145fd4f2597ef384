/**
 * The text written into the run's long-lived local shell (`local_shell.ts`). Pure: builds
 * argv and script text, runs nothing.
 *
 * The shell's first block (the hello) turns job control on where it can and says which shell
 * it is; the second (the setup) defines `__protocol_step`, so a step's frame is one short line,
 * `__protocol_step '<script>'`: bash reads a pipe one byte at a time, and a frame of ~300 bytes
 * cost as many `read` calls a step. With bash, the setup also forks the *next* step's process
 * ahead of time (a coprocess: with job control, in a process group of its own) while the tool
 * records the step that just ended; the step's frame hands it the script through the
 * coprocess's pipe and it execs `/bin/sh -c` on it. The fork — the dearest part of a step, as
 * bash is a large process to copy — is then off the step's path. Without bash, `setsid` gives the
 * step its group, as before.
 *
 * @example
 * ```ts
 * import { frameLocalSetup, frameLocalStep } from "./local_frames.ts";
 * frameLocalSetup("__m", "jobs"); // defines __protocol_step, forks the first step's process
 * frameLocalStep({ script: "echo hi" }); // "__protocol_step 'echo hi'\n"
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
 * Keeps a bash older than 4 (no coprocesses, no `{fd}>` redirections) to the `setsid` way,
 * job control off so `setsid` starts the step in the same process, as under `/bin/sh`.
 */
export const OLD_BASH_GUARD =
  '[ "$__protocol_jobs" = jobs ] && [ "${BASH_VERSINFO:-0}" -lt 4 ] && { set +m; __protocol_jobs=setsid; }';

/**
 * The first block sent: job control on where the shell has it (bash 4 or later, see
 * {@link OLD_BASH_GUARD}), and which it is (`ready jobs` or `ready setsid` on the stdout marker
 * line).
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
    OLD_BASH_GUARD,
    `printf '\\n%s ready %s\\n' ${marker} "$__protocol_jobs"; printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}

/**
 * The second block: defines `__protocol_step SCRIPT`, which runs SCRIPT with `/bin/sh -c` in a
 * process group of its own with stdin from /dev/null (so it cannot eat the next step), then
 * prints its exit code on stdout and the end of its stderr. The step's pid goes on a `pid`
 * marker line: with bash, *before* the step has its script, because bash writes a line's leading
 * newline apart from the rest, and a step already printing could slip its output between the
 * two — the marker would go unseen and a stop would wait for a pid that never comes; with
 * `setsid`, once the step is started (dash's `printf` is one `write`, atomic on a pipe, so the
 * line keeps its newline wherever it lands). `wait`'s own stderr goes nowhere (bash reports a
 * step killed by a signal there).
 *
 * With bash (`jobs`), the step's process is a coprocess forked when the previous step ended:
 * it reads the script up to a NUL from its pipe and execs `/bin/sh -c` on it, stdout back on
 * the shell's (saved in `__protocol_out`). A coprocess whose pipe closes (the shell is gone)
 * exits without running anything. `trap : PIPE` keeps the shell alive should the coprocess be
 * gone before its script is written (a stop that came first); a trapped signal is back to its
 * default in every child, so steps see SIGPIPE as before.
 *
 * @example
 * ```ts
 * import { frameLocalSetup } from "./local_frames.ts";
 * frameLocalSetup("__m", "setsid").includes('setsid /bin/sh -c "$1" </dev/null &'); // true
 * ```
 */
export function frameLocalSetup(marker: string, group: StepGroup): string {
  const pid = (of: string) => `printf '\\n%s pid %s\\n' ${marker} "${of}"`;
  const ended = [
    `wait "$__protocol_pid" 2>/dev/null; __protocol_status=$?`,
    `printf '\\n%s %s\\n' ${marker} "$__protocol_status"; printf '\\n%s\\n' ${marker} >&2`,
  ];
  const ready = `printf '\\n%s ready\\n' ${marker}; printf '\\n%s\\n' ${marker} >&2`;
  if (group === "setsid") {
    return [
      "__protocol_step() {",
      '  setsid /bin/sh -c "$1" </dev/null & __protocol_pid=$!',
      `  ${pid("$__protocol_pid")}`,
      ...ended.map((line) => `  ${line}`),
      "}",
      ready,
      "",
    ].join("\n");
  }
  return [
    "trap : PIPE",
    "exec {__protocol_out}>&1",
    "__protocol_spare() {",
    "  coproc __protocol_next {",
    "    IFS= read -r -d '' __protocol_script || exit 0",
    '    exec /bin/sh -c "$__protocol_script" 0</dev/null 1>&"$__protocol_out" {__protocol_out}>&-',
    "  }",
    "}",
    "__protocol_step() {",
    "  __protocol_pid=$__protocol_next_PID",
    `  ${pid("$__protocol_pid")}`,
    `  printf '%s\\0' "$1" >&"\${__protocol_next[1]}"`,
    ...ended.map((line) => `  ${line}`),
    "  __protocol_spare",
    "}",
    "__protocol_spare",
    ready,
    "",
  ].join("\n");
}

/**
 * The frame of one step: its script (directory and environment set first, as quoted words)
 * as one single-quoted word for `__protocol_step`, parsed once.
 *
 * @example
 * ```ts
 * import { frameLocalStep } from "./local_frames.ts";
 * frameLocalStep({ script: "echo hi", env: { A: "1" } });
 * // "__protocol_step 'export A='\\''1'\\''\necho hi'\n"
 * ```
 */
export function frameLocalStep(step: RemoteStep): string {
  return `__protocol_step ${shellQuote(innerScript(step))}\n`;
}
