/**
 * The abort summary: after an interrupted rollout, every node as the run left it — the active
 * release, whether the app answers its health check, whether a deploy lock is still there, what
 * happened to a change, and the exact command to run next. Facts are read fresh from the nodes
 * (over the connections still open, or reopened), never assumed from the run.
 *
 * @example
 * ```ts
 * import { nextCommand } from "./abort_summary.ts";
 * nextCommand({ node: "web-2", status: "aborted", lock: "free", healthy: false }, "r1", true);
 * // "deno task deploy:rollback --limit web-2"
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import { type InventoryNode, nodeApp } from "../targets/inventory.ts";
import { parseLock } from "../targets/lock.ts";
import type { NodeTargets } from "../targets/pool.ts";
import { shellQuote } from "../shell/quote.ts";
import type { NodeAfterAbort, RunRecord } from "../state/runs.ts";

/**
 * The script that prints a node's active release and the first line of its lock file.
 *
 * @example
 * ```ts
 * import { nodeFactsScript } from "./abort_summary.ts";
 * nodeFactsScript("/opt/app", "/opt/app/.protocol.lock").includes("readlink"); // true
 * ```
 */
export function nodeFactsScript(appDir: string, lock: string): string {
  return [
    `cur=$(readlink ${shellQuote(`${appDir.replace(/\/+$/, "")}/current`)} 2>/dev/null)`,
    `printf 'release=%s\\n' "\${cur##*/}"`,
    `printf 'lock=%s\\n' "$(head -n 1 ${shellQuote(lock)} 2>/dev/null)"`,
  ].join("\n");
}

/**
 * What to type next for a node, the most urgent first: reach it, free its lock, bring its app
 * back, finish the rollout, or just look.
 *
 * @example
 * ```ts
 * import { nextCommand } from "./abort_summary.ts";
 * nextCommand({ node: "web-1", status: "success", lock: "free", healthy: true }, "r1", false);
 * // "deno task status --limit web-1"
 * ```
 */
export function nextCommand(
  fact: Pick<NodeAfterAbort, "node" | "status" | "lock" | "healthy" | "problem">,
  run: string,
  resumable: boolean,
): string {
  const { node } = fact;
  if (fact.problem) return `deno task status --limit ${node}   # once ${node} answers again`;
  if (fact.lock === "held by this run") {
    return `deno task unlock ${node} --reason ${shellQuote(`run ${run} was aborted`)}`;
  }
  if (fact.healthy === false) return `deno task deploy:rollback --limit ${node}`;
  if (resumable && fact.status !== "success") return `deno task run --resume ${run}`;
  return `deno task status --limit ${node}`;
}

/** Reads every node's facts and says what to do next; `record` is the aborted rollout. */
export async function abortSummary(
  record: RunRecord,
  nodes: InventoryNode[],
  pool: NodeTargets,
  config: Config,
  lockPathOf: (node: InventoryNode) => string,
): Promise<NodeAfterAbort[]> {
  const runs = new Map((record.nodes ?? [record]).map((run) => [run.target, run]));
  const resumable = (record.nodes ?? []).some((run) => run.status !== "success");
  return await Promise.all(nodes.map(async (node) => {
    // A run on this machine that reached nodes: each node shares that run's outcome.
    const run = record.nodes ? runs.get(node.name) : record;
    const app = nodeApp(config, node);
    const fact: NodeAfterAbort = {
      node: node.name,
      status: run?.status ?? "skipped",
      lock: "unknown",
      undo: undoOf(run),
      next: "",
    };
    try {
      let result = await pool.target(node).exec({
        script: nodeFactsScript(app.dir, lockPathOf(node)),
        timeoutMs: 15_000,
      });
      if (result.lost) {
        await pool.recover(node);
        result = await pool.target(node).exec({
          script: nodeFactsScript(app.dir, lockPathOf(node)),
          timeoutMs: 15_000,
        });
      }
      if (result.code !== 0) throw new Error(result.stderr.trim() || `exit ${result.code}`);
      const line = (key: string) =>
        result.stdout.split("\n").find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);
      fact.release = line("release") || undefined;
      const lock = line("lock") ?? "";
      const holder = parseLock(lock);
      fact.lock = !lock
        ? "free"
        : holder?.run.startsWith(record.id)
        ? "held by this run"
        : "held by another run";
    } catch (error) {
      fact.problem = `${node.name} could not be read: ${(error as Error).message}`;
    }
    if (app.health) Object.assign(fact, await healthOf(app.health));
    fact.next = nextCommand(fact, record.id, resumable);
    return fact;
  }));
}

/** What the run did about a change it had made on the node. */
function undoOf(run: RunRecord | undefined): string | undefined {
  if (!run?.changed) return run ? "nothing was changed" : undefined;
  if (run.failure_path) {
    return `changed; failure path ${run.failure_path.runbook}: ${run.failure_path.status}`;
  }
  if (/--no-rollback-on-abort/.test(run.reason ?? "")) {
    return "changed; left as it is (--no-rollback-on-abort)";
  }
  return run.status === "success" ? "changed; its success criteria passed" : "changed; not undone";
}

async function healthOf(url: string): Promise<Pick<NodeAfterAbort, "healthy" | "health">> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    return { healthy: response.status === 200, health: `${url} → HTTP ${response.status}` };
  } catch (error) {
    return { healthy: false, health: `${url} → ${(error as Error).message}` };
  }
}
