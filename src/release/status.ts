/**
 * `status`: per node, the active and previous release, when and by whom the active one was
 * deployed, whether the app runs, its health, and the deploy lock — and what is wrong, if
 * anything. Gathering runs the node-state script on every node at once; judging and
 * formatting are pure.
 *
 * @example
 * ```ts
 * import { formatStatus, gatherStatus } from "./status.ts";
 * // const rows = await gatherStatus(pool, nodes, config);
 * // console.log(formatStatus(rows));
 * // Deno.exitCode = rows.every((row) => row.ok) ? 0 : 1;
 * ```
 * @module
 */
import { nodeApp } from "../targets/inventory.ts";
import type { Config } from "../config/mod.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import type { TargetPool } from "../targets/pool.ts";
import { type NodeState, nodeStateRequest, parseNodeState } from "./node_state.ts";
import { healthVersion, versionProblem } from "./health.ts";

/** What the health URL answered. */
export interface Health {
  url: string;
  status?: number;
  /** The `version` field of a JSON answer, when there is one. */
  version?: string;
  error?: string;
}

/** One node's status row. */
export interface NodeStatus {
  node: string;
  ok: boolean;
  /** Everything wrong on the node, one sentence each. */
  problems: string[];
  active?: string;
  previous?: string;
  deployed_at?: string;
  deployed_by?: string;
  deployed_kind?: string;
  run?: string;
  running?: NodeState["running"];
  /** The node runs blue-green (its front proxy holds the live port): see `shadow:status`. */
  blue_green?: boolean;
  health?: Health;
  lock?: { run: string; runbook: string; operator: string; host: string; since: string } | null;
  history?: string[];
  releases?: string[];
  /** The node could not be read at all (unreachable, no app directory). */
  error?: string;
}

/**
 * Judges a node from its record and health answer. Pure.
 *
 * @example
 * ```ts
 * statusRow("web-1", undefined, { url: "http://x/health", status: 200 }).problems;
 * // ["no app directory: nothing was ever deployed here"]
 * ```
 */
export function statusRow(node: string, state: NodeState | undefined, health: Health): NodeStatus {
  if (!state) {
    return {
      node,
      ok: false,
      problems: ["no app directory: nothing was ever deployed here"],
      health,
    };
  }
  const problems: string[] = [];
  if (!state.current) problems.push("no active release");
  // On a blue-green node the app runs in the shadow slots, not as app.start left it: the proxy
  // and the health answer (and shadow:status) say whether it runs.
  if (state.running === "no" && !state.blueGreen) problems.push("the app is not running");
  if (health.status !== 200) {
    problems.push(
      `health check failed: ${health.url} ${
        health.status ? `answered ${health.status}` : `did not answer (${health.error})`
      }`,
    );
  }
  const mismatch = versionProblem(health.version, state.current, state.blueGreen);
  if (mismatch) problems.push(mismatch);
  if (state.lock || state.lockRaw) {
    problems.push(
      state.lock
        ? `locked by run ${state.lock.run} (${state.lock.runbook}, ${state.lock.operator}@${state.lock.host}) since ${state.lock.since}`
        : `locked by an unreadable lock (${state.lockRaw})`,
    );
  }
  return {
    node,
    ok: problems.length === 0,
    problems,
    active: state.current,
    previous: state.previous,
    deployed_at: state.deployed?.at,
    deployed_by: state.deployed?.operator,
    deployed_kind: state.deployed?.kind,
    run: state.deployed?.run,
    running: state.running,
    blue_green: state.blueGreen,
    health,
    lock: state.lock ?? null,
    history: state.history,
    releases: state.releases,
  };
}

/** Asks a health URL once, from this machine (as the runbooks' `http:` checks do). */
export async function checkHealth(url: string, timeoutMs = 3000): Promise<Health> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { url, status: response.status, version: healthVersion(await response.text()) };
  } catch (error) {
    return { url, error: (error as Error).message };
  }
}

/** Reads one node's record (one round trip). Throws when the node cannot be reached. */
export async function readNodeState(
  pool: TargetPool,
  node: InventoryNode,
  config: Pick<Config, "app">,
): Promise<NodeState | undefined> {
  const app = nodeApp(config, node);
  const target = await pool.connect(node);
  const result = await target.exec(nodeStateRequest(app.dir, app.running));
  if (result.code !== 0) {
    throw new Error(result.stderr.trim() || `reading the release record exited ${result.code}`);
  }
  return parseNodeState(result.stdout);
}

/** Every node's status, read in parallel, in the order of `nodes`. */
export async function gatherStatus(
  pool: TargetPool,
  nodes: InventoryNode[],
  config: Pick<Config, "app">,
): Promise<NodeStatus[]> {
  return await Promise.all(nodes.map(async (node) => {
    const [state, health] = await Promise.all([
      readNodeState(pool, node, config).then((s) => ({ s }), (e: Error) => ({ e })),
      checkHealth(nodeApp(config, node).health),
    ]);
    if ("e" in state) {
      return { node: node.name, ok: false, problems: [state.e.message], error: state.e.message };
    }
    return statusRow(node.name, state.s, health);
  }));
}

/**
 * The status table for people: one block per node.
 *
 * @example
 * ```ts
 * formatStatus([{ node: "web-1", ok: true, problems: [], active: "v1.2.0" }]);
 * ```
 */
export function formatStatus(rows: NodeStatus[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(`${row.ok ? "✔" : "✘"} ${row.node}`);
    if (row.error) {
      lines.push(`    error:    ${row.error}`);
      continue;
    }
    const deployed = row.deployed_at
      ? `${row.deployed_at} by ${row.deployed_by || "?"} (${row.deployed_kind}, run ${row.run})`
      : "unknown";
    const health = row.health
      ? row.health.status
        ? `${row.health.status}${
          row.health.version ? ` (${row.health.version})` : ""
        }  ${row.health.url}`
        : `no answer  ${row.health.url}`
      : "not checked";
    lines.push(`    active:   ${row.active ?? "none"}`);
    lines.push(`    previous: ${row.previous ?? "none"}`);
    lines.push(`    deployed: ${deployed}`);
    lines.push(
      `    running:  ${
        row.blue_green ? "blue-green (see shadow:status)" : row.running ?? "unknown"
      }`,
    );
    lines.push(`    health:   ${health}`);
    lines.push(
      `    lock:     ${
        row.lock
          ? `held by run ${row.lock.run} (${row.lock.operator}) since ${row.lock.since}`
          : "free"
      }`,
    );
    for (const problem of row.problems) lines.push(`    ! ${problem}`);
  }
  const bad = rows.filter((row) => !row.ok).map((row) => row.node);
  lines.push(
    bad.length
      ? `\n${bad.length} of ${rows.length} node(s) need attention: ${bad.join(", ")}`
      : `\nall ${rows.length} node(s) green`,
  );
  return lines.join("\n");
}
