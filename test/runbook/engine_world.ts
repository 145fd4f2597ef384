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
import { memoryNodeConfig } from "../fixtures/memory_target.ts";

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
