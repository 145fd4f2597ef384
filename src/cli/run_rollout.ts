/**
 * The running half of `run` (and of every `sop:*` task): one {@link Interrupter} for SIGINT,
 * SIGTERM, SIGHUP and lost connections, live progress on stderr, the rollout, the abort
 * summary, and the exit code (the audit log is sealed by the dispatcher, `audit_sealing.ts`). Also what `--resume RUN_ID` continues.
 *
 * @example
 * ```ts
 * import { resumeSource } from "./run_rollout.ts";
 * // const earlier = await resumeSource(stateDir, "20261129T031500Z-1a2b3c");
 * // earlier.runbook, earlier.params, earlier.nodes
 * ```
 * @module
 */
import { auditJournal } from "../audit/journal.ts";
import { UsageError } from "../errors.ts";
import {
  exitCodeOf,
  Interrupter,
  type LoadedRunbook,
  type RolloutOptions,
  runRollout,
} from "../runbook/mod.ts";
import { LOCAL_NODE } from "../targets/inventory.ts";
import { readRunRecord, type RunRecord } from "../state/runs.ts";
import { ProgressPrinter } from "./progress.ts";

/** What a rollout from the command line needs besides the engine's own options. */
export interface CliRollout extends Omit<RolloutOptions, "observer" | "observerFor" | "rollout"> {
  json?: boolean;
  /** Runs after the rollout, before the audit checkpoint (flush notifications, say). */
  beforeCheckpoint?: () => Promise<void>;
}

/** Runs `loaded` as the CLI does and returns the exit code (0, 1, or 130). */
export async function runFromCli(loaded: LoadedRunbook, options: CliRollout): Promise<number> {
  // `run` listens from before the run starts and hands its interrupter over.
  const interrupter = options.interrupter ?? new Interrupter();
  const stopListening = options.interrupter ? () => {} : interrupter.listen();
  // After SIGHUP the terminal is gone: writing to it fails, and must not stop the cleanup.
  const write = (line: string) => {
    try {
      console.error(line);
    } catch {
      // no terminal left to tell
    }
  };
  const several = options.nodes.length > 1 || options.nodes[0] !== LOCAL_NODE;
  try {
    const printer = new ProgressPrinter(write);
    const record = await runRollout(loaded, {
      ...options,
      interrupter,
      observer: printer,
      observerFor: (node) => several ? new ProgressPrinter(write, node.name) : printer,
      rollout: printer,
      journal: options.journal ?? auditJournal(options.stateDir),
    });
    // The audit log is sealed after the command returns, like every command's (cli/main.ts).
    await options.beforeCheckpoint?.();
    if (options.json) console.log(JSON.stringify(record, null, 2));
    return exitCodeOf(record);
  } finally {
    stopListening();
  }
}

/** An earlier rollout `--resume` continues: its runbook, parameters and nodes. */
export interface ResumeSource {
  record: RunRecord;
  runbook: string;
  params: RunRecord["params"];
  /** The rollout's nodes, as a `--limit` value. */
  nodes: string;
}

/**
 * Reads the run `id` and checks it can be resumed: a rollout across nodes (not one node's own
 * run) that did not succeed.
 */
export async function resumeSource(stateDir: string, id: string): Promise<ResumeSource> {
  if (id.includes("@") || id.includes(".")) {
    throw new UsageError(
      `${id} is one node's run inside a rollout: resume the rollout, ${id.split(/[@.]/)[0]}`,
    );
  }
  let record: RunRecord;
  try {
    record = await readRunRecord(stateDir, id);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UsageError(`no run ${id} in ${stateDir}/runs: see \`deno task runs\``);
    }
    throw error;
  }
  if (!record.nodes) {
    throw new UsageError(
      `run ${id} (${record.runbook}) ran on one target, not across nodes: ` +
        `run it again instead of resuming it`,
    );
  }
  if (record.status === "success") {
    throw new UsageError(`run ${id} succeeded on every node: there is nothing to resume`);
  }
  return {
    record,
    runbook: record.runbook,
    params: record.params,
    nodes: record.nodes.map((node) => node.target).join(","),
  };
}
