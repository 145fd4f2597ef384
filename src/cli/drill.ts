/**
 * `drill NAME`: runs a drill of `runbooks/drills/NAME.yaml` (SOP 8 with injected faults) in a
 * throwaway sandbox on this machine, and prints its report. Exit 0 when every fault was
 * detected and removed, 1 when one was missed or something is left, 2 for bad input.
 *
 * @example
 * ```sh
 * deno task drill incident-response               # every fault type, report as Markdown
 * deno task drill compromised-node --format json  # a tabletop scenario, report as JSON
 * ```
 * @module
 */
import { requireAuditKey } from "../audit/journal.ts";
import { notifierFor, notifyingJournal } from "../notify/mod.ts";
import { findConfig, loadConfig } from "../config/mod.ts";
import { projectRoot } from "../config/root.ts";
import { UsageError } from "../errors.ts";
import { type Command, Option } from "commander";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { formatDrillReport, loadDrill, runDrill } from "../drill/mod.ts";
import { localEngine } from "../runbook/local_engine.ts";
import { ensureStateDir, resolveStateDir } from "../state/mod.ts";

/** Adds the `drill` command to `program`. */
export function registerDrillCommand(program: Command): void {
  program.command("drill [name]")
    .description(
      "run an incident-response drill with injected faults in a throwaway sandbox, then report",
    )
    .addOption(
      new Option("--format <format>", "report format").choices(["md", "json"]).default("md"),
    )
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option(
      "--target <node>",
      "where the sandbox is built (only `local` in this version; never a production node)",
      "local",
    )
    .option("--list", "list the drills in runbooks/drills/")
    .option("--config <file>", "project configuration, for its notify: webhooks")
    .addOption(new Option("--root <dir>").hideHelp())
    .addHelpText(
      "after",
      "\nEvery audit entry a drill writes is marked drill=true; the runbook runs against the " +
        "sandbox's own\nstate directory and audit log, which are removed with the sandbox.\n" +
        "Exit codes: 0 every fault detected and removed, 1 a fault missed or left, 2 bad input.",
    )
    .action(async (name: string | undefined, options: {
      format: "md" | "json";
      stateDir?: string;
      config?: string;
      target: string;
      list?: boolean;
      root?: string;
    }) => {
      const root = projectRoot(options.root);
      if (options.list || !name) {
        const files = (await readdir(join(root, "runbooks", "drills"))).filter((f) =>
          f.endsWith(".yaml")
        ).sort();
        for (const file of files) {
          const drill = await loadDrill(root, file.replace(/\.yaml$/, ""));
          console.log(`${drill.id.padEnd(24)} ${drill.severity}  ${drill.title}`);
        }
        if (!name && !options.list) Deno.exitCode = 2;
        return;
      }
      if (options.target !== "local") {
        // A drill plants a webshell and a miner: it only ever runs where nothing real lives.
        throw new UsageError(
          `drills run in a throwaway sandbox on this machine; building one on node ` +
            `"${options.target}" is not supported in this version, and a production node never is`,
        );
      }
      const drill = await loadDrill(root, name);
      const stateDir = await ensureStateDir(resolveStateDir(options));
      await requireAuditKey(stateDir);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      Deno.addSignalListener("SIGINT", interrupt);
      const configPath = await findConfig(options);
      const notifier = await notifierFor(
        configPath ? await loadConfig(configPath) : undefined,
        stateDir,
      );
      try {
        const report = await runDrill(drill, {
          engine: localEngine(root),
          stateDir,
          journal: notifyingJournal(stateDir, notifier, { runbook: drill.runbook }),
          say: (line) => console.error(line),
          signal: controller.signal,
        });
        console.log(formatDrillReport(report, options.format).trimEnd());
        Deno.exitCode = report.missed === 0 && report.cleaned ? 0 : 1;
      } finally {
        Deno.removeSignalListener("SIGINT", interrupt);
        await notifier.flush();
      }
    });
}
