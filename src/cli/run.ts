/**
 * The `run` command: runs a runbook against the targets of the project configuration.
 *
 * Exit codes: 0 success, 1 the runbook failed or was declined, or a node was lost; 2 invalid input
 * (runbook, parameters, configuration); 130 interrupted by a signal.
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
import { requireAuditKey } from "../audit/journal.ts";
import { UsageError } from "../errors.ts";
import type { Command } from "commander";
import { requireConfig } from "../config/mod.ts";
import { describeInterruption, humanItems, Interrupter } from "../runbook/mod.ts";
import { confirmer, onceEach } from "./human_gate.ts";
import { TargetPool } from "../targets/pool.ts";
import { LocalTarget } from "../targets/local.ts";
import { ensureStateDir, operator, resolveStateDir } from "../state/mod.ts";
import { resumeSource, runFromCli } from "./run_rollout.ts";
import { nodesFor, prepareRunbook, type RunbookOptions, runbookOptions } from "./runbook_input.ts";
import { type ApprovalOptions, passApprovalGate } from "./approval_gate.ts";
import { notifierFor, notifyingJournal } from "../notify/mod.ts";

/** Adds `run` to `program`. */
export function registerRunCommand(program: Command): void {
  runbookOptions(program.command("run [runbook] [args...]"))
    .description("run a runbook against the targets of the project configuration")
    .option("--dry-run", "print the plan instead of running anything")
    .option("-y, --yes", "acknowledge the human checklist items (recorded as acknowledged)")
    .option("--json", "print the run record as JSON on stdout (progress stays on stderr)")
    .option(
      "--force-unlock <reason>",
      "remove a node's deploy lock left by a run that is gone, first (the reason is audited)",
    )
    .option("--accept-new-host-keys", "record the host key of a node seen for the first time")
    .option(
      "--resume <run-id>",
      "continue a failed or aborted rollout: its nodes that succeeded are skipped",
    )
    .option(
      "--no-rollback-on-abort",
      "on an interrupt, leave a node that was changed but not yet verified as it is",
    )
    .option("--request <id>", "the approved change request this run carries out (CR-...)")
    .option("--emergency <reason>", "run without prior approval (hotfix, incident, rollback)")
    .option("--approvers <file>", "approvers file (default: approvers.yaml in the project)")
    .addHelpText(
      "after",
      "\nExamples:\n  deno task sop:deploy v1.2.0 --request CR-20260701-a1b2c3\n" +
        "  deno task sop:deploy v1.2.0 --limit web-2 --request CR-20260701-a1b2c3\n" +
        '  deno task sop:hotfix -p from=v1.2.0 --emergency "checkout returns 500"\n' +
        "  deno task run rollback -p version=v1.1.0 --yes\n" +
        "  deno task run --resume RUN_ID --yes",
    )
    .action(async (
      name: string | undefined,
      args: string[],
      options: RunbookOptions & ApprovalOptions & {
        dryRun?: boolean;
        yes?: boolean;
        json?: boolean;
        forceUnlock?: string;
        acceptNewHostKeys?: boolean;
        resume?: string;
        rollbackOnAbort: boolean;
      },
    ) => {
      const resumed = options.resume === undefined
        ? undefined
        : await resumeSource(resolveStateDir(options), options.resume);
      if (resumed && (name !== undefined || options.param.length || options.limit)) {
        throw new UsageError("--resume takes the runbook, parameters and nodes of the run resumed");
      }
      if (!resumed && name === undefined) {
        throw new UsageError("name the runbook to run (deno task runbooks lists them)");
      }
      const { root, loaded, params } = resumed
        ? await prepareRunbook(resumed.runbook, [], {
          ...options,
          param: Object.entries(resumed.params).map(([k, v]) => `${k}=${v}`),
        })
        : await prepareRunbook(name!, args, options);
      if (options.dryRun) {
        // The plan's printer (and the evidence formatting it shares) loads for --dry-run only.
        const { printPlan } = await import("./plan.ts");
        return await printPlan(root, loaded, params, options);
      }
      if (options.forceUnlock !== undefined && !options.forceUnlock.trim()) {
        throw new UsageError(
          '--force-unlock needs a reason, as in --force-unlock "run 123 crashed"',
        );
      }
      const config = await requireConfig(options);
      const pool = new TargetPool(config, { acceptNewHostKeys: options.acceptNewHostKeys });
      // From the first thing the run makes (the connections' directory, the local shell), a
      // signal ends it through the finally that closes the pool: before the run as during it,
      // nothing is left behind.
      const interrupter = new Interrupter();
      const stopListening = interrupter.listen();
      try {
        const nodes = await nodesFor(root, loaded, pool, resumed?.nodes ?? options.limit);
        // The local shell (dax, bash) starts now, while the run gets ready below: its process
        // starts on the other core and the audit's disk waits overlap dax's loading.
        for (const node of nodes) {
          const target = pool.target(node);
          if (target instanceof LocalTarget) target.prepare();
        }
        const confirm = confirmer(humanItems(loaded), options.yes ?? false);
        const ready = await unlessInterrupted(interrupter.signal, async () => {
          const stateDir = await ensureStateDir(resolveStateDir(options));
          requireAuditKey(stateDir);
          const notifier = await notifierFor(config, stateDir);
          const journal = await passApprovalGate({
            root,
            loaded,
            params,
            nodes,
            config,
            stateDir,
            journal: notifyingJournal(stateDir, notifier, {
              runbook: loaded.runbook.id,
              version: typeof params.version === "string" ? params.version : undefined,
              nodes: nodes.map((node) => node.name),
              operator: operator(),
            }),
            options,
            say: (line) => console.error(line),
          });
          return { stateDir, notifier, journal };
        });
        if (!ready) {
          console.error(
            `${describeInterruption(interrupter.interruption!)} before the run started; ` +
              "nothing ran",
          );
          Deno.exitCode = 130;
          return;
        }
        const { stateDir, notifier, journal } = ready;
        try {
          Deno.exitCode = await runFromCli(loaded, {
            root,
            params,
            config,
            stateDir,
            pool,
            nodes,
            forceUnlock: options.forceUnlock,
            confirm: confirm && onceEach(confirm),
            rollbackOnAbort: options.rollbackOnAbort,
            resume: resumed?.record,
            journal,
            // Notifications go out while the run works; wait for the last ones (or their
            // failures, which are audited) so the checkpoint covers them.
            beforeCheckpoint: () => notifier.flush(),
            json: options.json,
            interrupter,
          });
        } finally {
          await notifier.flush();
        }
      } finally {
        await pool.close();
        stopListening();
      }
    });
}

/**
 * What `work` returns, or undefined as soon as `signal` aborts (an interrupt while the run gets
 * ready: a slow `git ls-remote`, say). Work cut short this way is left to finish unheard.
 */
async function unlessInterrupted<T>(
  signal: AbortSignal,
  work: () => Promise<T>,
): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  const working = work();
  let stop = () => {};
  const interrupted = new Promise<undefined>((resolve) => {
    stop = () => signal.removeEventListener("abort", onAbort);
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort);
  });
  try {
    return await Promise.race([working, interrupted]);
  } finally {
    stop();
    working.catch(() => {}); // interrupted: its failure, if any, is no longer anyone's
  }
}
