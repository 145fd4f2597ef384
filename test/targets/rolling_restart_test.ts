/**
 * Rolling restarts over real sshd nodes: SOP 5 (config change) and SOP 7 (key rotation) with
 * a probe loop asking every node's health endpoint in lockstep while they run. The engine's
 * `restart: rolling` stops one node at a time and waits for its health check, so no probe
 * round may find every node down; failed requests per node are reported. Key rotation says
 * whether the new key is in force apart from the checks after it.
 */
import assert from "node:assert/strict";
import type { RunRecord } from "../../src/state/runs.ts";
import type { FleetNode, FleetWorld } from "../fixtures/fleet.ts";
import { createConfigFleet } from "../fixtures/config_fleet.ts";
import { join } from "node:path";
import { cli, eventually, exclusive, exists, ROOT, runArgs } from "../fixtures/helpers.ts";
import { health } from "./fleet_helpers.ts";
import { watchCli } from "./watch_cli.ts";

/** A fleet on v1.1.0 with a key and a config repository holding an encrypted production env. */
async function world(): Promise<FleetWorld> {
  const fleet = await createConfigFleet({
    nodes: 2,
    prefix: "rolling-",
    envs: { production: "DB_PASSWORD=rolling-secret-1\n" },
  });
  const deploy = await cli(runArgs(ROOT, fleet, "deploy", "v1.1.0", "--yes"));
  assert.equal(deploy.code, 0, deploy.stderr);
  return fleet;
}

/** Asks every node's health endpoint together, round after round, until stopped. */
function probeLoop(nodes: FleetNode[]) {
  const rounds: boolean[][] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      rounds.push(
        await Promise.all(nodes.map(async (node) => {
          try {
            const response = await fetch(node.healthUrl, { signal: AbortSignal.timeout(2000) });
            await response.body?.cancel();
            return response.status === 200;
          } catch {
            return false;
          }
        })),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      const failed = nodes.map((_, i) => rounds.filter((round) => !round[i]).length);
      const allDown = rounds.filter((round) => round.every((ok) => !ok)).length;
      return { rounds: rounds.length, failed, allDown };
    },
  };
}

Deno.test(
  "SOP 5 and SOP 7 restart the fleet one node at a time",
  exclusive("processes", async (t) => {
    const w = await world();
    try {
      await t.step("config-change: never every node down at once", async () => {
        const probes = probeLoop(w.nodes);
        const r = await cli(runArgs(ROOT, w, "config-change", "production", "--yes"));
        const seen = await probes.stop();
        console.log(`config-change probes: ${JSON.stringify(seen)}`);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.ok(seen.rounds > 10, `too few probe rounds: ${seen.rounds}`);
        assert.equal(seen.allDown, 0, `every node was down in ${seen.allDown} round(s)`);
        // Each node was restarted (down for a moment), one after the other.
        assert.match(r.stderr, /web-1: http:\/\/127\.0\.0\.1:\d+\/health → HTTP 200/);
        assert.match(r.stderr, /web-2: http:\/\/127\.0\.0\.1:\d+\/health → HTTP 200/);
      });

      await t.step(
        "key-rotation: never every node down; the rotation's outcome stands apart",
        async () => {
          const probes = probeLoop(w.nodes);
          const r = await cli(runArgs(ROOT, w, "key-rotation", "--yes", "--json"));
          const seen = await probes.stop();
          console.log(`key-rotation probes: ${JSON.stringify(seen)}`);
          assert.equal(seen.allDown, 0, `every node was down in ${seen.allDown} round(s)`);
          const record = JSON.parse(r.stdout) as RunRecord;
          // Whatever the SOC 2 checks after it say, the record says the new key is in force.
          assert.equal(record.changes_made?.[0], "1 Re-encrypt every environment with a new key");
          assert.match(r.stderr, /changes made: 1 Re-encrypt every environment with a new key/);
          const restart = record.steps.find((s) => s.kind === "restart")!;
          assert.equal(restart.status, "success", JSON.stringify(restart));
        },
      );

      await t.step(
        "SIGINT while a node is stopped for its restart: it is started again",
        async () => {
          // web-1's stop ends, then lingers: the interrupt lands between its stop and its start.
          const stopped = join(w.dir, "web-1-stopped");
          const config = await Deno.readTextFile(w.config);
          const web1 = config.indexOf("  web-1:");
          const block = config.slice(web1).replace(
            /stop: ("(?:[^"\\]|\\.)*")/,
            (_, stop) =>
              `stop: ${JSON.stringify(`${JSON.parse(stop)}; touch '${stopped}'; sleep 2`)}`,
          );
          await Deno.writeTextFile(w.config, config.slice(0, web1) + block);
          try {
            const run = watchCli(runArgs(ROOT, w, "config-change", "production", "--yes"));
            await eventually(() => exists(stopped), 120_000);
            run.child.kill("SIGINT");
            const result = await run.result;
            assert.equal(result.code, 130, result.stderr);
            assert.deepEqual(await health(w.nodes[0]), { status: 200, version: "v1.1.0" });
            assert.deepEqual(await health(w.nodes[1]), { status: 200, version: "v1.1.0" });
            assert.match(result.stderr, /web-1: \w+; release v1\.1\.0; healthy; lock free/);
          } finally {
            await Deno.writeTextFile(w.config, config);
          }
        },
      );
    } finally {
      await w.cleanup();
    }
  }),
);
