/**
 * Running a runbook across nodes: each node runs the whole runbook (prerequisites, steps,
 * success criteria, and its own failure path), and the strategy decides which nodes run
 * together and when the rollout stops. A runbook with `lock: true` first runs a preflight:
 * every node reached, every node's lock taken and every node's prerequisites checked before
 * the first step anywhere; one failure changes nothing anywhere. Nodes never started are
 * recorded as skipped, so the summary and the audit log account for every node. An interrupted
 * rollout (signal or lost connection) releases its locks and ends with an abort summary.
 *
 * @example
 * ```ts
 * import { runRollout } from "./fleet.ts";
 * // const record = await runRollout(loaded, { ...runOptions, pool, nodes });
 * // for (const node of record.nodes ?? [record]) console.log(node.target, node.status);
 * ```
 * @module
 */
import { SecretMasker } from "../secrets/masking.ts";
import { type InventoryNode, LOCAL_NODE } from "../targets/inventory.ts";
import { type LockInfo, nodeLockPath } from "../targets/lock.ts";
export { nodeLockPath } from "../targets/lock.ts";
import { forceUnlockRecorded } from "./force_unlock.ts";
export { forceUnlockRecorded } from "./force_unlock.ts";
import { type HeldLock, lockNodes, releaseLocks } from "../targets/preflight.ts";
import type { LoadedRunbook } from "./load.ts";
import { appendRunNodes, newRunId, type RunRecord, saveRunRecord } from "../state/runs.ts";
import { planBatches, rolloutStops, strategyLabel } from "./rollout.ts";
import { Run, type RunOptions } from "./run.ts";
import type { RolloutOptions } from "./run_options.ts";
export type { RolloutObserver, RolloutOptions } from "./run_options.ts";
import { maskedJournal, runContext } from "./context.ts";
import { newRunRecord, runSubject } from "./record.ts";
import { normalizeStrategy } from "./schema.ts";
import { describeInterruption, Interrupter } from "./interrupt.ts";
import { abortSummary } from "./abort_summary.ts";
import { inParallel, limiter } from "./parallel.ts";
import { rolloutEntry, runEntry, skipped } from "../audit/actions.ts";

/**
 * Nodes connecting at once (and, during preflight, being locked and checked). Connecting is a
 * handshake per node (~0.1 s of CPU on each end with OpenSSH's default key exchange) and a
 * process start; more at once only queues on the cores and, on a small controller, can push
 * handshakes past their connect timeout. A node whose connection is up starts its steps while
 * the others still connect.
 */
const CONNECT_CONCURRENCY = 32;

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
  const interrupter = options.interrupter ?? new Interrupter();
  options.signal?.addEventListener(
    "abort",
    () => interrupter.interrupt({ kind: "signal", what: "interrupt" }),
    { once: true },
  );
  options = { ...options, masker, journal, interrupter, signal: interrupter.signal };
  const only = options.nodes.length === 1 ? options.nodes[0] : undefined;
  if (only === LOCAL_NODE) return await runLocal(loaded, options, id);
  return await new Rollout(loaded, options, id).execute();
}

/**
 * A runbook on this machine whose steps may reach nodes (`on: app`): interrupted, it ends with
 * the abort summary of the nodes it reached (or of this machine when it reached none).
 */
async function runLocal(
  loaded: LoadedRunbook,
  options: RolloutOptions,
  id: string,
): Promise<RunRecord> {
  const reached = new Map<string, InventoryNode>();
  const base = nodeRunOptions(options, LOCAL_NODE, id);
  const record = await new Run(loaded, {
    ...base,
    targetsFor: (selector) => {
      const targets = base.targetsFor!(selector);
      for (const { node } of targets) reached.set(node.name, node);
      return targets;
    },
  }).execute(true);
  if (record.status === "aborted") {
    const nodes = reached.size ? [...reached.values()] : [LOCAL_NODE];
    record.abort_summary = await abortSummary(
      record,
      nodes,
      options.pool,
      options.config,
      (node) => nodeLockPath(options.config, node),
    );
    await saveRunRecord(options.stateDir, record);
    options.rollout?.abortSummary?.(record.abort_summary, new Map());
  }
  return record;
}

