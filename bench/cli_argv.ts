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
import { fileURLToPath } from "node:url";

/** The two ways to start the CLI: from the sources, or the bundle launcher `deno task` runs. */
export const ENTRIES = {
  source: fileURLToPath(new URL("../src/cli/main.ts", import.meta.url)),
  launch: fileURLToPath(new URL("../src/cli/launch.ts", import.meta.url)),
} as const;
const DENO_CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

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
    DENO_CONFIG,
    ENTRIES[options.entry ?? "source"],
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
export async function prepareCli(): Promise<void> {
  const { success, stderr } = await new Deno.Command("deno", {
    args: ["run", "-A", "--config", DENO_CONFIG, ENTRIES.launch, "--help"],
    stdout: "null",
    stdin: "null",
  }).output();
  if (!success) throw new Error(`the CLI does not start: ${new TextDecoder().decode(stderr)}`);
}
