/**
 * The command line that runs a runbook through the CLI from source, as every bench starts it:
 * `deno run -A --config deno.json src/cli/main.ts run RUNBOOK --root … --config … --state-dir …`.
 * One builder, so the benches measure the same command.
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

const MAIN = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
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
    MAIN,
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
