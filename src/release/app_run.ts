/**
 * Runs the app's lifecycle actions (`docker:logs`, `docker:compose:rebuild`) on a node: the
 * requests are built in `app_commands.ts`; this is where they execute.
 *
 * @example
 * ```ts
 * import { rebuildNode } from "./app_run.ts";
 * import { appActionRequest } from "./app_commands.ts";
 * // const request = appActionRequest(nodeApp(config, node), "rebuild")!;
 * // const outcome = await rebuildNode(pool, node, config, request, console.log);
 * ```
 * @module
 */
import { nodeApp } from "../targets/inventory.ts";
import type { Config } from "../config/mod.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import type { TargetPool } from "../targets/pool.ts";
import type { ExecRequest, OutputListener } from "../targets/target.ts";
import { acquireLock, releaseLock } from "../targets/lock.ts";
import { nodeLockPath } from "../targets/lock.ts";
import { newRunId } from "../state/runs.ts";
import { hostName, operator } from "../state/mod.ts";
import { checkHealth, readNodeState } from "./status.ts";

/** How a lifecycle action went on a node. */
export interface Outcome {
  ok: boolean;
  message?: string;
  version?: string;
}

/** Runs a lifecycle request on a node, its output going to `onOutput` as it comes. */
export async function runAppCommand(
  pool: TargetPool,
  node: InventoryNode,
  request: ExecRequest,
  onOutput: OutputListener,
): Promise<Outcome> {
  try {
    const target = await pool.connect(node);
    const result = await target.exec({
      ...request,
      onOutput,
    });
    return result.code === 0
      ? { ok: true }
      : { ok: false, message: `exited with code ${result.code}` };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

/**
 * Rebuilds the app in place on a node: under the node's deploy lock (a rebuild restarts the
 * app, so it must not cross a deploy), then waits for the health check to answer 200.
 */
export async function rebuildNode(
  pool: TargetPool,
  node: InventoryNode,
  config: Config,
  request: ExecRequest,
  onOutput: OutputListener,
): Promise<Outcome> {
  const run = newRunId();
  const path = nodeLockPath(config, node);
  let version: string | undefined;
  try {
    const target = await pool.connect(node);
    version = (await readNodeState(pool, node, config))?.current;
    if (!version) return { ok: false, message: "no active release to rebuild" };
    await acquireLock(target, path, {
      run,
      runbook: "docker:compose:rebuild",
      operator: operator(),
      host: hostName(),
      since: new Date().toISOString(),
    });
    try {
      const ran = await runAppCommand(pool, node, request, onOutput);
      if (!ran.ok) return { ...ran, version };
    } finally {
      await releaseLock(target, path, run);
    }
    const url = nodeApp(config, node).health;
    for (let attempt = 0; attempt < 40; attempt++) {
      const health = await checkHealth(url);
      if (health.status === 200) return { ok: true, version };
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { ok: false, version, message: `health check failed after the rebuild: ${url}` };
  } catch (error) {
    // Unreachable, or locked by a deploy (the message names the run holding it).
    return { ok: false, version, message: (error as Error).message };
  }
}
