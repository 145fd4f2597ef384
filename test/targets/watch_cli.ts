/**
 * The CLI started with its stderr read line by line as it comes, so a test can act at an exact
 * point of a run ("web-2's health check has started") by polling, never by sleeping.
 *
 * @example
 * ```ts
 * const run = watchCli(["run", "deploy", "v1.2.0", "--yes"]);
 * await run.waitFor(/\[web-2\].*health endpoint/);
 * run.child.kill("SIGHUP");
 * const { code } = await run.result;
 * ```
 * @module
 */
import { cleanEnv, type CliResult, DENO_CONFIG, MAIN, ROOT } from "../fixtures/helpers.ts";

/** A running CLI whose stderr can be waited on. */
export interface WatchedCli {
  child: Deno.ChildProcess;
  /** Resolves once a stderr line matches; rejects after `ms` or when the CLI exits first. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  result: Promise<CliResult>;
}

/** Starts `deno run src/cli/main.ts ...args`. */
export function watchCli(args: string[], env: Record<string, string> = {}): WatchedCli {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", DENO_CONFIG, MAIN, ...args],
    cwd: ROOT,
    env: cleanEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let exited = false;
  const stderr = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of child.stderr) {
      const parts = (pending + decoder.decode(chunk, { stream: true })).split("\n");
      pending = parts.pop()!;
      lines.push(...parts);
    }
    if (pending) lines.push(pending);
  })();
  const stdout = new Response(child.stdout).text();
  const result = (async () => {
    const status = await child.status;
    await stderr;
    exited = true;
    return { code: status.code, stdout: await stdout, stderr: lines.join("\n") };
  })();
  return {
    child,
    result,
    async waitFor(pattern, ms = 120_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const line = lines.find((l) => pattern.test(l));
        if (line) return line;
        if (exited) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`no stderr line matched ${pattern}:\n${lines.slice(-40).join("\n")}`);
    },
  };
}
