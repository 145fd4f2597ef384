/**
 * One long-lived local shell that a run's local steps are streamed into, with the framing the
 * SSH target uses for a node's remote shell: a step costs a pipe write, one fork of that shell
 * and the exec of the step's `/bin/sh` (plus `setsid`'s where there is no bash), instead of a
 * dax process, a wrapper `sh`, `setsid` and `sh` each.
 *
 * Each step runs in a process of its own and a process group of its own (bash's job control, or
 * `setsid`), so a `cd`, `exit` or `set -e` cannot leak into the next step and a timeout or
 * Ctrl-C stops its whole process group, children included (TERM, then KILL after a grace
 * period). The shell prints the step's pid on stdout as soon as it has forked, so the group is
 * signalled from here with no process in between; then the exit code on stdout and an end
 * marker on stderr, which keeps the two streams apart. The shell itself runs in a session of
 * its own: a Ctrl-C at the terminal reaches the tool, which stops the step, rather than killing
 * the shell under it.
 *
 * @example
 * ```ts
 * import { LocalShell } from "./local_shell.ts";
 * const shell = await LocalShell.open();
 * const result = await shell.run({ script: "echo hello" });
 * result.stdout; // "hello\n"
 * await shell.close();
 * ```
 * @module
 */
import { dax } from "./dax.ts";
import { FramedShell, KILL_GRACE_MS } from "./framed_shell.ts";
import {
  innerScript,
  JOB_CONTROL_PROBE,
  launchStep,
  type RemoteStep,
  SHELL_CHOICE,
  type StepGroup,
} from "./ssh_command.ts";
import type { ExecRequest, ExecResult } from "./target.ts";

/**
 * The command that becomes the long-lived shell: in its own session, reading steps on stdin;
 * bash where there is one (see {@link SHELL_CHOICE}), unless `jobControl` is off. `/bin/sh` by
 * path: `setsid` looks a bare `sh` up in every directory of PATH (ten failed `execve` calls on
 * a machine with pyenv and cargo in front).
 */
export function localShellArgv(jobControl = true): string[] {
  return jobControl ? ["setsid", "/bin/sh", "-c", SHELL_CHOICE] : ["setsid", "/bin/sh"];
}

/** The first block sent: job control on where the shell has it, and which it is. */
export function frameLocalHello(marker: string): string {
  return [
    JOB_CONTROL_PROBE,
    `printf '\\n%s ready %s\\n' ${marker} "$__protocol_jobs"; printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}

/**
 * The block written into the local shell for one step: the step in its own process group with
 * stdin from /dev/null (so it cannot eat the next step), its pid, then its exit code on stdout
 * and the end of its stderr. The step's script reaches `sh -c` as one single-quoted word, parsed
 * once. `wait`'s own stderr goes nowhere (bash reports a step killed by a signal there).
 *
 * @example
 * ```ts
 * import { frameLocalStep } from "./local_shell.ts";
 * frameLocalStep({ script: "echo hi", env: { A: "1" } }, "__m", "jobs");
 * // "/bin/sh -c 'export A='\"'\"'1'\"'\"'\necho hi' </dev/null &\nprintf ... __m pid ..."
 * ```
 */
export function frameLocalStep(step: RemoteStep, marker: string, group: StepGroup): string {
  return [
    launchStep(innerScript(step), group),
    `printf '\\n%s pid %s\\n' ${marker} "$!"`,
    `wait $! 2>/dev/null; __protocol_status=$?`,
    `printf '\\n%s %s\\n' ${marker} "$__protocol_status"; printf '\\n%s\\n' ${marker} >&2`,
    "",
  ].join("\n");
}

/** A long-lived local `sh` running one framed step at a time. */
export class LocalShell {
  #shell!: FramedShell;
  #child!: PromiseLike<unknown>;
  /** How this shell gives steps their process group (from its hello). */
  group: StepGroup = "setsid";

  private constructor(readonly killGraceMs: number, readonly jobControl: boolean) {}

  /** Why the shell is gone, once it is: the next step needs a new one. */
  get ended(): string | undefined {
    return this.#shell.ended;
  }

  /**
   * Starts a shell (dax loads here, on the first local step of a run). `jobControl: false`
   * keeps to `/bin/sh` and `setsid`, as on a machine without bash.
   */
  static async open(killGraceMs = KILL_GRACE_MS, jobControl = true): Promise<LocalShell> {
    const shell = new LocalShell(killGraceMs, jobControl);
    await shell.#start();
    return shell;
  }

  async #start(): Promise<void> {
    const $ = await dax();
    const stdin = new TransformStream<Uint8Array, Uint8Array>();
    const shell = this.#shell = new FramedShell(stdin.writable.getWriter(), {
      killGraceMs: this.killGraceMs,
      pidMarker: true,
    });
    this.#child = $`${localShellArgv(this.jobControl)}`.noThrow().stdin(stdin.readable)
      .stdout(shell.sink("stdout")).stderr(shell.sink("stderr"))
      .then((result) => shell.end(`the local shell exited with ${result.code}`));
    const hello = await shell.exchange(frameLocalHello(shell.marker));
    if (hello.status === "ready jobs") this.group = "jobs";
  }

  /** Runs one step; never throws for a failing script. One step at a time per shell. */
  async run(request: ExecRequest, started = performance.now()): Promise<ExecResult> {
    const frame = frameLocalStep(request, this.#shell.marker, this.group);
    const end = await this.#shell.run(request, frame, signalGroup);
    return {
      code: end.ended ? 255 : Number.parseInt(end.status ?? "255", 10),
      stdout: end.stdout,
      stderr: end.ended ? `${end.stderr}${end.ended} during the step\n` : end.stderr,
      timedOut: end.timedOut,
      aborted: end.aborted,
      ms: performance.now() - started,
    };
  }

  /** Ends the shell (end of input) and waits for it. */
  async close(): Promise<void> {
    await this.#shell.writer.close().catch(() => undefined);
    await this.#child;
  }
}

/** Signals a step's process group (its pid is its group id: `setsid`). */
function signalGroup(signal: "TERM" | "KILL", pid?: number): void {
  if (pid === undefined) return;
  try {
    Deno.kill(-pid, `SIG${signal}`);
  } catch {
    // the group has exited already
  }
}
