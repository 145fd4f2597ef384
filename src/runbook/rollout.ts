/**
 * Rollouts as data: which nodes a runbook runs on, in which batches, and what each node would
 * run. Pure: nothing here connects or runs, so plans and strategies are tested as values.
 *
 * @example
 * ```ts
 * import { planBatches } from "./rollout.ts";
 * const nodes = ["web-1", "web-2", "web-3"].map((name) => ({ name, groups: ["web"] }));
 * planBatches(nodes, { kind: "rolling", batch: 2, max_failed: 0, concurrency: 10 })
 *   .map((batch) => batch.map((node) => node.name)); // [["web-1", "web-2"], ["web-3"]]
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import { type Inventory, type InventoryNode, UnknownTargetError } from "../targets/inventory.ts";
import { describeRunbook, type Description, formatPlan } from "./describe.ts";
import type { LoadedRunbook } from "./load.ts";
import { normalizeStrategy, type Step, type Strategy } from "./schema.ts";
import {
  batchSizes,
  failureAllowance,
  formatBatchSpec,
  parseBatchSpec,
  splitBatches,
} from "./batch_spec.ts";
import type { DataPath, Problem, Source } from "../source/mod.ts";
import type { TemplateValue } from "../template.ts";

/** Splits nodes into the batches the strategy runs them in. */
export function planBatches(nodes: InventoryNode[], strategy: Strategy): InventoryNode[][] {
  if (strategy.kind === "parallel") return nodes.length ? [nodes] : [];
  if (strategy.kind === "serial") return nodes.map((node) => [node]);
  return splitBatches(nodes, parseBatchSpec(strategy.batch));
}

/**
 * Whether a rollout of `total` nodes stops after `failed` nodes have failed: serial at the
 * first, rolling once more than `max_failed` (a count, or a percentage of `total` rounded
 * down). Parallel runs never stop early.
 */
export function rolloutStops(strategy: Strategy, failed: number, total: number): boolean {
  if (strategy.kind === "parallel") return false;
  if (strategy.kind === "serial") return failed > 0;
  return failed > failureAllowance(strategy.max_failed, total);
}

/**
 * The strategy of a runbook for `total` nodes, as a short label. Percentages and ramps show
 * the batch sizes they come to: `rolling (batch [1, 50%] → 1, 5, 4 of 10 nodes, stop after 1
 * failed)`.
 */
export function strategyLabel(strategy: Strategy, total?: number): string {
  switch (strategy.kind) {
    case "serial":
      return "serial";
    case "rolling": {
      const spec = parseBatchSpec(strategy.batch);
      const counted = spec.length === 1 && "count" in spec[0];
      const sizes = total === undefined || counted
        ? ""
        : ` → ${runs(batchSizes(spec, total))} of ${total} nodes`;
      const max = strategy.max_failed;
      const limit = typeof max === "number"
        ? `${max + 1}`
        : total === undefined
        ? `more than ${max}`
        : `${failureAllowance(max, total) + 1} (more than ${max})`;
      return `rolling (batch ${formatBatchSpec(spec)}${sizes}, stop after ${limit} failed)`;
    }
    case "parallel":
      return `parallel (${strategy.concurrency} at a time)`;
  }
}

/** `1, 2, 10×3, 4`: batch sizes, a size repeated more than twice written once with its count. */
function runs(sizes: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sizes.length;) {
    let j = i;
    while (j < sizes.length && sizes[j] === sizes[i]) j++;
    const count = j - i;
    parts.push(...(count > 2 ? [`${sizes[i]}×${count}`] : sizes.slice(i, j).map(String)));
    i = j;
  }
  return parts.join(", ");
}

/** The nodes a runbook runs on: its `on`, narrowed by `--limit`. */
export function selectNodes(
  loaded: LoadedRunbook,
  inventory: Inventory,
  limit?: string[],
): InventoryNode[] {
  const nodes = inventory.select(loaded.runbook.on, limit);
  if (nodes.length === 0) {
    throw new UnknownTargetError(
      `${loaded.runbook.on} limited to ${limit?.join(",")}`,
      inventory.known(),
    );
  }
  return nodes;
}

/**
 * Every `on:` of a runbook and its tasks that names no node or group of the inventory, as
 * problems at the line and column where it is written.
 */
export function targetProblems(loaded: LoadedRunbook, inventory: Inventory): Problem[] {
  const problems: Problem[] = [];
  const check = (on: string | undefined, source: Source, path: DataPath) => {
    if (on === undefined) return;
    try {
      inventory.select(on);
    } catch (error) {
      if (!(error instanceof UnknownTargetError)) throw error;
      problems.push({
        file: source.file,
        ...source.positionOf(path),
        key: "on",
        message: error.message,
      });
    }
  };
  const steps = (list: readonly Step[], source: Source, at: string) =>
    list.forEach((step, i) => check(step.on, source, [at, i, "on"]));
  const { runbook, source } = loaded;
  check(runbook.on, source, ["on"]);
  for (const at of ["prerequisites", "steps", "success"] as const) steps(runbook[at], source, at);
  for (const task of loaded.tasks.values()) steps(task.task.steps, task.source, "steps");
  return problems;
}

/** A rollout plan: the strategy, and each batch's nodes with what they would run. */
export interface RolloutDescription {
  runbook: string;
  title: string;
  strategy: string;
  lock: boolean;
  batches: { batch: number; nodes: Description[] }[];
}

/** Resolves a runbook for every node it would run on, batch by batch. */
export function describeRollout(
  loaded: LoadedRunbook,
  params: Record<string, TemplateValue>,
  config: Config | undefined,
  nodes: InventoryNode[],
): RolloutDescription {
  const strategy = normalizeStrategy(loaded.runbook.strategy);
  return {
    runbook: loaded.runbook.id,
    title: loaded.runbook.title,
    strategy: strategyLabel(strategy, nodes.length),
    lock: loaded.runbook.lock,
    batches: planBatches(nodes, strategy).map((batch, i) => ({
      batch: i + 1,
      nodes: batch.map((node) => describeRunbook(loaded, params, config, node)),
    })),
  };
}

/** The rollout plan as text: per batch, per node, every command in order. */
export function formatRolloutPlan(rollout: RolloutDescription): string {
  const nodes = rollout.batches.flatMap((b) => b.nodes.map((d) => d.target));
  const lines = [
    `Rollout: ${rollout.title} on ${nodes.length} node(s): ${nodes.join(", ")}`,
    `Strategy: ${rollout.strategy}${rollout.lock ? "; each node's deploy lock held" : ""}`,
  ];
  for (const { batch, nodes } of rollout.batches) {
    for (const description of nodes) {
      lines.push(
        "",
        `=== Batch ${batch} of ${rollout.batches.length} · node ${description.target} ===`,
        formatPlan(description).trimEnd(),
      );
    }
  }
  return lines.join("\n") + "\n";
}
