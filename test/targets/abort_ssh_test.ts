/**
 * Interruptions over real SSH nodes. Two sshd nodes run the demo app on v1.1.0; v1.2.0 fails
 * web-2's health check, which holds web-2 between its switch and its success criteria for a
 * few seconds: there, SIGHUP, SIGTERM and SIGINT to the tool, and a cut SSH connection, each
 * must end with no lock left, web-2 back on v1.1.0 and healthy, the run recorded `aborted`
 * (record and audit log) and an abort summary printed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord } from "../../src/state/runs.ts";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { cli, eventually, exists } from "../fixtures/helpers.ts";
import { createFleetWorld, type FleetWorld } from "../fixtures/fleet.ts";
import { active, deployArgs, health, WEB2_HEALTH } from "./fleet_helpers.ts";
import { watchCli } from "./watch_cli.ts";

async function noLocks(world: FleetWorld): Promise<void> {
  for (const node of world.nodes) {
    assert.equal(await exists(join(node.appDir, ".protocol.lock")), false, `${node.name} locked`);
  }
}

/**
 * What every interruption must leave: an abort summary (printed and in the record) with web-1
 * on v1.2.0 and web-2 back on v1.1.0, both healthy and unlocked; the rollout and web-2's run
 * recorded `aborted` in the audit log.
 */
async function abortedAndSummarized(
  world: FleetWorld,
  record: RunRecord,
  stderr: string,
): Promise<void> {
  assert.match(stderr, /Abort summary/);
  assert.deepEqual(
    record.abort_summary!.map((n) => [n.node, n.release, n.healthy, n.lock]),
    [["web-1", "v1.2.0", true, "free"], ["web-2", "v1.1.0", true, "free"]],
  );
  const entries = await readAuditEntries(world.stateDir);
  const mine = entries.filter((e) => String(e.run ?? "").startsWith(record.id));
  assert.equal(mine.filter((e) => e.action === "rollout").at(-1)?.status, "aborted");
  assert.equal(
    mine.filter((e) => e.action === "run" && e.target === "web-2").at(-1)?.status,
    "aborted",
  );
}

