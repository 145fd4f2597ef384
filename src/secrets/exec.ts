/**
 * The one place the secrets module runs external programs (git, ssh-keygen, crontab). Commands
 * are built as argv arrays by pure functions elsewhere; this runs them without a shell, with no
 * terminal prompts (a hidden git credential prompt would hang a runbook).
 *
 * @example
 * ```ts
 * import { run } from "./exec.ts";
 * const { stdout } = await run(["git", "-C", "/srv/config", "status", "--porcelain"]);
 * ```
 * @module
 */
import { CommandFailedError } from "./errors.ts";

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
  const [program, ...args] = argv;
  const child = new Deno.Command(program, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", ...options.env },
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/**
 * Runs `argv`; a non-zero exit is a {@link CommandFailedError} carrying its stderr.
 *
 * @example
 * ```ts
 * await run(["git", "-C", repo, "push", "origin", "production"]);
 * ```
 */
export async function run(argv: string[], options: RunOptions = {}): Promise<CommandResult> {
  const result = await tryRun(argv, options);
  if (result.code !== 0) throw new CommandFailedError(argv, result.code, result.stderr);
  return result;
}
