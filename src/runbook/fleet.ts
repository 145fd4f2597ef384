/**
 * Running a runbook across nodes: each node runs the whole runbook (prerequisites, steps,
 * success criteria, and its own failure path) under its deploy lock, and the strategy decides
 * which nodes run together and when the rollout stops. Nodes never started are recorded as
 * skipped, so the summary and the audit log account for every node.
 *
 * @example
 * ```ts
 * import { runRollout } from "./fleet.ts";
 * // const record = await runRollout(loaded, { ...runOptions, pool, nodes });
 * // for (const node of record.nodes ?? [record]) console.log(node.target, node.status);
 * ```
 * @module
 */
import { type Journal } from "../journal.ts";
import { SecretMasker } from "../secrets/masking.ts";
import { type InventoryNode, LOCAL_NODE, nodeApp } from "../targets/inventory.ts";
import {
  acquireLock,
  forceUnlock,
  LockedError,
  LockFailedError,
  type LockInfo,
  lockPath,
  releaseLock,
} from "../targets/lock.ts";
import type { TargetPool } from "../targets/pool.ts";
import type { Target } from "../targets/target.ts";
import type { LoadedRunbook } from "./load.ts";
import { newRunId, type RunRecord, saveRunRecord } from "../state/runs.ts";
import { planBatches, rolloutStops, strategyLabel } from "./rollout.ts";
import {
  maskedJournal,
  newRunRecord,
  Run,
  runContext,
  type RunObserver,
  type RunOptions,
} from "./run.ts";
import { normalizeStrategy } from "./schema.ts";

/** Hears about the rollout as a whole. */
export interface RolloutObserver {
  batchStarted?(batch: number, of: number, nodes: InventoryNode[]): void;
  nodeSkipped?(node: InventoryNode, reason: string): void;
  rolloutFinished?(record: RunRecord): void;
}

/** What a rollout needs: a run's options, minus the target, plus the nodes and connections. */
export interface RolloutOptions
  extends Omit<RunOptions, "target" | "node" | "targetsFor" | "batch"> {
  pool: TargetPool;
  nodes: InventoryNode[];
  /** `--force-unlock REASON`: remove a stale lock first; the reason goes to the audit log. */
  forceUnlock?: string;
  /** Progress of each node's run (a prefix per node, say). */
  observerFor?: (node: InventoryNode) => RunObserver | undefined;
  rollout?: RolloutObserver;
}

/**
 * Runs `loaded` on every node of `options.nodes` by the runbook's strategy. A run on `local`
 * alone returns that run's record; otherwise a record whose `nodes` hold each node's run.
 */
export async function runRollout(
  loaded: LoadedRunbook,
  options: RolloutOptions,
): Promise<RunRecord> {
  const id = options.runId ?? newRunId();
  const masker = options.masker ?? new SecretMasker();
  const journal = options.journal && maskedJournal(options.journal, masker);
  options = { ...options, masker, journal };
  const only = options.nodes.length === 1 ? options.nodes[0] : undefined;
  if (only === LOCAL_NODE) return await runNode(loaded, options, LOCAL_NODE, id);
  return await new Rollout(loaded, options, id).execute();
}

class Rollout {
  readonly record: RunRecord;
  readonly strategy;

  constructor(readonly loaded: LoadedRunbook, readonly options: RolloutOptions, id: string) {
    this.strategy = normalizeStrategy(loaded.runbook.strategy);
    const context = runContext(loaded, options.params, options.config, id);
    const target = options.nodes.map((node) => node.name).join(",");
    this.record = {
      ...newRunRecord(loaded, options, context, target),
      strategy: strategyLabel(this.strategy),
      nodes: [],
    };
  }

