/**
 * One long-lived local shell that a run's local steps are streamed into, with the framing the
 * SSH target uses for a node's remote shell: a step costs one short pipe write, one fork of that
 * shell and the exec of the step's `/bin/sh` (plus `setsid`'s where there is no bash), instead of
 * a dax process, a wrapper `sh`, `setsid` and `sh` each.
 *
 * Each step runs in a process of its own and a process group of its own (bash's job control, or
 * `setsid`), so a `cd`, `exit` or `set -e` cannot leak into the next step and a timeout or
 * Ctrl-C stops its whole process group, children included (TERM, then KILL after a grace
 * period). The step's `sh` writes its pid to a file of this shell's first thing; a stop reads it
 * there and signals the group from here, with no process in between, retrying until the pid is
 * written if the step has not started yet. The shell prints the exit code on stdout and an end
 * marker on stderr, which keeps the two streams apart. The shell itself runs in a session of its
 * own: a Ctrl-C at the terminal reaches the tool, which stops the step, rather than killing the
 * shell under it.
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
import { frameLocalStart, localShellArgv, type LocalShellPrograms } from "./local_frames.ts";
import { frameStep, STEP_PID_FILE, type StepGroup, STOP_RELAYS } from "./ssh_command.ts";
import type { ExecRequest, ExecResult } from "./target.ts";

const encoder = new TextEncoder();

/** A long-lived local `sh` running one framed step at a time. */
export class LocalShell {
  #shell!: FramedShell;
  #child!: PromiseLike<unknown>;
  /** This shell's directory: the running step's pid file. */
  #dir!: string;
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
    try {
      await shell.#start();
    } catch (error) {
      // A shell that never became ready leaves nothing behind: its input ends, its directory goes.
      await shell.#shell?.writer.close().catch(() => undefined);
      await shell.#child;
      if (shell.#dir) await Deno.remove(shell.#dir, { recursive: true }).catch(() => undefined);
      throw error;
    }
    return shell;
  }

  async #start(): Promise<void> {
    const $ = await dax();
    const stdin = new TransformStream<Uint8Array, Uint8Array>();
    const shell = this.#shell = new FramedShell(stdin.writable.getWriter(), {
      killGraceMs: this.killGraceMs,
    });
    this.#dir = await Deno.makeTempDir({ prefix: "protocol-local-" });
    // No rc file of the user's runs in the shell, nor in the steps it starts.
    this.#child = $`${localShellArgv(localShellPrograms(), this.jobControl)}`.noThrow()
      .env({ BASH_ENV: undefined, ENV: undefined }).stdin(stdin.readable)
      .stdout(shell.sink("stdout")).stderr(shell.sink("stderr"))
      .then((result) => shell.end(`the local shell exited with ${result.code}`));
    const ready = await shell.exchange(frameLocalStart(shell.marker, this.#dir));
    if (ready.status === "ready jobs") this.group = "jobs";
  }

  /** Runs one step; never throws for a failing script. One step at a time per shell. */
  async run(request: ExecRequest, started = performance.now()): Promise<ExecResult> {
    let running = true;
    // A stop before the step's sh has written its pid is tried again until it has.
    const stop = (signal: "TERM" | "KILL") => {
      const pid = Number.parseInt(readOr(this.#pidFile), 10);
      if (!Number.isNaN(pid)) signalGroup(signal, pid);
      else if (running) setTimeout(() => running && stop(signal), 10);
    };
    const end = await this.#shell.run(request, frameStep(request, this.#pidFile), stop)
      .finally(() => running = false);
    return {
      code: end.ended ? 255 : Number.parseInt(end.status ?? "255", 10),
      stdout: end.stdout,
      stderr: end.ended ? `${end.stderr}${end.ended} during the step\n` : end.stderr,
      timedOut: end.timedOut,
      aborted: end.aborted,
      ms: performance.now() - started,
      cut: end.cut,
    };
  }

  get #pidFile(): string {
    return `${this.#dir}/${STEP_PID_FILE}`;
  }

  /**
   * Ends the shell and waits for it: its relays first, which a process a step left running may
   * hold open (see `relayFunction`), then its input.
   */
  async close(): Promise<void> {
    if (!this.ended) {
      await this.#shell.writer.write(encoder.encode(`${STOP_RELAYS}; exit 0\n`))
        .catch(() => undefined);
    }
    await this.#shell.writer.close().catch(() => undefined);
    await this.#child;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => undefined);
  }
}

/** Signals a step's process group (its pid is its group id). */
function signalGroup(signal: "TERM" | "KILL", pid: number): void {
  try {
    Deno.kill(-pid, `SIG${signal}`);
  } catch {
    // the group has exited already
  }
}

/** A file's text, or "" while it does not exist. */
function readOr(file: string): string {
  try {
    return Deno.readTextFileSync(file);
  } catch {
    return "";
  }
}

let programs: LocalShellPrograms | undefined;

/**
 * `setsid` and bash found on PATH once per process, by a `stat` each here: dax given a bare name
 * walks PATH itself through its Node layer, where every directory without the program costs a
 * Node error with its stack trace formatted (and dax's 0.9 MB source map read, from the bundle).
 * A program not found keeps its bare name, so the process runner reports it missing.
 */
function localShellPrograms(): LocalShellPrograms {
  return programs ??= {
    setsid: onPath("setsid") ?? "setsid",
    bash: onPath("bash"),
  };
}

/** The first executable file `name` in the directories of PATH. */
function onPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir.startsWith("/")) continue;
    try {
      const info = Deno.statSync(`${dir}/${name}`);
      if (info.isFile && (info.mode ?? 0) & 0o111) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
