/**
 * The CLI over real SSH nodes: `targets --check`, deploy locks (contention, stale locks forced
 * with an audited reason, release on Ctrl-C), quoting of parameters on the remote shell, an
 * unreachable node in a parallel run, and `on:` naming no node refused before anything runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import { freePort } from "../../src/demo/app.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import {
  alive,
  cli,
  eventually,
  exists,
  fixture,
  listDir,
  runArgs,
  spawnCli,
} from "../fixtures/helpers.ts";
import { createFleetWorld, type FleetWorld } from "../fixtures/fleet.ts";

const PROJECT = fixture("projects", "ssh");

const args = (world: FleetWorld, runbook: string, ...extra: string[]) =>
  runArgs(PROJECT, world, runbook, ...extra);

Deno.test("targets and locks over SSH", async (t) => {
  const world = await createFleetWorld({ nodes: 2, prefix: "ssh-cli-" });
  const markers = join(world.dir, "markers");
  await Deno.mkdir(markers);
  const unreachablePort = freePort();
  await world.writeConfig(`vars: { markers: ${JSON.stringify(markers)} }\n`);
  const lockOf = (i: number) => join(world.nodes[i].appDir, ".protocol.lock");
  try {
    await t.step("targets lists local and the nodes with their groups", async () => {
      const result = await cli(["targets", "--config", world.config]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^local\s+this machine$/m);
      assert.match(
        result.stdout,
        new RegExp(
          `^web-1\\s+${world.ssh.user}@127\\.0\\.0\\.1:${world.ssh.nodes[0].port}\\s+\\[web\\]$`,
          "m",
        ),
      );
    });

    await t.step("targets --check reports each node's user, OS and lock", async () => {
      const result = await cli(["targets", "--check", "--json", "--config", world.config]);
      assert.equal(result.code, 0, result.stderr);
      const rows = JSON.parse(result.stdout);
      assert.deepEqual(rows.map((r: { name: string; ok: boolean }) => [r.name, r.ok]), [
        ["local", true],
        ["web-1", true],
        ["web-2", true],
      ]);
      for (const row of rows) {
        assert.equal(row.user, world.ssh.user);
        assert.match(row.os, /Linux/);
        assert.equal(row.lock, null);
      }
    });

    await t.step(
      "a parameter with quotes, $, spaces and ; arrives intact on every node",
      async () => {
        const payloads = [
          `it's "quoted" $HOME $(id) \`id\` ; rm -rf / & echo pwned`,
          "a\nb\\c",
          "*",
        ];
        for (const text of payloads) {
          const result = await cli(args(world, "echo", text));
          assert.equal(result.code, 0, result.stderr);
          for (const node of world.nodes) {
            assert.equal(await Deno.readTextFile(join(markers, `${node.name}.word`)), text);
            assert.equal(await Deno.readTextFile(join(markers, `${node.name}.env`)), text);
          }
        }
      },
    );

    await t.step("an `on:` naming no node or group is refused where it is written", async () => {
      const result = await cli(args(world, "stray"));
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /runbooks\/stray\.yaml:9:9: on: unknown target "db"; known: local, all, app, web-1, web-2, web/,
      );
      assert.equal(await exists(join(markers, "ran")), false);
    });

    let first!: ReturnType<typeof spawnCli>;
    await t.step("a second run is refused while the first holds the locks", async () => {
      first = spawnCli(args(world, "hold", "-p", "seconds=60"));
      const started = await eventually(async () =>
        (await listDir(markers)).filter((name) => name.endsWith(".sleep.pid")).length === 2
      );
      assert.ok(started, "the first run never started its steps");
      const second = await cli([...args(world, "hold", "-p", "seconds=0"), "--json"]);
      assert.equal(second.code, 1, second.stderr);
      const record = JSON.parse(second.stdout) as RunRecord;
      for (const node of record.nodes!) {
        assert.equal(node.status, "failure");
        assert.match(
          node.reason!,
          new RegExp(
            `^${node.target}: locked by run \\S+@${node.target} \\(hold, \\S+@\\S+\\) since \\S+ \\(\\d+s ago\\)`,
          ),
        );
        assert.equal(node.steps.length, 0);
      }
    });

    await t.step("Ctrl-C stops the steps on every node and releases the locks", async () => {
      const pids = await Promise.all(
        world.nodes.map(async (node) =>
          Number(await Deno.readTextFile(join(markers, `${node.name}.sleep.pid`)))
        ),
      );
      first.child.kill("SIGINT");
      const result = await first.result;
      assert.equal(result.code, 130, result.stderr);
      for (const pid of pids) {
        assert.ok(
          await eventually(async () => !await alive(pid), 10_000),
          `sleep ${pid} survived`,
        );
      }
      assert.equal(await exists(lockOf(0)), false);
      assert.equal(await exists(lockOf(1)), false);
    });

    await t.step(
      "a stale lock refuses runs until --force-unlock, whose reason is audited",
      async () => {
        const stale = {
          run: "20260101T000000Z-dead00@web-1",
          runbook: "deploy",
          operator: "ghost",
          host: "laptop",
          since: "2026-01-01T00:00:00.000Z",
        };
        await Deno.writeTextFile(lockOf(0), JSON.stringify(stale) + "\n");
        const refused = await cli(args(world, "hold", "-p", "seconds=0", "--limit", "web-1"));
        assert.equal(refused.code, 1);
        assert.match(
          refused.stderr,
          /web-1: locked by run 20260101T000000Z-dead00@web-1 \(deploy, ghost@laptop\) since 2026-01-01T00:00:00.000Z .*--force-unlock/,
        );

        const forced = await cli(
          args(
            world,
            "hold",
            "-p",
            "seconds=0",
            "--limit",
            "web-1",
            "--force-unlock",
            "laptop died mid-deploy",
          ),
        );
        assert.equal(forced.code, 0, forced.stderr);
        const entry = (await readAuditEntries(world.stateDir)).find((e) =>
          e.action === "lock.force"
        )!;
        assert.equal(entry.target, "web-1");
        assert.equal(entry.reason, "laptop died mid-deploy");
        assert.match(String(entry.holder), /^20260101T000000Z-dead00@web-1 \(ghost@laptop/);
        assert.equal(await exists(lockOf(0)), false);
      },
    );

    await t.step(
      "an unreachable node fails alone in a parallel run, named with ssh's error",
      async () => {
        // The config ends inside `nodes:`, so the extra text adds a node no sshd listens for.
        await world.writeConfig(
          `  web-9: { host: 127.0.0.1, port: ${unreachablePort} }\n` +
            `vars: { markers: ${JSON.stringify(markers)} }\n`,
        );
        const result = await cli([...args(world, "unreachable"), "--json"]);
        assert.equal(result.code, 1, result.stderr);
        const record = JSON.parse(result.stdout) as RunRecord;
        assert.deepEqual(record.nodes!.map((n) => [n.target, n.status]), [
          ["web-1", "success"],
          ["web-2", "success"],
          ["web-9", "failure"],
        ]);
        assert.match(
          record.nodes![2].reason!,
          new RegExp(`^web-9: cannot connect: .*port ${unreachablePort}.*Connection refused`),
        );
        assert.ok(await exists(join(markers, "web-1.ran")));
        const check = await cli(["targets", "--check", "--config", world.config]);
        assert.equal(check.code, 1);
        assert.match(check.stdout, /✘ web-9 .*cannot connect.*Connection refused/);
      },
    );
  } finally {
    await world.cleanup();
  }
});
