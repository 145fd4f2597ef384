/**
 * The runbooks' health checks judge the release that answers, over real sshd nodes: web-2's
 * app cannot be stopped (its stop command does nothing), so after the switch to v1.2.0 the old
 * v1.1.0 process still holds the port and answers 200 — naming v1.1.0. SOP 1's success criteria
 * fail on that (the same sentence `status` uses), the failure path rolls web-2 back, and the
 * rollback's own check passes because the answer now names the release it switched to. A
 * rollback whose old app (the release it left) keeps the port fails the same way.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord } from "../../src/state/runs.ts";
import { cli, ROOT, runArgs } from "../fixtures/helpers.ts";
import { createFleetWorld } from "../fixtures/fleet.ts";
import { active, deployArgs, health } from "../targets/fleet_helpers.ts";

/** The configuration with `node`'s stop command replaced by one that stops nothing. */
function unstoppable(config: string, appDir: string): string {
  return config.split("\n").map((line) =>
    line.includes(JSON.stringify(appDir))
      ? line.replace(/stop: "(?:[^"\\]|\\.)*"/, 'stop: "true"')
      : line
  ).join("\n");
}

Deno.test("a health answer from the old release fails SOP 1 and rolls the node back", async (t) => {
  const world = await createFleetWorld({ nodes: 2, prefix: "health-version-" });
  const [web1, web2] = world.nodes;
  let oldPid = 0, web1Pid = 0;
  try {
    await t.step("v1.1.0 on both nodes", async () => {
      const result = await cli(deployArgs(world, "v1.1.0"));
      assert.equal(result.code, 0, result.stderr);
      oldPid = Number(await Deno.readTextFile(join(web2.appDir, "app.pid")));
      const config = await Deno.readTextFile(world.config);
      const changed = unstoppable(config, web2.appDir);
      assert.notEqual(changed, config, "web-2's stop command was not found");
      await Deno.writeTextFile(world.config, changed);
    });

    await t.step("v1.2.0: web-2 still answers as v1.1.0, so it fails and goes back", async () => {
      const result = await cli(deployArgs(world, "v1.2.0"));
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.deepEqual(record.nodes!.map((n) => [n.target, n.status]), [
        ["web-1", "success"],
        ["web-2", "failure"],
      ]);
      const node = record.nodes![1];
      const check = node.steps.find((s) => s.phase === "success" && s.kind === "http")!;
      assert.equal(check.status, "failure");
      assert.match(
        check.message!,
        /the health answer names v1\.1\.0, but the active release is v1\.2\.0 after 21 attempt/,
      );
      assert.match(result.stderr, /\[web-2\].*→ 200 v1\.1\.0/);
      // The failure path ran and its own check passed: v1.1.0 is what it switched to.
      assert.equal(node.failure_path?.runbook, "rollback");
      assert.equal(node.failure_path?.status, "success", JSON.stringify(node.failure_path));
      assert.deepEqual(await Promise.all(world.nodes.map(active)), ["v1.2.0", "v1.1.0"]);
      assert.deepEqual(await health(web1), { status: 200, version: "v1.2.0" });
      assert.deepEqual(await health(web2), { status: 200, version: "v1.1.0" });
    });

    await t.step("SOP 3 fails too when the release it left still answers", async () => {
      web1Pid = Number(await Deno.readTextFile(join(web1.appDir, "app.pid")));
      const config = await Deno.readTextFile(world.config);
      await Deno.writeTextFile(world.config, unstoppable(config, web1.appDir));
      const result = await cli(
        runArgs(ROOT, world, "rollback", "v1.1.0", "--limit", "web-1", "--yes", "--json"),
      );
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      const steps = (record.nodes?.[0] ?? record).steps;
      const check = steps.find((s) => s.phase === "success" && s.kind === "http")!;
      assert.match(
        check.message!,
        /the health answer names v1\.2\.0, but the active release is v1\.1\.0/,
      );
      assert.deepEqual(await health(web1), { status: 200, version: "v1.2.0" });
    });
  } finally {
    for (const pid of [oldPid, web1Pid].filter(Boolean)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await world.cleanup();
  }
});