/** A node's run options within a rollout. */
function nodeRunOptions(
  options: RolloutOptions,
  node: InventoryNode,
  runId: string,
  batch?: number,
): RunOptions {
  const { pool } = options;
  return {
    ...options,
    target: pool.target(node),
    node,
    batch,
    runId,
    observer: options.observerFor?.(node) ?? options.observer,
    recover: () => pool.recover(node),
    targetsFor: (selector) =>
      pool.inventory.select(selector).map((n) => ({ node: n, target: pool.target(n) })),
  };
}

class Rollout {
  readonly record: RunRecord;
  readonly strategy;
  readonly #runs = new Map<string, Run>();
  #held: HeldLock[] = [];
  readonly #connecting = limiter(CONNECT_CONCURRENCY);
  /** Connections started before the rollout's first entry (see #warmUp), by node name. */
  readonly #warm = new Map<string, Promise<unknown>>();
  #saved = 0; // how many of `record.nodes` are on disk (written whole or appended)

  constructor(readonly loaded: LoadedRunbook, readonly options: RolloutOptions, id: string) {
    this.strategy = normalizeStrategy(loaded.runbook.strategy);
    const context = runContext(loaded, options.params, options.config, id);
    const target = options.nodes.map((node) => node.name).join(",");
    this.record = {
      ...newRunRecord(loaded, options, context, target),
      strategy: strategyLabel(this.strategy, options.nodes.length),
      nodes: [],
      resumes: options.resume?.id,
    };
  }

