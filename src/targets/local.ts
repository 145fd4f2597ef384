/**
 * The local target: runs step scripts on this machine through dax.
 *
 * A target made with `{ session: true }` (a run's targets, see `pool.ts`) streams its steps
 * into one long-lived local shell (`local_shell.ts`), opened on the first step and ended by
 * {@link LocalTarget.close}: a step then costs one fork of that shell. Otherwise, and for a step
 * that takes input on stdin or starts while another is running, the step gets a process of its
 * own: `sh -c` under the wrapper of `shell.ts`. Both run the step in its own session, so a
 * timeout or an abort stops its whole process group.
 *
 * @example
 * ```ts
 * import { LocalTarget } from "./local.ts";
 * const result = await new LocalTarget().exec({ script: "echo hello" });
 * console.log(result.code, result.stdout); // 0 "hello\n"
 * ```
 * @module
 */
import { stepCommand } from "./shell.ts";
import { KILL_GRACE_MS, notRun, stopOnTimeoutOrAbort } from "./step_stop.ts";
import { LocalShell } from "./local_shell.ts";
import type { ExecRequest, ExecResult, Target } from "./target.ts";
import { OutputCollector } from "./target.ts";

/** How a local target runs its steps. */
export interface LocalTargetOptions {
  /** Stream steps into one long-lived shell until {@link LocalTarget.close} (default: no). */
  session?: boolean;
  /** Milliseconds from TERM to KILL when a step is stopped. */
  killGraceMs?: number;
  /**
   * The session shell may be bash with job control (default: yes, where bash is installed);
   * `false` keeps to `/bin/sh` and `setsid`, as on a machine without bash.
   */
  jobControl?: boolean;
}

/** Runs scripts on the machine the tool runs on. */
export class LocalTarget implements Target {
  readonly name = "local";
  #shell?: Promise<LocalShell>;
  #busy = false;

  constructor(readonly options: LocalTargetOptions = {}) {}

  /** Runs one step script; never throws for a failing script, only reports it. */
  async exec(request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    if (request.signal?.aborted) return notRun();
    if (!this.options.session || request.stdin || this.#busy) {
      return await execOwnProcess(request, started, this.options.killGraceMs);
    }
    this.#busy = true;
    try {
      let shell = await (this.#shell ??= this.#open());
      if (shell.ended) shell = await (this.#shell = this.#open());
      return await shell.run(request, started);
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Starts the long-lived shell now, ahead of the first step, for a session target (otherwise
   * nothing): dax loads and bash starts while the run gets ready. A shell that fails to start is
   * reported by the first step, as when that step starts it.
   */
  prepare(): void {
    if (!this.options.session || this.#shell) return;
    this.#shell = this.#open();
    this.#shell.catch(() => {}); // the first step awaits it and reports the failure
  }

  #open(): Promise<LocalShell> {
    return LocalShell.open(this.options.killGraceMs, this.options.jobControl ?? true);
  }

  /** Ends the long-lived shell, if one is open. */
  async close(): Promise<void> {
    const shell = await this.#shell?.catch(() => undefined);
    this.#shell = undefined;
    await shell?.close();
  }
}

/** One step in a process of its own, under the wrapper that signals its group (`shell.ts`). */
async function execOwnProcess(
  request: ExecRequest,
  started: number,
  killGraceMs = KILL_GRACE_MS,
): Promise<ExecResult> {
  // dax loads here, on the first step (see dax.ts); KillController comes with it.
  const { default: $, KillController } = await import("dax");
  const stdout = new OutputCollector("stdout", request.onOutput);
  const stderr = new OutputCollector("stderr", request.onOutput);
  const kill = new KillController();
  // TERM only: the wrapper passes it on to the step's group and KILLs the group itself after
  // the grace period (a KILL of the wrapper would leave the group behind).
  const stopper = stopOnTimeoutOrAbort(request, (signal) => {
    if (signal === "TERM") kill.kill("SIGTERM");
  });
  try {
    let command = $`${stepCommand(request.script, killGraceMs)}`.noThrow().stdin(
      request.stdin ?? "null",
    )
      .stdout(stdout.sink()).stderr(stderr.sink()).signal(kill.signal)
      .env(stringEnv(request.env ?? {}));
    if (request.cwd) command = command.cwd(request.cwd);
    const { code } = await command;
    return stopper.result(code, stdout, stderr, started);
  } finally {
    stopper.end();
  }
}

function stringEnv(env: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}
