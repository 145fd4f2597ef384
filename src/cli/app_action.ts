/**
 * What the release commands share for reaching the app's nodes — the pool, the nodes `--limit`
 * selects — and the two commands that run the app driver's own command on each node in turn:
 * `docker:logs` and `docker:compose:rebuild` ({@link appAction}).
 *
 * @example
 * ```ts
 * import { appAction } from "./app_action.ts";
 * await appAction("logs", { limit: "web-1" }); // prints web-1's recent app logs
 * ```
 * @module
 */
import { nodeApp } from "../targets/inventory.ts";
import type { InventoryNode } from "../targets/inventory.ts";
import { auditJournal, requireAuditKey } from "../audit/journal.ts";
import { rebuildEntry, safeMessage, succeeded } from "../audit/actions.ts";
import { type Config, requireConfig } from "../config/mod.ts";
import { TargetPool } from "../targets/pool.ts";
import type { OutputListener } from "../targets/target.ts";
import { ensureStateDir, resolveStateDir } from "../state/mod.ts";
import { type AppAction, appActionRequest, rebuildNode, runAppCommand } from "../release/mod.ts";

/** The options every fleet-wide release command takes. */
export interface FleetOptions {
  config?: string;
  stateDir?: string;
  limit?: string;
  json?: boolean;
}

/**
 * The app's nodes (`on: app`), narrowed by `--limit`.
 *
 * @example
 * ```ts
 * import { appNodes } from "./app_action.ts";
 * import type { TargetPool } from "../targets/pool.ts";
 * declare const pool: TargetPool;
 * appNodes(pool, "web-1,web-2").map((node) => node.name);
 * ```
 */
export function appNodes(pool: TargetPool, limit?: string): InventoryNode[] {
  return pool.inventory.select("app", limit?.split(","));
}

/**
 * Runs `work` with a pool of connections to the configuration's nodes, closed after.
 *
 * @example
 * ```ts
 * import { withPool } from "./app_action.ts";
 * import type { Config } from "../config/mod.ts";
 * declare const config: Config;
 * await withPool(config, {}, async (pool) => console.log(pool.inventory.select("app").length));
 * ```
 */
export async function withPool<T>(
  config: Config,
  options: { acceptNewHostKeys?: boolean },
  work: (pool: TargetPool) => Promise<T>,
): Promise<T> {
  const pool = new TargetPool(config, { acceptNewHostKeys: options.acceptNewHostKeys });
  try {
    return await work(pool);
  } finally {
    await pool.close();
  }
}

const print: OutputListener = (line, stream) =>
  stream === "stdout" ? console.log(line) : console.error(line);

/**
 * `docker:logs` and `docker:compose:rebuild`: the driver's command on each node in turn. A
 * rebuild restarts the app, so it holds the node's deploy lock, must pass the health check,
 * and is audited (`rebuild`, with the node and release); logs only read.
 *
 * @example
 * ```ts
 * import { appAction } from "./app_action.ts";
 * await appAction("rebuild", { dryRun: true }); // prints each node's rebuild command
 * ```
 */
export async function appAction(
  action: AppAction,
  o: FleetOptions & { dryRun?: boolean },
): Promise<void> {
  const config = await requireConfig(o);
  const stateDir = action === "rebuild" && !o.dryRun
    ? await ensureStateDir(resolveStateDir(o))
    : undefined;
  if (stateDir) requireAuditKey(stateDir);
  const journal = stateDir ? auditJournal(stateDir) : undefined;
  let failed = 0;
  await withPool(config, {}, async (pool) => {
    for (const node of appNodes(pool, o.limit)) {
      const app = nodeApp(config, node);
      const request = appActionRequest(app, action);
      if (!request) {
        console.error(
          `${node.name}: app.${action === "logs" ? "logs" : "rebuild"} is not configured`,
        );
        failed++;
        continue;
      }
      if (o.dryRun) {
        console.log(`${node.name}: (cd ${app.dir}/current && ${request.env!.APP_COMMAND})`);
        continue;
      }
      console.log(`== ${node.name}`);
      const outcome = await (action === "logs"
        ? runAppCommand(pool, node, request, print)
        : rebuildNode(pool, node, config, request, print));
      if (!outcome.ok) {
        failed++;
      }
      if (outcome.message) {
        console.error(`${node.name}: ${outcome.message}`);
      }
      await journal?.record(
        rebuildEntry(
          { repo: app.dir, version: outcome.version, target: node.name },
          outcome.ok
            ? succeeded()
            : { status: "failure", reason: safeMessage(outcome.message ?? "") },
        ),
      );
    }
  });
  if (failed) Deno.exitCode = 1;
}
