/**
 * A project in a temporary directory for engine unit tests: runbooks written from strings, a
 * `protocol.yaml` whose nodes are the memory pool's, a state directory, and a journal that
 * keeps entries in memory. Nothing here starts a process.
 *
 * @example
 * ```ts
 * const world = await engineWorld(["web-1", "web-2"], { deploy: "id: deploy\n..." });
 * const loaded = await loadRunbook(world.root, "deploy");
 * await world.cleanup();
 * ```
 * @module
 */
import { join } from "node:path";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import type { Journal } from "../../src/journal.ts";
import { loadRunbook } from "../../src/runbook/load.ts";
import { type RolloutOptions, runRollout } from "../../src/runbook/fleet.ts";
import { Run } from "../../src/runbook/run.ts";
import type { RunOptions } from "../../src/runbook/run_options.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import type { InventoryNode } from "../../src/targets/inventory.ts";
import {
  memoryNodeConfig,
  type MemoryPool,
  memoryPool,
  type Rule,
} from "../fixtures/memory_target.ts";

/** A temporary project. */
export interface EngineWorld {
  root: string;
  stateDir: string;
  config: Config;
  journal: Journal;
  entries: Record<string, unknown>[];
  cleanup(): Promise<void>;
}

/** Writes `runbooks` (id → YAML) and a configuration naming `nodes`. */
export async function engineWorld(
  nodes: string[],
  runbooks: Record<string, string>,
): Promise<EngineWorld> {
  const root = await Deno.makeTempDir({ prefix: "engine-" });
  await Deno.mkdir(join(root, "runbooks"));
  for (const [id, text] of Object.entries(runbooks)) {
    await Deno.writeTextFile(join(root, "runbooks", `${id}.yaml`), text);
  }
  const q = JSON.stringify;
  const lines = [
    "app:",
    "  name: memory-app",
    `  repo: ${q(join(root, "repo.git"))}`,
    `  dir: ${q(join(root, "app"))}`,
    '  start: "true"',
    '  stop: "true"',
    '  health: "http://127.0.0.1:9/health"',
    "  targets: web",
    "nodes:",
    ...nodes.map((name) => `  ${name}: ${q(memoryNodeConfig(name))}`),
  ];
  await Deno.writeTextFile(join(root, "protocol.yaml"), lines.join("\n") + "\n");
  const config = await loadConfig(join(root, "protocol.yaml"));
  const entries: Record<string, unknown>[] = [];
  return {
    root,
    stateDir: join(root, "state"),
    config,
    entries,
    journal: {
      record: (fields) => {
        entries.push(fields);
        return Promise.resolve();
      },
    },
    cleanup: () => Deno.remove(root, { recursive: true }),
  };
}

/** What a run over memory nodes left: its record, the nodes' scripts, the journal's entries. */
export interface MemoryOutcome {
  record: RunRecord;
  pool: MemoryPool;
  entries: Record<string, unknown>[];
}

/** A runbook run over memory nodes (see {@link memoryRollout}, {@link memoryRun}). */
export interface MemoryRunSpec {
  /** The memory nodes (and the configuration's nodes). */
  nodes: string[];
  /** The project's runbooks (id → YAML); the first one is run. */
  runbooks: Record<string, string>;
  /** Scripted outcomes per node (default: every script succeeds). */
  rules?: Record<string, Rule[]>;
  /** Adjusts the pool or the world (a node's settings, say) before the run. */
  setup?: (pool: MemoryPool, world: EngineWorld) => void;
}

/**
 * Runs the first of `spec.runbooks` as `runRollout` does, on every memory node unless
 * `select` says otherwise, with a journal in memory and every human item acknowledged;
 * `options` adds to or overrides the rollout's options.
 */
export async function memoryRollout(
  spec: MemoryRunSpec & { select?: (pool: MemoryPool) => InventoryNode[] },
  options: Partial<RolloutOptions> = {},
): Promise<MemoryOutcome> {
  return await inWorld(spec, async (world, pool, loaded) =>
    await runRollout(loaded, {
      root: world.root,
      params: {},
      config: world.config,
      stateDir: world.stateDir,
      pool,
      nodes: spec.select?.(pool) ?? pool.nodes,
      journal: world.journal,
      confirm: () => Promise.resolve("acknowledged"),
      ...options,
    }));
}

/** Runs the first of `spec.runbooks` as one {@link Run} on the first memory node. */
export async function memoryRun(
  spec: MemoryRunSpec,
  options: Partial<RunOptions> = {},
): Promise<MemoryOutcome> {
  return await inWorld(spec, async (world, pool, loaded) =>
    await new Run(loaded, {
      root: world.root,
      params: {},
      config: world.config,
      stateDir: world.stateDir,
      target: pool.targets.get(spec.nodes[0])!,
      journal: world.journal,
      ...options,
    }).execute(true));
}

async function inWorld(
  spec: MemoryRunSpec,
  run: (
    world: EngineWorld,
    pool: MemoryPool,
    loaded: Awaited<ReturnType<typeof loadRunbook>>,
  ) => Promise<RunRecord>,
): Promise<MemoryOutcome> {
  const world = await engineWorld(spec.nodes, spec.runbooks);
  const pool = memoryPool(spec.nodes, spec.rules);
  spec.setup?.(pool, world);
  try {
    const loaded = await loadRunbook(world.root, Object.keys(spec.runbooks)[0]);
    return { record: await run(world, pool, loaded), pool, entries: world.entries };
  } finally {
    await world.cleanup();
  }
}

/** A two-phase runbook: a check, a step before any change, the change, a criterion. */
export const DEPLOY = `
id: deploy
title: Memory deploy
when: tests
on: app
strategy: { kind: rolling, batch: 1, max_failed: 0 }
lock: true
parameters:
  version: { type: string, positional: true, required: true }
prerequisites:
  - name: Tag exists
    run: echo check-tag \${{ params.version }}
steps:
  - name: Fetch
    run: echo fetch-step
  - name: Switch
    changes: true
    run: echo switch-step \${{ params.version }}
  - name: Restart
    run: echo restart-step
success:
  - name: Healthy
    run: echo health-step
on_failure:
  runbook: undo
  with: { failed: "\${{ params.version }}" }
audit:
  action: deploy
  fields: { to: "\${{ params.version }}" }
`;

/** The failure path of {@link DEPLOY}. */
export const UNDO = `
id: undo
title: Memory undo
when: tests
parameters:
  failed: { type: string }
steps:
  - name: Undo
    run: echo undo-step \${{ params.failed }}
`;
