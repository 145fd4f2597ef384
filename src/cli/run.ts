/**
 * The `run` command: runs a runbook against the targets of the project configuration.
 *
 * Exit codes: 0 success, 1 the runbook failed (after its failure path ran), 2 invalid input
 * (runbook, parameters, configuration), 130 interrupted.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerRunCommand } from "./run.ts";
 * const program = new Command();
 * registerRunCommand(program);
 * program.commands.map((command) => command.name()); // ["run"]
 * ```
 * @module
 */
import { auditJournal, requireAuditKey } from "../audit/journal.ts";
import { UsageError } from "../errors.ts";
import type { Command } from "commander";
import $ from "dax";
import { requireConfig } from "../config/mod.ts";
import type { Confirmer } from "../runbook/execute.ts";
import { exitCodeOf, humanItems } from "../runbook/run.ts";
import { runRollout } from "../runbook/fleet.ts";
import { LOCAL_NODE } from "../targets/inventory.ts";
import { TargetPool } from "../targets/pool.ts";
import { ensureStateDir, resolveStateDir } from "../state/mod.ts";
import { ProgressPrinter } from "./progress.ts";
import { writeCheckpoint } from "../audit/mod.ts";
import { nodesFor, prepareRunbook, type RunbookOptions, runbookOptions } from "./runbook_input.ts";
import { printPlan } from "./plan.ts";

/** Adds `run` to `program`. */
export function registerRunCommand(program: Command): void {
  runbookOptions(program.command("run <runbook> [args...]"))
    .description("run a runbook against the targets of the project configuration")
    .option("--dry-run", "print the plan instead of running anything")
    .option("-y, --yes", "acknowledge the human checklist items (recorded as acknowledged)")
    .option("--json", "print the run record as JSON on stdout (progress stays on stderr)")
    .option(
      "--force-unlock <reason>",
      "remove a node's deploy lock left by a run that is gone, first (the reason is audited)",
    )
    .option("--accept-new-host-keys", "record the host key of a node seen for the first time")
    .addHelpText(
      "after",
      "\nExamples:\n  deno task sop:deploy v1.2.0\n  deno task sop:deploy v1.2.0 --limit web-2\n" +
        "  deno task run rollback -p version=v1.1.0 --yes",
    )
    .action(async (
      name: string,
      args: string[],
      options: RunbookOptions & {
        dryRun?: boolean;
        yes?: boolean;
        json?: boolean;
        forceUnlock?: string;
        acceptNewHostKeys?: boolean;
      },
    ) => {
      const { root, loaded, params } = await prepareRunbook(name, args, options);
      if (options.dryRun) return await printPlan(root, loaded, params, options);
      if (options.forceUnlock !== undefined && !options.forceUnlock.trim()) {
        throw new UsageError(
          '--force-unlock needs a reason, as in --force-unlock "run 123 crashed"',
        );
      }
      const config = await requireConfig(options);
      const pool = new TargetPool(config, { acceptNewHostKeys: options.acceptNewHostKeys });
      const nodes = await nodesFor(root, loaded, pool, options.limit);
      const stateDir = await ensureStateDir(resolveStateDir(options));
      await requireAuditKey(stateDir);
      const confirm = confirmer(humanItems(loaded), options.yes ?? false);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
      signals.forEach((signal) => Deno.addSignalListener(signal, interrupt));
      const write = (line: string) => console.error(line);
      const several = nodes.length > 1 || nodes[0] !== LOCAL_NODE;
      try {
        const printer = new ProgressPrinter(write);
        const record = await runRollout(loaded, {
          root,
          params,
          config,
          stateDir,
          pool,
          nodes,
          forceUnlock: options.forceUnlock,
          confirm: confirm && onceEach(confirm),
          signal: controller.signal,
          observer: printer,
          observerFor: (node) => several ? new ProgressPrinter(write, node.name) : printer,
          rollout: printer,
          journal: auditJournal(stateDir),
        });
        // A checkpoint per run: shipped off the host, it exposes a log cut back or rewritten.
        const { path } = await writeCheckpoint(stateDir);
        console.error(`  audit checkpoint: ${path}`);
        if (options.json) console.log(JSON.stringify(record, null, 2));
        Deno.exitCode = exitCodeOf(record);
      } finally {
        signals.forEach((signal) => Deno.removeSignalListener(signal, interrupt));
        await pool.close();
      }
    });
}

/**
 * Asks each question once per run, one at a time: a rollout over ten nodes asks "deployment
 * window confirmed?" once, and parallel nodes never prompt over each other.
 */
function onceEach(confirm: Confirmer): Confirmer {
  const answers = new Map<string, ReturnType<Confirmer>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (question) => {
    let answer = answers.get(question);
    if (!answer) {
      answer = queue.then(() => confirm(question));
      queue = answer.catch(() => undefined);
      answers.set(question, answer);
    }
    return answer;
  };
}

/**
 * How human items get answered: `--yes` acknowledges them; a terminal asks; otherwise the run
 * is refused before anything runs, naming the items.
 */
function confirmer(items: string[], yes: boolean): Confirmer | undefined {
  if (yes) return () => Promise.resolve("acknowledged");
  const interactive = Deno.stdin.isTerminal() && !Deno.env.get("CI");
  if (interactive) {
    return async (question) =>
      await $.confirm({ message: question, default: false }) ? "confirmed" : "declined";
  }
  if (items.length) {
    throw new UsageError(
      `this runbook has ${items.length} item(s) a human must confirm, and there is no terminal ` +
        `to ask:\n${items.map((item) => `  - ${item}`).join("\n")}\n` +
        `Run it from a terminal, or pass --yes to acknowledge them (recorded in the run record).`,
    );
  }
  return undefined;
}
