/**
 * `runs`: the recent runs from the state directory, newest first — status, runbook,
 * parameters, nodes — so nobody types `ls runs/`, and the id to `--resume` is at hand.
 *
 * @example
 * ```ts
 * import { formatRuns } from "./runs.ts";
 * import type { RunRecord } from "../state/runs.ts";
 * declare const records: RunRecord[];
 * console.log(formatRuns(records));
 * ```
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../errors.ts";
import { resolveStateDir } from "../state/mod.ts";
import { listRunRecords, type RunRecord } from "../state/runs.ts";

/** One run as `runs --json` prints it. */
export interface RunRow {
  id: string;
  started: string;
  status: RunRecord["status"];
  runbook: string;
  params: RunRecord["params"];
  /** Each node's outcome (`web-1=success`), or the one target. */
  nodes: string[];
  resumes?: string;
  reason?: string;
}

/**
 * A record as a row.
 *
 * @example
 * ```ts
 * import { runRow } from "./runs.ts";
 * import type { RunRecord } from "../state/runs.ts";
 * declare const record: RunRecord;
 * runRow(record).nodes; // ["web-1=success", "web-2=failure"]
 * ```
 */
export function runRow(record: RunRecord): RunRow {
  return {
    id: record.id,
    started: record.started,
    status: record.status,
    runbook: record.runbook,
    params: record.params,
    nodes: record.nodes
      ? record.nodes.map((node) => `${node.target}=${node.status}`)
      : [record.target],
    resumes: record.resumes,
    reason: record.reason,
  };
}

/**
 * The runs as a table, one line each, with the next step for the ones to resume.
 *
 * @example
 * ```ts
 * import { formatRuns } from "./runs.ts";
 * formatRuns([]); // "no runs recorded yet\n"
 * ```
 */
export function formatRuns(records: RunRecord[]): string {
  if (records.length === 0) return "no runs recorded yet\n";
  const lines = records.map((record) => {
    const row = runRow(record);
    const params = Object.entries(row.params).map(([k, v]) => `${k}=${v}`).join(" ");
    return [
      row.id.padEnd(24),
      row.status.padEnd(9),
      row.runbook.padEnd(18),
      (params || "-").padEnd(16),
      row.nodes.join(","),
      row.resumes ? ` (resumes ${row.resumes})` : "",
    ].join(" ");
  });
  const resumable = records.find((r) =>
    r.nodes && (r.status === "failure" || r.status === "aborted")
  );
  if (resumable) lines.push("", `continue a rollout: deno task run --resume ${resumable.id}`);
  return lines.join("\n") + "\n";
}

/** Adds `runs`. */
export function registerRunsCommand(program: Command): void {
  program.command("runs")
    .description("list recent runs, newest first: status, runbook, parameters, nodes")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("-n, --limit <count>", "how many runs (default 20)")
    .option("--json", "print as JSON")
    .action(async (o: { stateDir?: string; limit?: string; json?: boolean }) => {
      const limit = o.limit === undefined ? 20 : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new UsageError(`--limit expects a positive number, got "${o.limit}"`);
      }
      const records = await listRunRecords(resolveStateDir(o), limit);
      if (o.json) console.log(JSON.stringify(records.map(runRow), null, 2));
      else Deno.stdout.writeSync(new TextEncoder().encode(formatRuns(records)));
    });
}