Deno.test("interrupting a deploy over SSH leaves every node known and healthy", async (t) => {
  const world = await createFleetWorld({ nodes: 2, faults: { "web-2": "v1.2.0" } });
  try {
    await t.step("v1.1.0 on both nodes", async () => {
      const result = await cli(deployArgs(world, "v1.1.0"));
      assert.equal(result.code, 0, result.stderr);
    });

    for (const signal of ["SIGHUP", "SIGTERM", "SIGINT"] as const) {
      await t.step(`${signal} while web-2 is switched but unverified`, async () => {
        const run = watchCli(deployArgs(world, "v1.2.0"));
        await run.waitFor(WEB2_HEALTH);
        run.child.kill(signal);
        const result = await run.result;
        assert.equal(result.code, 130, result.stderr);
        const record = JSON.parse(result.stdout) as RunRecord;
        assert.equal(record.status, "aborted");
        assert.deepEqual(record.interruption, { kind: "signal", what: signal });
        const web2 = record.nodes![1];
        assert.equal(web2.status, "aborted");
        assert.equal(web2.failure_path?.runbook, "rollback");
        assert.equal(web2.failure_path?.status, "success");
        await noLocks(world);
        assert.deepEqual(await Promise.all(world.nodes.map(active)), ["v1.2.0", "v1.1.0"]);
        assert.deepEqual(await health(world.nodes[0]), { status: 200, version: "v1.2.0" });
        assert.deepEqual(await health(world.nodes[1]), { status: 200, version: "v1.1.0" });
        // The release interrupted in its health check did not become web-2's `previous`.
        const previous = await Deno.readTextFile(join(world.nodes[1].appDir, "previous"));
        assert.notEqual(previous.trim(), "v1.2.0");
        assert.match(
          result.stderr,
          /web-2: aborted; release v1\.1\.0; healthy; lock free\n.*failure path rollback: success/,
        );
        assert.match(result.stderr, /next: deno task /);
        await abortedAndSummarized(world, record, result.stderr);
      });
    }

    await t.step("a cut SSH connection: named, undone after reconnecting, exit 1", async () => {
      const run = watchCli(deployArgs(world, "v1.2.0"));
      await run.waitFor(WEB2_HEALTH);
      await world.ssh.dropConnections("web-2");
      const result = await run.result;
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "aborted");
      assert.equal(record.interruption?.kind, "connection");
      assert.equal(record.interruption?.what, "web-2");
      assert.match(record.reason!, /connection to web-2 lost/);
      assert.doesNotMatch(result.stderr, /nothing to roll back/);
      assert.equal(record.nodes![1].failure_path?.status, "success");
      await noLocks(world);
      assert.deepEqual(await health(world.nodes[1]), { status: 200, version: "v1.1.0" });
      await abortedAndSummarized(world, record, result.stderr);
    });

    await t.step("SIGINT while a failed node rolls back: the rollback finishes", async () => {
      // web-2 fails its health check on v1.2.0 and goes back through its failure path; a first
      // Ctrl-C then stops the rollout, not the undo under way (only a second signal would).
      const run = watchCli(deployArgs(world, "v1.2.0"));
      await run.waitFor(/\[web-2\].*Roll back to v1\.1\.0/);
      run.child.kill("SIGINT");
      const result = await run.result;
      assert.equal(result.code, 130, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "aborted");
      const web2 = record.nodes![1];
      assert.equal(web2.failure_path?.runbook, "rollback");
      assert.equal(web2.failure_path?.status, "success", result.stderr);
      await noLocks(world);
      assert.deepEqual(await health(world.nodes[1]), { status: 200, version: "v1.1.0" });
      assert.match(result.stderr, /web-2: \w+; release v1\.1\.0; healthy; lock free/);
    });

    await t.step("a node that dies mid-step: named as needing attention, exit 1", async () => {
      const run = watchCli(deployArgs(world, "v1.2.0"));
      await run.waitFor(WEB2_HEALTH);
      // Its connections cut, then its listener gone: no new connection to web-2 from now on.
      await world.ssh.dropConnections("web-2");
      world.ssh.nodes[1].process.kill("SIGKILL");
      const result = await run.result;
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "aborted");
      assert.equal(record.interruption?.what, "web-2");
      assert.match(record.nodes![1].reason!, /web-2 was changed but cannot be reached to undo it/);
      assert.match(result.stderr, /web-2: aborted; release unknown; .*; lock unknown\n/);
      assert.match(result.stderr, /web-2: lock \S+ not released: web-2: cannot connect/);
      assert.match(result.stderr, /next: .*# once web-2 answers again/);
    });

    await t.step("SIGINT while preflight waits on a node that does not answer", async () => {
      // web-2 now accepts connections and never says a word (a hung host).
      const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const held: Deno.Conn[] = [];
      const accepting = (async () => {
        for await (const conn of silent) held.push(conn);
      })();
      const config = await Deno.readTextFile(world.config);
      await Deno.writeTextFile(
        world.config,
        config.replace(`port: ${world.ssh.nodes[1].port}`, `port: ${silent.addr.port}`),
      );
      try {
        const run = watchCli(deployArgs(world, "v1.1.0"));
        await eventually(() => held.length > 0, 30_000);
        run.child.kill("SIGINT");
        const result = await run.result;
        assert.equal(result.code, 130, result.stderr);
        const record = JSON.parse(result.stdout) as RunRecord;
        assert.equal(record.status, "aborted");
        assert.match(record.reason!, /during preflight; nothing was changed on any node/);
        assert.equal(await exists(join(world.nodes[0].appDir, ".protocol.lock")), false);
        assert.equal(await active(world.nodes[0]), "v1.2.0", "web-1 changed");
      } finally {
        await Deno.writeTextFile(world.config, config);
        for (const conn of held) conn.close();
        silent.close();
        await accepting.catch(() => {});
      }
    });

    await t.step("the audit log verifies", async () => {
      assert.equal((await verifyAuditLog(world.stateDir)).ok, true);
    });
  } finally {
    await world.cleanup();
  }
});
