/**
 * The one place the tool starts its own processes (git, ssh-keygen, crontab, the drills' and
 * the demo's helpers): argv arrays, never a shell string built here; stdin given or empty;
 * output captured; a timeout and an abort signal that end the process. Targets keep their
 * own runners (a script on a node is a different thing from a local helper).
 *
 * @example
 * ```ts
 * import { runProcess } from "./mod.ts";
 * const result = await runProcess(["git", "--version"], { timeoutMs: 10_000 });
 * result.code; // 0
 * result.stdout.startsWith("git version"); // true
 * ```
 * @module
 */
import { FailureError } from "../errors.ts";

/** How to run a process. */
export interface ProcessOptions {
  /** Working directory (default: the tool's). */
  cwd?: string;
  /** Extra environment variables, on top of the tool's environment. */
  env?: Record<string, string>;
  /** Text written to stdin (else stdin is empty). */
  stdin?: string;
  /** Ends the process (SIGTERM) after this long; the result says `timedOut`. */
  timeoutMs?: number;
  /** Ends the process (SIGTERM) when aborted; the result says `aborted`. */
  signal?: AbortSignal;
}

/** What a finished process left. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** It was ended because `timeoutMs` passed. */
  timedOut: boolean;
  /** It was ended because `signal` was aborted. */
  aborted: boolean;
}

/** A process that had to succeed did not; the message names it and the end of its stderr. */
export class ProcessFailedError extends FailureError {
  constructor(readonly argv: string[], readonly result: ProcessResult) {
    const detail = (result.stderr || result.stdout).trim().split("\n").slice(-5).join("\n");
    const why = result.timedOut
      ? "timed out"
      : result.aborted
      ? "was interrupted"
      : `exit ${result.code}`;
    super(`\`${argv.join(" ")}\` failed (${why})${detail ? `:\n${detail}` : ""}`);
  }
}

/**
 * Runs `argv` to its end and returns what it left, whatever its exit code.
 *
 * @example
 * ```ts
 * import { runProcess } from "./mod.ts";
 * const r = await runProcess(["sh", "-c", "cat; exit 3"], { stdin: "hi" });
 * [r.code, r.stdout]; // [3, "hi"]
 * ```
 */
export async function runProcess(
  argv: string[],
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  const [program, ...args] = argv;
  const timeout = options.timeoutMs === undefined
    ? undefined
    : AbortSignal.timeout(options.timeoutMs);
  const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: signals.length ? AbortSignal.any(signals) : undefined,
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await child.output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    timedOut: timeout?.aborted ?? false,
    aborted: options.signal?.aborted ?? false,
  };
}

/**
 * Runs `argv`; anything but exit 0 is a {@link ProcessFailedError}.
 *
 * @example
 * ```ts
 * import { mustRun } from "./mod.ts";
 * const { stdout } = await mustRun(["sh", "-c", "echo ok"]);
 * stdout; // "ok\n"
 * ```
 */
export async function mustRun(
  argv: string[],
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  const result = await runProcess(argv, options);
  if (result.code !== 0) throw new ProcessFailedError(argv, result);
  return result;
}

/**
 * Starts `argv` in the background, its output discarded, and returns it: for a process that
 * must outlive the call (a drill's planted miner). The caller ends it.
 *
 * @example
 * ```ts
 * import { startProcess } from "./mod.ts";
 * const child = startProcess(["sleep", "60"]);
 * child.kill("SIGTERM");
 * await child.status;
 * ```
 */
export function startProcess(argv: string[], options: { cwd?: string } = {}): Deno.ChildProcess {
  const [program, ...args] = argv;
  return new Deno.Command(program, {
    args,
    cwd: options.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}
