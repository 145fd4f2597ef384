/**
 * The local target: runs step scripts on this machine through dax.
 *
 * @example
 * ```ts
 * import { LocalTarget } from "./local.ts";
 * const result = await new LocalTarget().exec({ script: "echo hello" });
 * console.log(result.code, result.stdout); // 0 "hello\n"
 * ```
 * @module
 */
import $, { KillController } from "dax";
import { stepCommand } from "./shell.ts";
import type { ExecRequest, ExecResult, Target } from "./target.ts";
import { OutputCollector } from "./target.ts";

/** Runs scripts on the machine the tool runs on. */
export class LocalTarget implements Target {
  readonly name = "local";

  /** Runs one step script; never throws for a failing script, only reports it. */
  async exec(request: ExecRequest): Promise<ExecResult> {
    const started = performance.now();
    const stdout = new OutputCollector("stdout", request.onOutput);
    const stderr = new OutputCollector("stderr", request.onOutput);
    const kill = new KillController();
    let timedOut = false;
    const timer = request.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      kill.kill("SIGTERM");
    }, request.timeoutMs);
    const onAbort = () => kill.kill("SIGTERM");
    request.signal?.addEventListener("abort", onAbort);
    try {
      if (request.signal?.aborted) return { ...stdout.empty(), aborted: true, timedOut, ms: 0 };
      let command = $`${stepCommand(request.script)}`.noThrow().stdin(request.stdin ?? "null")
        .stdout(stdout.sink()).stderr(stderr.sink()).signal(kill.signal)
        .env(stringEnv(request.env ?? {}));
      if (request.cwd) command = command.cwd(request.cwd);
      const { code } = await command;
      return {
        code,
        stdout: stdout.text(),
        stderr: stderr.text(),
        timedOut,
        aborted: request.signal?.aborted ?? false,
        ms: performance.now() - started,
      };
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }
}

function stringEnv(env: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}
