/**
 * The CLI command lines the benches run, built in one place: `deno run` of the entry users run
 * (`src/cli/launch.ts`, what every `deno task` runs: the CLI from a bundle of the current sources)
 * or of the sources themselves (`src/cli/main.ts`), with the project, configuration and state
 * directory a bench made.
 *
 * @example
 * ```ts
 * import { cliRunArgv } from "./cli_argv.ts";
 * const argv = cliRunArgv("twenty", { project: "/tmp/p", config: "/tmp/p.yaml", stateDir: "/tmp/s" });
 * argv.slice(0, 3); // ["deno", "run", "-A"]
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";

/** The two ways to start the CLI: the bundle launcher (`deno task`) or the sources. */
export const ENTRIES = {
  launch: fileURLToPath(new URL("../src/cli/launch.ts", import.meta.url)),
  source: fileURLToPath(new URL("../src/cli/main.ts", import.meta.url)),
} as const;

const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

/** Where a bench's run happens. */
export interface BenchProject {
  /** The project root: `runbooks/`. */
  project: string;
  /** Its protocol.yaml. */
  config: string;
  stateDir: string;
}

/**
 * `deno run -A … run RUNBOOK --root … --config … --state-dir …`, then `extra` (`--yes`,
 * `--limit g10`); `denoFlags` go to `deno run` (`--cpu-prof`).
 *
 * @example
 * ```ts
 * import { cliRunArgv } from "./cli_argv.ts";
 * const where = { project: "/tmp/p", config: "/tmp/p.yaml", stateDir: "/tmp/s" };
 * cliRunArgv("first", where, { entry: "source" }).includes("run"); // true
 * ```
 */
export function cliRunArgv(
  runbook: string,
  where: BenchProject,
  options: { entry?: keyof typeof ENTRIES; extra?: string[]; denoFlags?: string[] } = {},
): string[] {
  return [
    "deno",
    "run",
    "-A",
    ...options.denoFlags ?? [],
    "--config",
    CONFIG,
    ENTRIES[options.entry ?? "launch"],
    "run",
    runbook,
    ...options.extra ?? [],
    "--root",
    where.project,
    "--config",
    where.config,
    "--state-dir",
    where.stateDir,
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
    args: ["run", "-A", "--config", CONFIG, ENTRIES.launch, "--help"],
    stdout: "null",
    stdin: "null",
  }).output();
  if (!success) throw new Error(`the CLI does not start: ${new TextDecoder().decode(stderr)}`);
}
