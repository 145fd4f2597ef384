/**
 * Releases over two real SSH nodes, through the commands an operator types: deploy:push,
 * status, a failed deploy rolled back by itself, deploy:rollback to the previous release and to
 * a named one, refusals that change nothing, release:list, and the app driver's logs and
 * rebuild — with the audit log checked at the end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { NodeStatus } from "../../src/release/mod.ts";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { operator } from "../../src/state/mod.ts";
import { cli, ROOT } from "../fixtures/helpers.ts";
import { createFleetWorld, type FleetWorld } from "../fixtures/fleet.ts";

function command(world: FleetWorld, name: string, ...args: string[]) {
  return cli([name, ...args, "--config", world.config, "--state-dir", world.stateDir]);
}
const push = (world: FleetWorld, version: string) =>
  command(world, "deploy:push", version, "--yes", "--root", ROOT);
const rollback = (world: FleetWorld, ...version: string[]) =>
  command(world, "deploy:rollback", ...version, "--yes", "--root", ROOT);

async function status(world: FleetWorld): Promise<{ code: number; rows: NodeStatus[] }> {
  const result = await cli(["status", "--json", "--config", world.config]);
  assert.ok(result.code === 0 || result.code === 1, result.stderr);
  return { code: result.code, rows: JSON.parse(result.stdout) };
}

const versions = (rows: NodeStatus[]) => rows.map((r) => [r.node, r.active, r.previous]);
/** Both nodes on v1.2.0, v1.1.0 their previous release: [node, active, previous]. */
const ON_V120_FROM_V110 = [["web-1", "v1.2.0", "v1.1.0"], ["web-2", "v1.2.0", "v1.1.0"]];
const logLines = (world: FleetWorld, node: number) =>
  Deno.readTextFile(join(world.nodes[node].appDir, "deploys.log")).then((t) => t);