  get #signal(): AbortSignal {
    return this.options.interrupter!.signal;
  }

  async execute(): Promise<RunRecord> {
    const { options, record } = this;
    const done = new Set(
      (options.resume?.nodes ?? []).filter((n) => n.status === "success").map((n) => n.target),
    );
    const batches = planBatches(options.nodes, this.strategy);
    const todo = options.nodes.filter((node) => !done.has(node.name));
    this.#warmUp(batches, done);
    await this.#save();
    await options.journal?.record(rolloutEntry(runSubject(this.record), {
      status: "initiated",
      strategy: record.strategy,
      resumes: record.resumes,
    }));
    let lockProblems = new Map<string, string>();
    try {
      if (this.loaded.runbook.lock) {
        const refused = await this.#preflight(todo);
        if (refused.size || this.#signal.aborted) {
          for (const [i, batch] of batches.entries()) {
            for (const node of batch) await this.#refuse(node, i + 1, refused, done);
          }
          return await this.#finish(
            this.#signal.aborted ? "aborted" : "failure",
            this.#signal.aborted
              ? `${describeInterruption(options.interrupter!.interruption!)} during preflight; ` +
                "nothing was changed on any node"
              : `preflight failed on ${[...refused.keys()].join(", ")}: ${
                [...refused.values()].join("; ")
              }; nothing was changed on any node`,
            lockProblems = await this.#releaseLocks(),
          );
        }
      }
      let failed: string[] = [];
      let stopped: string | undefined;
      for (const [i, batch] of batches.entries()) {
        const run = batch.filter((node) => !done.has(node.name));
        for (const node of batch.filter((node) => done.has(node.name))) {
          await this.#skip(node, i + 1, `succeeded in run ${options.resume!.id}`, "success");
        }
        if (stopped) {
          for (const node of run) {
            const preflighted = this.#runs.get(node.name);
            if (!preflighted) await this.#skip(node, i + 1, stopped);
            else {
              record.nodes!.push(await preflighted.refuse(stopped, "skipped"));
              options.rollout?.nodeSkipped?.(node, stopped);
            }
          }
          continue;
        }
        if (run.length === 0) continue;
        options.rollout?.batchStarted?.(i + 1, batches.length, run);
        const results = await inParallel(
          run,
          this.strategy.kind === "parallel" ? this.strategy.concurrency : run.length,
          (node) => this.#runNode(node, i + 1),
        );
        record.nodes!.push(...results);
        // One line per node run since the record was last written (not the whole record again).
        appendRunNodes(options.stateDir, record, record.nodes!.slice(this.#saved));
        this.#saved = record.nodes!.length;
        failed = [...failed, ...results.filter((r) => r.status !== "success").map((r) => r.target)];
        if (this.#signal.aborted) stopped = "not started: the run was interrupted";
        else if (rolloutStops(this.strategy, failed.length, options.nodes.length)) {
          stopped = `not started: the rollout stopped after ${failed.join(", ")} failed`;
        }
      }
      lockProblems = await this.#releaseLocks();
      const aborted = this.#signal.aborted;
      const ran = record.nodes!.filter((node) => node.status !== "skipped").length;
      const reason = aborted
        ? `${describeInterruption(options.interrupter!.interruption!)}; ` +
          `${failed.length} of ${ran} node(s) did not finish: ${failed.join(", ")}`
        : failed.length
        ? `${failed.length} of ${ran} node(s) failed: ${failed.join(", ")}` +
          (stopped ? `; ${record.nodes!.length - ran} not started` : "")
        : undefined;
      return await this.#finish(
        aborted ? "aborted" : failed.length ? "failure" : "success",
        reason,
        lockProblems,
      );
    } finally {
      if (this.#held.length) await this.#releaseLocks();
    }
  }

  /**
   * Connects to the nodes that run first while the rollout's record and first entry are written
   * (a handshake takes ~0.25 s, that bookkeeping ~20 ms); a failure reaches the node's run.
   */
  #warmUp(batches: InventoryNode[][], done: Set<string>): void {
    const first = batches.map((batch) => batch.filter((node) => !done.has(node.name)))
      .find((batch) => batch.length) ?? [];
    const atOnce = this.strategy.kind === "parallel" ? this.strategy.concurrency : first.length;
    for (const node of first.slice(0, Math.min(atOnce, CONNECT_CONCURRENCY))) {
      const connected = this.#connecting(() => this.options.pool.connect(node));
      connected.catch(() => {}); // reported by the node's run (#runNode), not here
      this.#warm.set(node.name, connected);
    }
  }

  /** Reaches and locks every node, then checks every node's prerequisites. */
  async #preflight(nodes: InventoryNode[]): Promise<Map<string, string>> {
    const { options } = this;
    const info: LockInfo = {
      run: this.record.id,
      runbook: this.loaded.runbook.id,
      operator: this.record.operator,
      host: this.record.host,
      since: new Date().toISOString(),
    };
    const force = options.forceUnlock;
    const { held, refused } = await lockNodes(
      options.pool,
      nodes,
      (node) => nodeLockPath(options.config, node),
      (node) => ({ ...info, run: `${info.run}@${node.name}` }),
      force === undefined ? undefined : async (node, path) => {
        await forceUnlockRecorded(
          options.pool.target(node),
          path,
          force,
          options.journal,
          info.run,
        );
      },
      CONNECT_CONCURRENCY,
    );
    this.#held = held;
    const reached = nodes.filter((node) => !refused.has(node.name));
    await inParallel(reached, CONNECT_CONCURRENCY, async (node) => {
      const run = this.#runFor(node);
      const unmet = await run.checkPrerequisites();
      if (unmet.length && !this.#signal.aborted) {
        refused.set(node.name, `${node.name}: prerequisites not met: ${unmet.join("; ")}`);
      }
    });
    options.rollout?.preflightFinished?.(nodes, refused);
    return refused;
  }

  #runFor(node: InventoryNode): Run {
    let run = this.#runs.get(node.name);
    if (!run) {
      const batch = planBatches(this.options.nodes, this.strategy)
        .findIndex((b) => b.includes(node)) + 1;
      run = new Run(
        this.loaded,
        nodeRunOptions(this.options, node, `${this.record.id}@${node.name}`, batch),
      );
      this.#runs.set(node.name, run);
    }
    return run;
  }

  /** One node's run: preflighted (lock held, prerequisites passed), or connect and run. */
  async #runNode(node: InventoryNode, batch: number): Promise<RunRecord> {
    const run = this.#runFor(node);
    if (this.loaded.runbook.lock) return await run.execute(true, true);
    try {
      await (this.#warm.get(node.name) ?? this.#connecting(() => this.options.pool.connect(node)));
    } catch (error) {
      return await run.refuse((error as Error).message);
    }
    run.record.batch = batch;
    return await run.execute(true);
  }

  /** Records a node that preflight stopped: its own failure, or another node's. */
  async #refuse(
    node: InventoryNode,
    batch: number,
    refused: Map<string, string>,
    done: Set<string>,
  ): Promise<void> {
    if (done.has(node.name)) {
      return await this.#skip(
        node,
        batch,
        `succeeded in run ${this.options.resume!.id}`,
        "success",
      );
    }
    const why = refused.get(node.name);
    const run = this.#runFor(node);
    const record = why ? await run.refuse(`${why}; nothing was changed`) : await run.refuse(
      this.#signal.aborted
        ? "not started: the run was interrupted during preflight"
        : `not started: preflight failed on ${[...refused.keys()].join(", ")}`,
      this.#signal.aborted ? "aborted" : "skipped",
    );
    this.record.nodes!.push(record);
  }

  async #releaseLocks(): Promise<Map<string, string>> {
    const held = this.#held;
    this.#held = [];
    return await releaseLocks(this.options.pool, held);
  }

  async #finish(
    status: RunRecord["status"],
    reason: string | undefined,
    lockProblems: Map<string, string>,
  ): Promise<RunRecord> {
    const { options, record } = this;
    record.status = status;
    if (lockProblems.size) {
      reason = `${reason ? `${reason}; ` : ""}${[...lockProblems.values()].join("; ")}`;
    }
    record.reason = reason;
    record.interruption = options.interrupter!.interruption;
    if (status === "aborted") {
      record.abort_summary = await abortSummary(
        record,
        options.nodes,
        options.pool,
        options.config,
        (node) => nodeLockPath(options.config, node),
      );
      options.rollout?.abortSummary?.(record.abort_summary, lockProblems);
    }
    record.finished = new Date().toISOString();
    record.duration_ms = Date.parse(record.finished) - Date.parse(record.started);
    await this.#save();
    await options.journal?.record(rolloutEntry(runSubject(this.record), {
      status: record.status,
      nodes: record.nodes!.map((node) => `${node.target}=${node.status}`).join(","),
      resumes: record.resumes,
      reason: record.reason,
      interrupted_by: record.interruption && describeInterruption(record.interruption),
    }));
    options.rollout?.rolloutFinished?.(record);
    return record;
  }

  async #skip(
    node: InventoryNode,
    batch: number,
    reason: string,
    status: RunRecord["status"] = "skipped",
  ): Promise<void> {
    const now = new Date().toISOString();
    this.record.nodes!.push({
      ...this.record,
      id: `${this.record.id}@${node.name}`,
      target: node.name,
      batch,
      strategy: undefined,
      nodes: undefined,
      resumes: undefined,
      started: now,
      finished: now,
      steps: [],
      status,
      reason,
    });
    this.options.rollout?.nodeSkipped?.(node, reason);
    const subject = {
      ...runSubject(this.record),
      run: `${this.record.id}@${node.name}`,
      target: node.name,
    };
    await this.options.journal?.record(runEntry(subject, skipped(reason)));
  }

  async #save(): Promise<void> {
    await saveRunRecord(this.options.stateDir, this.record);
    this.#saved = this.record.nodes!.length;
  }
}
