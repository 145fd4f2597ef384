/**
 * What the runbook commands (`run`, `plan`, `checklist`) share: their common options, loading
 * the runbook with its parameters bound, and the nodes it will run on.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { runbookOptions } from "./runbook_input.ts";
 * const command = runbookOptions(new Command("plan"));
 * command.options.some((option) => option.long === "--param"); // true
 * ```
 * @module
 */
import { Command, Option } from "commander";
import { projectRoot } from "../config/root.ts";
import { UsageError } from "../errors.ts";
import { type Config, CONFIG_FILE, findConfig, loadConfig } from "../config/mod.ts";
import { type LoadedRunbook, loadRunbook } from "../runbook/load.ts";
import { bindParameters } from "../runbook/params.ts";
import { selectNodes, targetProblems } from "../runbook/rollout.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import type { TargetPool } from "../targets/pool.ts";
import { InvalidFileError } from "../source/mod.ts";

/** The options every runbook command takes. */
export interface RunbookOptions {
  /** The project directory (hidden; tests use it). */
  root?: string;
  /** The project configuration file. */
  config?: string;
  /** The state directory. */
  stateDir?: string;
  /** `-p key=value` pairs, in the order given. */
  param: string[];
  /** `--limit`: comma-separated nodes or groups. */
  limit?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Adds the options every runbook command takes to `command`.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { runbookOptions } from "./runbook_input.ts";
 * runbookOptions(new Command("run")).helpInformation().includes("--limit"); // true
 * ```
 */
export function runbookOptions(command: Command): Command {
  return command
    .option("-p, --param <key=value>", "set a parameter (once per key)", collect, [])
    .option("--config <file>", `project configuration (default: ./${CONFIG_FILE})`)
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option(
      "--limit <nodes>",
      "only these nodes or groups of the runbook's targets (comma-separated)",
    )
    .addOption(
      new Option("--root <dir>", "project directory holding runbooks/ and tasks/").hideHelp(),
    );
}

/**
 * The `-p key=value` pairs as a record. A key given twice is refused: silently keeping one of
 * two values would run with a value the user may not have meant.
 *
 * @example
 * ```ts
 * import { namedParameters } from "./runbook_input.ts";
 * namedParameters(["version=v1.2.0", "note=a=b"]); // { version: "v1.2.0", note: "a=b" }
 * ```
 */
export function namedParameters(pairs: string[]): Record<string, string> {
  const named: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`-p expects key=value, got "${pair}"`);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(named, key)) {
      throw new UsageError(`-p ${key} is given twice; give each parameter once`);
    }
    named[key] = pair.slice(eq + 1);
  }
  return named;
}

/**
 * Loads the runbook `name` and binds its parameters from positional and `-p` arguments.
 *
 * @example
 * ```ts
 * import { prepareRunbook } from "./runbook_input.ts";
 * const { loaded, params } = await prepareRunbook("deploy", ["v1.2.0"], { param: [] });
 * console.log(loaded.runbook.title, params.version);
 * ```
 */
export async function prepareRunbook(name: string, args: string[], options: RunbookOptions) {
  const root = projectRoot(options.root);
  const loaded = await loadRunbook(root, name);
  const params = bindParameters(loaded.runbook.parameters, args, namedParameters(options.param));
  return { root, loaded, params };
}

/**
 * The project configuration when there is one (plan and checklist work without).
 *
 * @example
 * ```ts
 * import { optionalConfig } from "./runbook_input.ts";
 * const config = await optionalConfig({ param: [] });
 * console.log(config?.app.dir ?? "no configuration");
 * ```
 */
export async function optionalConfig(options: RunbookOptions): Promise<Config | undefined> {
  const path = await findConfig(options);
  return path ? await loadConfig(path) : undefined;
}

/**
 * The nodes a runbook will run on, checked against the inventory before anything runs: an
 * `on:` naming no node or group is reported where it is written, like any other mistake.
 *
 * @example
 * ```ts
 * import { nodesFor } from "./runbook_input.ts";
 * import { loadRunbook } from "../runbook/load.ts";
 * import { TargetPool } from "../targets/pool.ts";
 * import { requireConfig } from "../config/mod.ts";
 * const root = Deno.cwd();
 * const loaded = await loadRunbook(root, "deploy");
 * const pool = new TargetPool(await requireConfig({}));
 * const nodes = await nodesFor(root, loaded, pool, "web-2");
 * ```
 */
export async function nodesFor(
  root: string,
  loaded: LoadedRunbook,
  pool: TargetPool,
  limit?: string,
): Promise<InventoryNode[]> {
  const problems = targetProblems(loaded, pool.inventory);
  const failurePath = loaded.runbook.on_failure?.runbook;
  if (failurePath) {
    problems.push(...targetProblems(await loadRunbook(root, failurePath), pool.inventory));
  }
  if (problems.length) throw new InvalidFileError(problems);
  return selectNodes(loaded, pool.inventory, limit?.split(","));
}
