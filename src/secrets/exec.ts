/**
 * How the secrets module runs external programs (git, ssh-keygen, crontab): through the one
 * process runner (`proc/`), with no terminal prompts (a hidden git credential prompt would hang
 * a runbook) and the C locale (messages are parsed). Commands are built as argv arrays by pure
 * functions elsewhere.
 *
 * @example
 * ```ts
 * import { run } from "./exec.ts";
 * const { stdout } = await run(["git", "-C", "/srv/config", "status", "--porcelain"]);
 * ```
 * @module
 */
import { CommandFailedError } from "./errors.ts";
import { runProcess } from "../proc/mod.ts";

/** What a finished command left. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options of {@link run} and {@link tryRun}. */
export interface RunOptions {
  /** Text written to the command's stdin (else stdin is empty). */
  stdin?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Runs `argv` and returns its result whatever the exit code.
 *
 * @example
 * ```ts
 * const r = await tryRun(["crontab", "-l"]);
 * if (r.code !== 0) console.log(r.stderr);
 * ```
 */
export async function tryRun(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  const { code, stdout, stderr } = await runProcess(argv, {
    stdin: options.stdin,
    env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...options.env },
  });
  return { code, stdout, stderr };
}

/**
 * Runs `argv`; a non-zero exit is a {@link CommandFailedError} carrying its stderr.
 *
 * @example
 * ```ts
 * import { run } from "./exec.ts";
 * const repo = "/opt/myapp-config";
 * await run(["git", "-C", repo, "push", "origin", "production"]);
 * ```
 */
export async function run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  const result = await tryRun(argv, options);
  if (result.code !== 0) throw new CommandFailedError(argv, result.code, result.stderr);
  return result;
}
