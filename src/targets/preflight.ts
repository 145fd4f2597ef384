/**
 * The target half of a rollout's preflight: reach every node and take every node's deploy
 * lock before anything runs anywhere, and give every lock back at the end — over connections
 * that are still open, reconnecting once to a node whose connection was lost, and naming each
 * lock that could not be released. (The runbook half, every node's prerequisites, is the
 * engine's: `runbook/fleet.ts`.)
 *
 * @example
 * ```ts
 * import { lockNodes, releaseLocks } from "./preflight.ts";
 * import type { NodeTargets } from "./pool.ts";
 * import type { InventoryNode } from "./inventory.ts";
 * declare const pool: NodeTargets, nodes: InventoryNode[];
 * const info = { run: "r1", runbook: "deploy", operator: "alice", host: "ops", since: "" };
 * const { held, refused } = await lockNodes(
 *   pool,
 *   nodes,
 *   () => "/opt/app/.protocol.lock",
 *   (node) => ({ ...info, run: `r1@${node.name}` }),
 * );
 * if (refused.size) console.error([...refused.values()].join("\n"));
 * const problems = await releaseLocks(pool, held);
 * ```
 * @module
 */
import type { InventoryNode } from "./inventory.ts";
import { acquireLock, LockedError, LockFailedError, type LockInfo, releaseLock } from "./lock.ts";
import type { NodeTargets } from "./pool.ts";

/** A lock this run holds. */
export interface HeldLock {
  node: InventoryNode;
  path: string;
  /** The run id written in the lock: only that run may release it. */
  run: string;
}

/** What preflight got: the locks taken, and per node why it could not be reached or locked. */
export interface LockedNodes {
  held: HeldLock[];
  refused: Map<string, string>;
}

/**
 * Connects to every node and takes its lock (all nodes at once, at most `concurrency` at a
 * time). `before` runs on a reached node before its lock is taken (`--force-unlock`).
 */
export async function lockNodes(
  pool: NodeTargets,
  nodes: InventoryNode[],
  pathFor: (node: InventoryNode) => string,
  infoFor: (node: InventoryNode) => LockInfo,
  before?: (node: InventoryNode, path: string) => Promise<void>,
  concurrency = 10,
): Promise<LockedNodes> {
  const held: HeldLock[] = [];
  const refused = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < nodes.length) {
      const node = nodes[next++];
      const path = pathFor(node);
      try {
        const target = await pool.connect(node);
        await before?.(node, path);
        const info = infoFor(node);
        await acquireLock(target, path, info);
        held.push({ node, path, run: info.run });
      } catch (error) {
        refused.set(node.name, refusal(node, error as Error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, nodes.length) }, worker));
  return { held, refused };
}

function refusal(node: InventoryNode, error: Error): string {
  if (error instanceof LockedError || error instanceof LockFailedError) return error.message;
  return error.message.startsWith(`${node.name}:`)
    ? error.message
    : `${node.name}: ${error.message}`;
}

/**
 * Releases every lock of `run`; a node whose connection was lost is reconnected once first.
 * Returns one sentence per lock that is still held, naming its node.
 */
export async function releaseLocks(
  pool: NodeTargets,
  held: HeldLock[],
): Promise<Map<string, string>> {
  const problems = new Map<string, string>();
  await Promise.all(held.map(async ({ node, path, run }) => {
    let problem = await releaseLock(pool.target(node), path, run);
    if (problem) {
      try {
        await pool.recover(node);
        problem = await releaseLock(pool.target(node), path, run);
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    if (problem) {
      problems.set(node.name, `${node.name}: lock ${path} not released: ${problem.trim()}`);
    }
  }));
  return problems;
}
