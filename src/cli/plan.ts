/**
 * The commands that describe a run without running it: `plan` (every command, per node and
 * batch) and `checklist` (the change-ticket checklist, or a finished run's evidence).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerPlanCommands } from "./plan.ts";
 * const program = new Command();
 * registerPlanCommands(program);
 * program.commands.map((command) => command.name()); // ["plan", "checklist"]
 * ```
 * @module
 */
import { type Command, Option } from "commander";
import { describeRunbook, formatPlan } from "../runbook/describe.ts";
import { CHECKLIST_FORMATS, type ChecklistFormat, formatChecklist } from "../runbook/checklist.ts";
import type { LoadedRunbook } from "../runbook/load.ts";
import { describeRollout, formatRolloutPlan } from "../runbook/rollout.ts";
import { LOCAL_NODE } from "../targets/inventory.ts";
import { TargetPool } from "../targets/pool.ts";
import { printRunEvidence } from "../evidence/print.ts";
import { checklistShapes } from "../runbook/shape.ts";
import { projectRoot } from "../config/root.ts";
import {
  nodesFor,
  optionalConfig,
  prepareRunbook,
  type RunbookOptions,
  runbookOptions,
} from "./runbook_input.ts";

/**
 * Prints the plan of a run: per node and batch when it runs on nodes.
 *
 * @example
 * ```ts
 * import { printPlan } from "./plan.ts";
 * import { prepareRunbook } from "./runbook_input.ts";
 * const { root, loaded, params } = await prepareRunbook("deploy", ["v1.2.0"], { param: [] });
 * await printPlan(root, loaded, params, { param: [], json: true });
 * ```
 */
export async function printPlan(
  root: string,
  loaded: LoadedRunbook,
  params: Record<string, string | number | boolean>,
  options: RunbookOptions & { json?: boolean },
): Promise<void> {
  const config = await optionalConfig(options);
  const nodes = config
    ? await nodesFor(root, loaded, new TargetPool(config), options.limit)
    : [LOCAL_NODE];
  if (nodes.length === 1 && nodes[0] === LOCAL_NODE) {
    const description = describeRunbook(loaded, params, config);
    console.log(options.json ? JSON.stringify(description, null, 2) : formatPlan(description));
    return;
  }
  const rollout = describeRollout(loaded, params, config, nodes);
  console.log(options.json ? JSON.stringify(rollout, null, 2) : formatRolloutPlan(rollout));
}

/** Adds `plan` and `checklist` to `program`. */
export function registerPlanCommands(program: Command): void {
  runbookOptions(program.command("plan <runbook> [args...]"))
    .description(
      "print every command a run would execute, per node and batch, without running anything",
    )
    .option("--json", "print the plan as JSON")
    .action(async (name: string, args: string[], options: RunbookOptions & { json?: boolean }) => {
      const { root, loaded, params } = await prepareRunbook(name, args, options);
      await printPlan(root, loaded, params, options);
    });

  runbookOptions(program.command("checklist <runbook> [args...]"))
    .description("print the change-ticket checklist generated from a runbook")
    .addOption(
      new Option("--format <format>", "output format (html: with --run)").choices([
        ...Object.keys(CHECKLIST_FORMATS),
        "html",
      ]).default("md"),
    )
    .option("--run <id>", "the evidence of a finished run: items ticked, audit seq and hash")
    .action(async (
      name: string,
      args: string[],
      options: RunbookOptions & { format: string; run?: string },
    ) => {
      if (options.run !== undefined || options.format === "html") {
        const shapes = checklistShapes(projectRoot(options.root));
        Deno.exitCode = await printRunEvidence(name, options, shapes);
        return;
      }
      const { loaded, params } = await prepareRunbook(name, args, options);
      const description = describeRunbook(loaded, params, await optionalConfig(options));
      Deno.stdout.writeSync(
        new TextEncoder().encode(formatChecklist(description, options.format as ChecklistFormat)),
      );
    });
}
