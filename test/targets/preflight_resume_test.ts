/**
 * Preflight and resume over real sshd nodes: a node that is locked or down before the start
 * changes nothing anywhere; a rollout that failed on its second node is completed by
 * `deploy:push --resume`, which skips the node that succeeded; `runs` lists both.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord } from "../../src/state/runs.ts";
import { readAuditEntries } from "../../src/audit/mod.ts";
import { cli, exists } from "../fixtures/helpers.ts";
import { createFleetWorld } from "../fixtures/fleet.ts";
import { active, deployArgs, health } from "./fleet_helpers.ts";

Deno.test("preflight refuses before any change; resume completes a rollout", async (t) => {
  const world = await createFleetWorld({ nodes: 2, faults: { "web-2": "v1.2.0" } });
  const [web1, web2] = world.nodes;
  const lock = (node: typeof web1) => join(node.appDir, ".protocol.lock");
  try {
    await t.step("v1.1.0 on both nodes", async () => {
      const result = await cli(deployArgs(world, "v1.1.0"));
      assert.equal(result.code, 0, result.stderr);
    });

    await t.step("a stale lock on web-2: nothing changes on web-1 either", async () => {
      const stale = { run: "gone", runbook: "deploy", operator: "bob", host: "x", since: "" };
      await Deno.writeTextFile(lock(web2), JSON.stringify(stale) + "\n");
      const result = await cli(deployArgs(world, "v1.2.0"));
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /Preflight failed on 1 of 2 node\(s\)/);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.match(record.reason!, /preflight failed on web-2: web-2: locked by run gone/);
      assert.deepEqual(await Promise.all(world.nodes.map(active)), ["v1.1.0", "v1.1.0"]);
      assert.equal(await exists(join(web1.appDir, "releases", "v1.2.0")), false);
      assert.equal(await exists(lock(web1)), false, "web-1's lock was kept");
      assert.equal(await exists(lock(web2)), true, "someone else's lock was removed");
      await Deno.remove(lock(web2));
    });

    let failed!: RunRecord;
    await t.step("v1.2.0 fails on web-2, its second node", async () => {
      const result = await cli(deployArgs(world, "v1.2.0"));
      assert.equal(result.code, 1, result.stderr);
      failed = JSON.parse(result.stdout) as RunRecord;
      assert.deepEqual(failed.nodes!.map((n) => [n.target, n.status]), [
        ["web-1", "success"],
        ["web-2", "failure"],
      ]);
      assert.deepEqual(await Promise.all(world.nodes.map(active)), ["v1.2.0", "v1.1.0"]);
    });

    await t.step("deploy:push --resume completes it once web-2 is fixed", async () => {
      const config = await Deno.readTextFile(world.config);
      await Deno.writeTextFile(world.config, config.replaceAll("DEMO_FAULT=v1.2.0 ", ""));
      const result = await cli([
        "deploy:push",
        "--resume",
        failed.id,
        "--yes",
        "--json",
        "--config",
        world.config,
        "--state-dir",
        world.stateDir,
      ]);
      assert.equal(result.code, 0, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.notEqual(record.id, failed.id);
      assert.equal(record.resumes, failed.id);
      assert.deepEqual(record.params, { version: "v1.2.0" });
      assert.deepEqual(record.nodes!.map((n) => [n.target, n.status]), [
        ["web-1", "success"],
        ["web-2", "success"],
      ]);
      assert.match(record.nodes![0].reason!, new RegExp(`succeeded in run ${failed.id}`));
      assert.deepEqual(record.nodes![0].steps, []);
      assert.deepEqual(await health(web2), { status: 200, version: "v1.2.0" });
      const rollouts = (await readAuditEntries(world.stateDir)).filter((e) =>
        e.action === "rollout" && e.run === record.id
      );
      assert.ok(rollouts.length > 0 && rollouts.every((e) => e.resumes === failed.id));
    });

    await t.step("runs lists the rollouts newest first", async () => {
      const result = await cli(["runs", "--json", "--limit", "2", "--state-dir", world.stateDir]);
      assert.equal(result.code, 0, result.stderr);
      const rows = JSON.parse(result.stdout) as { id: string; status: string; nodes: string[] }[];
      assert.equal(rows.length, 2);
      assert.equal(rows[1].id, failed.id);
      assert.deepEqual(rows[1].nodes, ["web-1=success", "web-2=failure"]);
      assert.equal(rows[0].status, "success");
      const text = await cli(["runs", "--state-dir", world.stateDir]);
      assert.match(text.stdout, new RegExp(`${failed.id} +failure +deploy +version=v1\\.2\\.0`));
    });

    await t.step("web-2 down before the start: nothing changes anywhere", async () => {
      world.ssh.nodes[1].process.kill("SIGKILL");
      await world.ssh.nodes[1].process.status;
      await world.ssh.dropConnections("web-2");
      const result = await cli(deployArgs(world, "v1.1.0"));
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.match(record.reason!, /preflight failed on web-2: web-2: cannot connect/);
      assert.deepEqual(record.nodes!.map((n) => [n.target, n.status]), [
        ["web-1", "skipped"],
        ["web-2", "failure"],
      ]);
      assert.equal(await active(web1), "v1.2.0");
      assert.equal(await exists(lock(web1)), false);
    });
  } finally {
    await world.cleanup();
  }
});
