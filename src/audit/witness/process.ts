/**
 * The one place the witness clients run a program (git): argv in, exit code and output back,
 * optional stdin, never a shell.
 *
 * @example
 * ```ts
 * import { runProgram } from "./process.ts";
 * const r = await runProgram("git", ["--version"]);
 * console.log(r.code, r.stdout);
 * ```
 * @module
 */

/** Result of one program run. */
export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `program args…` with optional stdin, cwd and extra environment; never throws for a
 * non-zero exit (callers decide), only when the program cannot start.
 *
 * @example
 * ```ts
 * await runProgram("git", ["hash-object", "-w", "--stdin"], { stdin: "text", cwd: "/tmp/r.git" });
 * ```
 */
export async function runProgram(
  program: string,
  args: string[],
  options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<ProgramResult> {
  const child = new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