  async execute(): Promise<RunRecord> {
    const { options, record } = this;
    await this.#save();
    await options.journal?.record({
      action: "rollout",
      run: record.id,
      runbook: record.runbook,
      target: record.target,
      strategy: record.strategy,
      status: "initiated",
    });
    const batches = planBatches(options.nodes, this.strategy);
    let failed: string[] = [];
    let stopped: string | undefined;
    for (const [i, batch] of batches.entries()) {
      if (stopped) {
        for (const node of batch) await this.#skip(node, i + 1, stopped);
        continue;
      }
      options.rollout?.batchStarted?.(i + 1, batches.length, batch);
      const results = await inParallel(
        batch,
        this.strategy.kind === "parallel" ? this.strategy.concurrency : batch.length,
        (node) => runNode(this.loaded, options, node, `${record.id}@${node.name}`, i + 1),
      );
      record.nodes!.push(...results);
      await this.#save();
      failed = [...failed, ...results.filter((r) => r.status !== "success").map((r) => r.target)];
      if (options.signal?.aborted) stopped = "not started: the run was interrupted";
      else if (rolloutStops(this.strategy, failed.length)) {
        stopped = `not started: the rollout stopped after ${failed.join(", ")} failed`;
      }
    }
    record.status = options.signal?.aborted ? "aborted" : failed.length ? "failure" : "success";
    const ran = record.nodes!.filter((node) => node.status !== "skipped").length;
    record.reason = failed.length
      ? `${failed.length} of ${ran} node(s) failed: ${failed.join(", ")}` +
        (stopped ? `; ${record.nodes!.length - ran} not started` : "")
      : options.signal?.aborted
      ? "interrupted"
      : undefined;
    record.finished = new Date().toISOString();
    record.duration_ms = Date.parse(record.finished) - Date.parse(record.started);
    await this.#save();
    await options.journal?.record({
      action: "rollout",
      run: record.id,
      runbook: record.runbook,
      target: record.target,
      nodes: record.nodes!.map((node) => `${node.target}=${node.status}`).join(","),
      status: record.status,
      reason: record.reason,
    });
    options.rollout?.rolloutFinished?.(record);
    return record;
  }

  async #skip(node: InventoryNode, batch: number, reason: string): Promise<void> {
    const now = new Date().toISOString();
    this.record.nodes!.push({
      ...this.record,
      id: `${this.record.id}@${node.name}`,
      target: node.name,
      batch,
      strategy: undefined,
      nodes: undefined,
      started: now,
      finished: now,
      status: "skipped",
      reason,
    });
    this.options.rollout?.nodeSkipped?.(node, reason);
    await this.options.journal?.record({
      action: "run",
      run: `${this.record.id}@${node.name}`,
      runbook: this.record.runbook,
      target: node.name,
      status: "skipped",
      reason,
    });
  }

  async #save(): Promise<void> {
    await saveRunRecord(this.options.stateDir, this.record);
  }
}

/** One node's run: connect, take its lock, run the runbook, always release the lock. */
async function runNode(
  loaded: LoadedRunbook,
  options: RolloutOptions,
  node: InventoryNode,
  runId: string,
  batch?: number,
): Promise<RunRecord> {
  const { pool } = options;
  const target = pool.target(node);
  const run = new Run(loaded, {
    ...options,
    target,
    node,
    batch,
    runId,
    observer: options.observerFor?.(node) ?? options.observer,
    targetsFor: (selector) =>
      pool.inventory.select(selector).map((n) => ({ node: n, target: pool.target(n) })),
  });
  try {
    await pool.connect(node);
  } catch (error) {
    return await run.refuse((error as Error).message);
  }
  if (!loaded.runbook.lock) return await run.execute(true);

  const path = nodeLockPath(options.config, node);
  const info: LockInfo = {
    run: runId,
    runbook: loaded.runbook.id,
    operator: run.record.operator,
    host: run.record.host,
    since: new Date().toISOString(),
  };
  try {
    if (options.forceUnlock !== undefined) {
      await forceUnlockRecorded(target, path, options.forceUnlock, options.journal, runId);
    }
    await acquireLock(target, path, info);
  } catch (error) {
    if (error instanceof LockedError || error instanceof LockFailedError) {
      return await run.refuse(error.message);
    }
    throw error;
  }
  let record: RunRecord | undefined;
  try {
    record = await run.execute(true);
    return record;
  } finally {
    const problem = await releaseLock(target, path, runId);
    if (problem && record) {
      record.reason = `${record.reason ? `${record.reason}; ` : ""}lock not released: ${problem}`;
    }
  }
}

/** Where `node`'s deploy lock lives: in its own app directory. */
export function nodeLockPath(config: RunOptions["config"], node: InventoryNode): string {
  return lockPath(nodeApp(config, node).dir);
}

/**
 * Removes a node's lock, whoever holds it, and records who held it and why it was removed
 * (`--force-unlock` on a run, and `deno task unlock`). Returns the holder, if there was one.
 */
export async function forceUnlockRecorded(
  target: Target,
  path: string,
  reason: string,
  journal: Journal | undefined,
  run?: string,
): Promise<LockInfo | undefined> {
  const holder = await forceUnlock(target, path);
  await journal?.record({
    action: "lock.force",
    run,
    target: target.name,
    lock: path,
    holder: holder ? `${holder.run} (${holder.operator}@${holder.host}, ${holder.since})` : "none",
    reason,
    status: "success",
  });
  return holder;
}

/** Runs `work` on every item, at most `limit` at a time; results keep the items' order. */
async function inParallel<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
