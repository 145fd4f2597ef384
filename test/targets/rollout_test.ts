/**
 * SOP 1 across three real SSH nodes with the rolling strategy: every node on v1.1.0, then
 * v1.2.0 rolls out, web-2 fails its health check, the rollout stops, web-2 is rolled back by
 * its failure path, web-3 is never touched — and locks, records and the audit log say so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord } from "../../src/state/runs.ts";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { cli, exists, ROOT, runArgs } from "../fixtures/helpers.ts";
import { createFleetWorld, type FleetNode, type FleetWorld } from "../fixtures/fleet.ts";

async function health(node: FleetNode): Promise<{ status: number; version?: string }> {
  try {
    const response = await fetch(node.healthUrl);
    const body = await response.json() as { version?: string };
    return { status: response.status, version: body.version };
  } catch {
    return { status: 0 };
  }
}

const active = (node: FleetNode) =>
  Deno.readLink(join(node.appDir, "current")).then(
    (link) => link.split("/").pop(),
    () => undefined,
  );

function deploy(world: FleetWorld, version: string, ...extra: string[]) {
  return cli(runArgs(ROOT, world, "deploy", version, "--yes", "--json", ...extra));
}

Deno.test("rolling deploy over SSH: a failing node stops the rollout and is rolled back", async (t) => {
  const world = await createFleetWorld({ nodes: 3, faults: { "web-2": "v1.2.0" } });
  try {
    await t.step("the plan shows each node's commands in its batch", async () => {
      const plan = await cli(["plan", "deploy", "v1.2.0", "--config", world.config]);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stdout, /Rollout: .* on 3 node\(s\): web-1, web-2, web-3/);
      assert.match(
        plan.stdout,
        /Strategy: rolling \(batch 1, stop after 1 failed\); each node's deploy lock held/,
      );
      for (const [i, node] of world.nodes.entries()) {
        assert.match(plan.stdout, new RegExp(`=== Batch ${i + 1} of 3 · node ${node.name} ===`));
        assert.ok(plan.stdout.includes(node.healthUrl), `${node.name}'s health URL is in the plan`);
      }
    });

    await t.step("v1.1.0 goes to every node", async () => {
      const result = await deploy(world, "v1.1.0");
      assert.equal(result.code, 0, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.deepEqual(record.nodes!.map((n) => [n.target, n.status, n.batch]), [
        ["web-1", "success", 1],
        ["web-2", "success", 2],
        ["web-3", "success", 3],
      ]);
      for (const node of world.nodes) {
        assert.deepEqual(await health(node), { status: 200, version: "v1.1.0" });
      }
    });

    await t.step("v1.2.0: web-1 done, web-2 fails and rolls back, web-3 untouched", async () => {
      const result = await deploy(world, "v1.2.0");
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      const [web1, web2, web3] = record.nodes!;
      assert.equal(web1.status, "success");
      assert.equal(web2.status, "failure");
      assert.match(web2.reason!, /success criteria not met: Application health endpoint/);
      assert.equal(web2.failure_path?.runbook, "rollback");
      assert.equal(web2.failure_path?.status, "success");
      assert.equal(web3.status, "skipped");
      assert.match(web3.reason!, /rollout stopped after web-2 failed/);
      // Preflight checked web-3's prerequisites; none of its steps ran.
      assert.deepEqual(web3.steps.filter((s) => s.phase !== "prerequisite"), []);
      assert.match(record.reason!, /1 of 2 node\(s\) failed: web-2; 1 not started/);
      assert.match(result.stderr, /web-3\s+skipped: not started/);

      assert.deepEqual(await health(world.nodes[0]), { status: 200, version: "v1.2.0" });
      assert.deepEqual(await health(world.nodes[1]), { status: 200, version: "v1.1.0" });
      assert.deepEqual(await health(world.nodes[2]), { status: 200, version: "v1.1.0" });
      assert.deepEqual(await Promise.all(world.nodes.map(active)), ["v1.2.0", "v1.1.0", "v1.1.0"]);
      assert.equal(await exists(join(world.nodes[2].appDir, "releases", "v1.2.0")), false);
    });

    await t.step("every lock was released", async () => {
      for (const node of world.nodes) {
        assert.equal(await exists(join(node.appDir, ".protocol.lock")), false, node.name);
      }
    });

    await t.step(
      "the audit log has every node's outcome under its name, and verifies",
      async () => {
        const entries = await readAuditEntries(world.stateDir);
        const deploys = entries.filter((e) => e.action === "deploy" && e.to === "v1.2.0");
        assert.deepEqual(deploys.map((e) => [e.target, e.status]), [
          ["web-1", "success"],
          ["web-2", "failure"],
        ]);
        const rollbacks = entries.filter((e) => e.action === "rollback");
        assert.deepEqual(rollbacks.map((e) => [e.target, e.status, e.to]), [[
          "web-2",
          "success",
          "v1.1.0",
        ]]);
        const skipped = entries.filter((e) => e.action === "run" && e.status === "skipped");
        assert.deepEqual(skipped.map((e) => e.target), ["web-3"]);
        const rollout = entries.filter((e) => e.action === "rollout").at(-1)!;
        assert.equal(rollout.nodes, "web-1=success,web-2=failure,web-3=skipped");
        assert.equal((await verifyAuditLog(world.stateDir)).ok, true);
      },
    );

    await t.step("--limit narrows the rollout to one node", async () => {
      const result = await deploy(world, "v1.2.0", "--limit", "web-3");
      assert.equal(result.code, 0, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.deepEqual(record.nodes!.map((n) => n.target), ["web-3"]);
      assert.deepEqual(await health(world.nodes[2]), { status: 200, version: "v1.2.0" });
    });
  } finally {
    await world.cleanup();
  }
});
