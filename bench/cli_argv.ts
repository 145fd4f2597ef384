/**
 * The command line that runs a runbook through the CLI, as every bench starts it:
 * `deno run -A --config deno.json src/cli/main.ts run RUNBOOK --root … --config … --state-dir …`,
 * from the sources (`src/cli/main.ts`) or as every `deno task` starts it (`src/cli/launch.ts`:
 * from the bundle of the current sources). One builder, so the benches measure the same command.
 *
 * @example
 * ```ts
 * import { cliRunArgv } from "./cli_argv.ts";
 * const argv = cliRunArgv("twenty", { root: "/p", config: "/p/protocol.yaml", stateDir: "/s" });
 * // ["deno", "run", "-A", "--config", ".../deno.json", ".../src/cli/main.ts", "run", "twenty", ...]
 * ```
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** This checkout: the project the bench belongs to. */
const HERE = fileURLToPath(new URL("../", import.meta.url));

/** The two ways to start the CLI: from the sources, or the bundle launcher `deno task` runs. */
export const ENTRIES = {
  source: "src/cli/main.ts",
  launch: "src/cli/launch.ts",
} as const;

/** Where a bench's project lives. */
export interface BenchProject {
  /** The project root (its `runbooks/`). */
  root: string;
  /** Its `protocol.yaml`. */
  config: string;
  stateDir: string;
}

/** What else goes on the command line. */
export interface CliArgvOptions {
  /** Flags for `deno run` itself (`--quiet`, `--cpu-prof`, …), after `-A`. */
  denoFlags?: string[];
  /** Options of `run` after the runbook (`--yes`, `--limit g10`, …). */
  runFlags?: string[];
  /** The deno binary (default `deno` from PATH). */
  deno?: string;
  /** `source` (default) or `launch`, as `deno task` runs it (call {@link prepareCli} first). */
  entry?: keyof typeof ENTRIES;
  /**
   * Another checkout of the project to run instead of this one (its `deno.json` and `src/`),
   * to compare two versions side by side; call {@link prepareCli} with it first.
   */
  checkout?: string;
}

/** The argv that runs `runbook` of `project` through the CLI. */
export function cliRunArgv(
  runbook: string,
  project: BenchProject,
  options: CliArgvOptions = {},
): string[] {
  return [
    options.deno ?? "deno",
    "run",
    "-A",
    ...options.denoFlags ?? [],
    "--config",
    join(options.checkout ?? HERE, "deno.json"),
    join(options.checkout ?? HERE, ENTRIES[options.entry ?? "source"]),
    "run",
    runbook,
    ...options.runFlags ?? [],
    "--root",
    project.root,
    "--config",
    project.config,
    "--state-dir",
    project.stateDir,
  ];
}

/**
 * Runs the launcher once, so the bundle of the current sources exists before anything is timed
 * (building it takes seconds, once per change of the sources).
 *
 * @example
 * ```ts
 * import { prepareCli } from "./cli_argv.ts";
 * await prepareCli();
 * ```
 */
export async function prepareCli(checkout: string = HERE): Promise<void> {
  const { success, stderr } = await new Deno.Command("deno", {
    args: [
      "run",
      "-A",
      "--config",
      join(checkout, "deno.json"),
      join(checkout, ENTRIES.launch),
      "--help",
    ],
    stdout: "null",
    stdin: "null",
  }).output();
  if (!success) throw new Error(`the CLI does not start: ${new TextDecoder().decode(stderr)}`);
}
