/**
 * `drill NAME`: runs a drill of `runbooks/drills/NAME.yaml` (SOP 8 with injected faults) in a
 * throwaway sandbox on this machine, or on a node marked `staging: true` (`--target NODE`,
 * faults planted over SSH), and prints its report. Exit 0 when the drill passed (every fault
 * detected and removed, every phase done, the runbook's run green), 1 when it did not, 2 for
 * bad input (nothing ran).
 *
 * @example
 * ```sh
 * deno task drill incident-response               # every fault type, report as Markdown
 * deno task drill compromised-node --format json  # a tabletop scenario, report as JSON
 * deno task drill compromised-node --target staging-1   # on a staging node over SSH
 * ```
 * @module
 */
import { requireAuditKey } from "../audit/journal.ts";
import { notifierFor, notifyingJournal } from "../notify/mod.ts";
import { projectRoot } from "../config/root.ts";
import { UsageError } from "../errors.ts";
import { type Command, Option } from "commander";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { formatDrillReport, loadDrill, runDrill, stagingRefusal } from "../drill/mod.ts";
import { type Config, findConfig, loadConfig, requireConfig } from "../config/mod.ts";
import { TargetPool } from "../targets/pool.ts";
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
      "local (a throwaway sandbox), or a node marked `staging: true` in protocol.yaml",
      "local",
    )
    .option(
      "--config <file>",
      "project configuration: the --target node, notify: webhooks (default: ./protocol.yaml)",
    )
    .option("--accept-new-host-keys", "record the host key of a node seen for the first time")
    .option("--list", "list the drills in runbooks/drills/")
    .addOption(new Option("--root <dir>").hideHelp())
    .addHelpText(
      "after",
      "\nEvery audit entry a drill writes is marked drill=true; the runbook runs against the " +
        "sandbox's own\nstate directory and audit log, which are removed with the sandbox.\n" +
        "With --target NODE the faults are planted on that node over SSH; only a node marked\n" +
        "`staging: true` in protocol.yaml is accepted.\n" +
        "Exit codes: 0 the drill passed (every fault detected and removed, every phase done),\n" +
        "1 it did not, 2 bad input (nothing ran).",
    )
    .action(async (name: string | undefined, options: {
      format: "md" | "json";
      stateDir?: string;
      target: string;
      config?: string;
      acceptNewHostKeys?: boolean;
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
      const drill = await loadDrill(root, name);
      let config: Config | undefined;
      if (options.target !== "local") {
        // A drill plants a webshell and a miner: only where nothing real lives.
        config = await requireConfig(options);
        const refusal = stagingRefusal(
          options.target,
          config.nodes[options.target],
          drill.faults.map((fault) => fault.type),
          config.file,
        );
        if (refusal) throw new UsageError(refusal);
      }
      const stateDir = await ensureStateDir(resolveStateDir(options));
      await requireAuditKey(stateDir);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      Deno.addSignalListener("SIGINT", interrupt);
      const pool = config &&
        new TargetPool(config, { acceptNewHostKeys: options.acceptNewHostKeys });
      const configPath = config ? undefined : await findConfig(options);
      const notifier = await notifierFor(
        config ?? (configPath ? await loadConfig(configPath) : undefined),
        stateDir,
      );
      try {
        const node = pool?.inventory.select(options.target)[0];
        const report = await runDrill(drill, {
          engine: localEngine(root),
          stateDir,
          journal: notifyingJournal(stateDir, notifier, { runbook: drill.runbook }),
          say: (line) => console.error(line),
          signal: controller.signal,
          staging: pool && node && config
            ? { node, target: await pool.connect(node), config }
            : undefined,
        });
        console.log(formatDrillReport(report, options.format).trimEnd());
        Deno.exitCode = report.passed ? 0 : 1;
      } finally {
        Deno.removeSignalListener("SIGINT", interrupt);
        await pool?.close();
        await notifier.flush();
      }
    });
}
