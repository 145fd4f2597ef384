/**
 * The text written into the run's long-lived local shell (`local_shell.ts`). Pure: builds
 * argv and script text, runs nothing.
 *
 * The shell's first block turns job control on where it can, defines `__protocol_step` (the
 * node's, from `ssh_command.ts`) and says the shell is ready, so a step's frame is the node's one
 * short line, `__protocol_step '<script>'`: bash
 * reads a pipe one byte at a time, and the ~300-byte frame of before cost as many `read` calls a
 * step, half of them after the step had ended. As on a node
 * (`ssh_command.ts`), the step's `sh` writes its pid to a file first thing, where a stop reads it:
 * no pid line on the shell's stdout, which a step already printing could garble (bash writes a
 * line's leading newline apart from the rest), and nothing that wakes the tool while a step runs.
 *
 * @example
 * ```ts
 * import { frameLocalStart } from "./local_frames.ts";
 * import { frameStep } from "./ssh_command.ts";
 * frameLocalStart("__m", "/tmp/p"); // defines __protocol_step
 * frameStep({ script: "echo hi" }, "/tmp/p/step.pid"); // "__protocol_step '…echo hi'\n"
 * ```
 * @module
 */
import { shellQuote } from "../shell/quote.ts";
import { shellSetup } from "./ssh_command.ts";

/** The programs the long-lived shell starts with, by absolute path (see `local_shell.ts`). */
export interface LocalShellPrograms {
  /** `setsid`: the shell gets a session of its own. */
  setsid: string;
  /** bash, where there is one: steps get their process group from its job control. */
  bash?: string;
}

/**
 * The command that becomes the long-lived shell: in its own session, reading steps on stdin;
 * bash where there is one (with no rc files), unless `jobControl` is off, else `/bin/sh`. By
 * absolute path and with no `sh -c` in between: each `exec` costs 3–10 ms on a loaded machine,
 * and a bare name sends the process runner through every directory of PATH first.
 *
 * @example
 * ```ts
 * import { localShellArgv } from "./local_frames.ts";
 * localShellArgv({ setsid: "/usr/bin/setsid", bash: "/usr/bin/bash" });
 * // ["/usr/bin/setsid", "/usr/bin/bash", "--norc", "--noprofile"]
 * localShellArgv({ setsid: "/usr/bin/setsid", bash: "/usr/bin/bash" }, false);
 * // ["/usr/bin/setsid", "/bin/sh"]
 * ```
 */
export function localShellArgv(programs: LocalShellPrograms, jobControl = true): string[] {
  return jobControl && programs.bash
    ? [programs.setsid, programs.bash, "--norc", "--noprofile"]
    : [programs.setsid, "/bin/sh"];
}

/**
 * The one block sent when the shell starts: turns job control on where the shell has it,
 * defines `__protocol_step SCRIPT` as on a node (`stepFunction`: its own process group from
 * bash's job control or `setsid`, stdin from /dev/null, the pid file emptied after, the exit
 * code on a stdout marker line), and says it is ready and which way steps get their process
 * group (`ready jobs` or `ready setsid` on the stdout marker line). One exchange, not two: the
 * way is chosen in the shell, when the function is defined. A step's frame is then
 * `frameStep`'s, the node's.
 *
 * @example
 * ```ts
 * import { frameLocalStart } from "./local_frames.ts";
 * frameLocalStart("__m", "/tmp/p").includes("setsid /bin/sh -c"); // true
 * ```
 */
export function frameLocalStart(marker: string, dir: string): string {
  return [
    ...shellSetup(marker, shellQuote(dir)),
    `printf '\\n%s ready %s\\n' ${marker} "$__protocol_jobs"; printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}