Deno.test("releases over SSH: deploy, status, automatic and explicit rollbacks", async (t) => {
  const world = await createFleetWorld({ nodes: 2, prefix: "release-fleet-" });
  try {
    await t.step("status before any deploy says what is wrong and exits 1", async () => {
      const { code, rows } = await status(world);
      assert.equal(code, 1);
      assert.deepEqual(rows.map((r) => r.ok), [false, false]);
      assert.ok(rows[0].problems.includes("no active release"), rows[0].problems.join("; "));
    });

    await t.step("deploy:push v1.1.0 then v1.2.0 to both nodes", async () => {
      for (const version of ["v1.1.0", "v1.2.0"]) {
        const result = await push(world, version);
        assert.equal(result.code, 0, result.stderr);
      }
    });

    await t.step("status: active, previous, who and when, running, health, lock", async () => {
      const { code, rows } = await status(world);
      assert.equal(code, 0, JSON.stringify(rows));
      assert.deepEqual(versions(rows), ON_V120_FROM_V110);
      for (const row of rows) {
        assert.equal(row.deployed_by, operator());
        assert.equal(row.deployed_kind, "deploy");
        assert.ok(Date.now() - Date.parse(row.deployed_at!) < 120_000, row.deployed_at);
        assert.equal(row.running, "yes");
        assert.equal(row.health?.status, 200);
        assert.equal(row.health?.version, "v1.2.0");
        assert.equal(row.lock, null);
      }
      const text = await cli(["status", "--config", world.config]);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /✔ web-1\n {4}active: {3}v1\.2\.0\n {4}previous: v1\.1\.0/);
      assert.match(text.stdout, /all 2 node\(s\) green/);
    });

    await t.step("release:list shows dates and where each release is", async () => {
      const result = await command(world, "release:list", "--json");
      assert.equal(result.code, 0, result.stderr);
      const { releases } = JSON.parse(result.stdout);
      assert.deepEqual(
        releases.map((
          r: { tag: string; active: string[]; previous: string[] },
        ) => [r.tag, r.active, r.previous]),
        [["v1.3.0", [], []], ["v1.2.0", ["web-1", "web-2"], []], ["v1.1.0", [], [
          "web-1",
          "web-2",
        ]]],
      );
      assert.ok(releases.every((r: { date: string }) => !Number.isNaN(Date.parse(r.date))));
      const text = await command(world, "release:list");
      assert.match(text.stdout, /v1\.3\.0 .* not deployed/);
      assert.match(text.stdout, /v1\.2\.0 .* active on web-1, web-2/);
    });

    await t.step(
      "a broken release fails on web-1, rolls back by itself, web-2 untouched",
      async () => {
        const result = await push(world, "v1.3.0");
        assert.equal(result.code, 1);
        assert.match(result.stderr, /web-2\s+skipped: not started/);
        const { code, rows } = await status(world);
        assert.equal(code, 0, JSON.stringify(rows));
        assert.deepEqual(versions(rows), ON_V120_FROM_V110);
        assert.equal(rows[0].deployed_kind, "rollback");
      },
    );

    await t.step("a version a node never had is refused before anything changes", async () => {
      const before = await Promise.all([logLines(world, 0), logLines(world, 1)]);
      const never = await rollback(world, "v1.3.0"); // web-1 had it (briefly), web-2 never
      assert.equal(never.code, 1);
      assert.match(never.stderr, /web-2: v1\.3\.0 was never deployed there/);
      assert.doesNotMatch(never.stderr, /web-1:/);
      assert.match(never.stderr, /nothing was rolled back/);
      const unknown = await rollback(world, "v0.9.0");
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /web-1: v0\.9\.0 was never deployed there/);
      assert.deepEqual(await Promise.all([logLines(world, 0), logLines(world, 1)]), before);
    });

    await t.step("deploy:rollback goes to each node's recorded previous release", async () => {
      const result = await rollback(world);
      assert.equal(result.code, 0, result.stderr);
      const { code, rows } = await status(world);
      assert.equal(code, 0, JSON.stringify(rows));
      assert.deepEqual(versions(rows), [["web-1", "v1.1.0", undefined], [
        "web-2",
        "v1.1.0",
        undefined,
      ]]);
      assert.equal(rows[1].health?.version, "v1.1.0");
    });

    await t.step("with no earlier release recorded, a bare rollback is refused", async () => {
      const result = await rollback(world);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /web-1: no previous release is recorded there/);
    });

    await t.step("deploy:rollback VERSION goes to a release the nodes had", async () => {
      const result = await rollback(world, "v1.2.0");
      assert.equal(result.code, 0, result.stderr);
      const { rows } = await status(world);
      assert.deepEqual(versions(rows), ON_V120_FROM_V110);
    });

    await t.step(
      "a stopped app: status exits 1; docker:logs; docker:compose:rebuild heals",
      async () => {
        const pid = Number(await Deno.readTextFile(join(world.nodes[1].appDir, "app.pid")));
        Deno.kill(pid, "SIGKILL");
        const { code, rows } = await status(world);
        assert.equal(code, 1);
        assert.equal(rows[0].ok, true);
        assert.equal(rows[1].running, "no");
        assert.ok(rows[1].problems.includes("the app is not running"));
        assert.match(rows[1].problems.join("\n"), /health check failed/);

        const logs = await cli(["docker:logs", "--limit", "web-2", "--config", world.config]);
        assert.equal(logs.code, 0, logs.stderr);
        assert.match(logs.stdout, /== web-2/);

        const rebuilt = await command(world, "docker:compose:rebuild", "--limit", "web-2");
        assert.equal(rebuilt.code, 0, rebuilt.stderr);
        assert.equal((await status(world)).code, 0);
      },
    );

    await t.step("a held deploy lock shows in status and makes it exit 1", async () => {
      const lock = join(world.nodes[0].appDir, ".protocol.lock");
      const holder = {
        run: "r-test",
        runbook: "deploy",
        operator: "alice",
        host: "ops",
        since: new Date().toISOString(),
      };
      await Deno.writeTextFile(lock, JSON.stringify(holder) + "\n");
      const { code, rows } = await status(world);
      await Deno.remove(lock);
      assert.equal(code, 1);
      assert.match(rows[0].problems.join("\n"), /locked by run r-test \(deploy, alice@ops\)/);
    });

    await t.step(
      "the audit log has every deploy, rollback and rebuild per node, and verifies",
      async () => {
        const entries = await readAuditEntries(world.stateDir);
        const of = (action: string) =>
          entries.filter((e) => e.action === action).map((e) => [e.target, e.from, e.to, e.status]);
        assert.deepEqual(of("deploy"), [
          ["web-1", "none", "v1.1.0", "success"],
          ["web-2", "none", "v1.1.0", "success"],
          ["web-1", "v1.1.0", "v1.2.0", "success"],
          ["web-2", "v1.1.0", "v1.2.0", "success"],
          ["web-1", "v1.2.0", "v1.3.0", "failure"],
        ]);
        assert.deepEqual(of("rollback"), [
          ["web-1", "v1.3.0", "v1.2.0", "success"],
          ["web-1", "v1.2.0", "v1.1.0", "success"],
          ["web-2", "v1.2.0", "v1.1.0", "success"],
          ["web-1", "v1.1.0", "v1.2.0", "success"],
          ["web-2", "v1.1.0", "v1.2.0", "success"],
        ]);
        const rebuilds = entries.filter((e) => e.action === "rebuild");
        assert.deepEqual(rebuilds.map((e) => [e.target, e.version, e.status]), [[
          "web-2",
          "v1.2.0",
          "success",
        ]]);
        assert.equal((await verifyAuditLog(world.stateDir)).ok, true);
      },
    );
  } finally {
    await world.cleanup();
  }
});
