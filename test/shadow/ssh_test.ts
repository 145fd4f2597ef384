/**
 * SOP 4 on two real SSH nodes: both run v1.1.0 deployed by SOP 1; shadow:init puts each behind
 * its own front proxy; v1.2.0 is built in the shadow slot, promoted and rolled back while
 * probes keep requesting both live ports over new connections — not one request fails, and
 * the version served changes from old to new and back. Then the shadow-deploy runbook does it
 * end to end, a broken release never reaches live traffic, a held lock is respected, and the
 * audit log has every operation and verifies.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import type { ShadowResult } from "../../src/shadow/mod.ts";
import { cli, exists, ROOT, runArgs } from "../fixtures/helpers.ts";
import { createFleetWorld, type FleetWorld } from "../fixtures/fleet.ts";
import {
  openEarly,
  type Probe,
  probeOnce,
  type ProbeReport,
  shadowBlock,
  slotPortRange,
  startProbe,
  stopShadow,
} from "./helpers.ts";

function shadow(world: FleetWorld, operation: string, ...extra: string[]) {
  return cli([
    `shadow:${operation}`,
    ...extra,
    "--json",
    "--config",
    world.config,
    "--state-dir",
    world.stateDir,
  ]);
}

function reports(result: { code: number; stdout: string; stderr: string }): ShadowResult[] {
  try {
    return JSON.parse(result.stdout) as ShadowResult[];
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

/** Runs `work` while every live port is probed; returns each node's probe report. */
async function underProbes<T>(
  world: FleetWorld,
  work: () => Promise<T>,
): Promise<{ value: T; probes: ProbeReport[] }> {
  const probes: Probe[] = world.nodes.map((node) => startProbe(node.port));
  try {
    await Promise.all(probes.map((probe) => probe.waitFor(10)));
    const from = performance.now();
    const value = await work();
    const to = performance.now();
    await Promise.all(probes.map((probe) => probe.waitFor(10)));
    return { value, probes: await Promise.all(probes.map((probe) => probe.stop({ from, to }))) };
  } catch (error) {
    await Promise.all(probes.map((probe) => probe.stop()));
    throw error;
  }
}

async function served(world: FleetWorld): Promise<(string | undefined)[]> {
  return await Promise.all(world.nodes.map(async (node) => (await probeOnce(node.port)).version));
}

Deno.test("blue-green over SSH: promote and roll back with no failed request", async (t) => {
  const world = await createFleetWorld({ nodes: 2, prefix: "shadow-" });
  await world.writeConfig(shadowBlock({ ports: slotPortRange(), healthTimeout: 6 }));
  const numbers: string[] = [];
  try {
    await t.step("SOP 1 deploys v1.1.0; shadow:init puts each node behind its proxy", async () => {
      const deploy = await cli(runArgs(ROOT, world, "deploy", "v1.1.0", "--yes"));
      assert.equal(deploy.code, 0, deploy.stderr);
      const init = await shadow(world, "init");
      assert.equal(init.code, 0, init.stderr);
      for (const report of reports(init)) {
        assert.equal(report.status, "success", report.message);
        assert.match(report.message, /v1\.1\.0 is live in blue/);
      }
      assert.deepEqual(await served(world), ["v1.1.0", "v1.1.0"]);
      // The app SOP 1 started is gone: the live port now belongs to the proxy.
      for (const node of world.nodes) {
        assert.equal(await exists(join(node.appDir, "app.pid")), false);
      }
      const again = await shadow(world, "init");
      assert.equal(again.code, 0, again.stderr);
      assert.match(reports(again)[0].message, /already initialized/);
    });

    await t.step("shadow:build v1.2.0 runs next to live, healthy, without serving", async () => {
      const build = await shadow(world, "build", "v1.2.0");
      assert.equal(build.code, 0, build.stderr);
      for (const report of reports(build)) {
        assert.deepEqual([report.status, report.from, report.to, report.slot], [
          "success",
          "v1.1.0",
          "v1.2.0",
          "green",
        ]);
        const answer = await probeOnce(report.port!);
        assert.deepEqual(answer, { ok: true, version: "v1.2.0" }, "the shadow port answers");
      }
      assert.deepEqual(await served(world), ["v1.1.0", "v1.1.0"], "live is untouched");
      const status = await shadow(world, "status");
      assert.equal(status.code, 0, status.stderr);
      const [state] = reports(status).map((r) => r.state!);
      assert.deepEqual(
        state.slots.map((s) => [s.slot, s.role, s.version, s.running, s.healthy]),
        [["blue", "live", "v1.1.0", true, true], ["green", "shadow", "v1.2.0", true, true]],
      );
    });

    await t.step("shadow:start: no failed request, v1.1.0 → v1.2.0", async () => {
      // A connection opened before the switch stays with the release it was handed to.
      const early = await openEarly(world.nodes[0].port);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { value: start, probes } = await underProbes(world, () => shadow(world, "start"));
      assert.equal(start.code, 0, start.stderr);
      assert.deepEqual(await early.ask(), { ok: true, version: "v1.1.0" }, "in flight: old slot");
      for (const [i, probe] of probes.entries()) {
        assert.deepEqual(probe.failures, [], world.nodes[i].name);
        assert.deepEqual(probe.versions, ["v1.1.0", "v1.2.0"], world.nodes[i].name);
        assert.ok(probe.requests >= 20);
      }
      const results = reports(start);
      assert.deepEqual(results.map((r) => [r.status, r.from, r.to]), [
        ["success", "v1.1.0", "v1.2.0"],
        ["success", "v1.1.0", "v1.2.0"],
      ]);
      numbers.push(
        `promote: ${probes.map((p) => p.requests).join(" + ")} requests, 0 failed; switch ` +
          `${results.map((r) => r.switch_ms).join("/")} ms, operation ` +
          `${results.map((r) => r.ms).join("/")} ms`,
      );
      const current = await Deno.readLink(join(world.nodes[0].appDir, "current"));
      assert.equal(current, "releases/v1.2.0", "current follows the switch");
      // The release record follows too: a plain rollback or status sees the promotion.
      const appDir = world.nodes[0].appDir;
      assert.equal(await Deno.readTextFile(join(appDir, "previous")), "v1.1.0\n");
      const last = (await Deno.readTextFile(join(appDir, "deploys.log"))).trim().split("\n").at(
        -1,
      )!;
      assert.deepEqual(last.split("\t").slice(1, 4), ["shadow-start", "v1.2.0", "v1.1.0"]);
    });

    await t.step("shadow:rollback: no failed request, v1.2.0 → v1.1.0", async () => {
      const { value: rollback, probes } = await underProbes(world, () => shadow(world, "rollback"));
      assert.equal(rollback.code, 0, rollback.stderr);
      for (const [i, probe] of probes.entries()) {
        assert.deepEqual(probe.failures, [], world.nodes[i].name);
        assert.deepEqual(probe.versions, ["v1.2.0", "v1.1.0"], world.nodes[i].name);
      }
      const results = reports(rollback);
      assert.deepEqual(results.map((r) => [r.status, r.from, r.to, r.slot]), [
        ["success", "v1.2.0", "v1.1.0", "blue"],
        ["success", "v1.2.0", "v1.1.0", "blue"],
      ]);
      numbers.push(
        `rollback: ${probes.map((p) => p.requests).join(" + ")} requests, 0 failed; switch ` +
          `${results.map((r) => r.switch_ms).join("/")} ms`,
      );
    });

    await t.step("the shadow-deploy runbook promotes v1.2.0 end to end", async () => {
      const { value: run, probes } = await underProbes(
        world,
        () => cli([...runArgs(ROOT, world, "shadow-deploy", "v1.2.0", "--yes", "--json")]),
      );
      assert.equal(run.code, 0, run.stderr);
      const record = JSON.parse(run.stdout) as RunRecord;
      assert.deepEqual(record.nodes!.map((n) => [n.target, n.status]), [
        ["web-1", "success"],
        ["web-2", "success"],
      ]);
      for (const probe of probes) {
        assert.deepEqual(probe.failures, []);
        assert.deepEqual(probe.versions.at(-1), "v1.2.0");
      }
      numbers.push(`runbook: ${probes.map((p) => p.requests).join(" + ")} requests, 0 failed`);
      assert.deepEqual(await served(world), ["v1.2.0", "v1.2.0"]);
    });

    await t.step("a plain rollback on a blue-green node refuses, changing nothing", async () => {
      const web2 = world.nodes[1];
      const before = await Deno.readTextFile(join(web2.appDir, "deploys.log"));
      const refused = await cli([
        ...["deploy:rollback", "v1.1.0", "--limit", "web-2", "--yes", "--root", ROOT],
        ...["--config", world.config, "--state-dir", world.stateDir],
      ]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /web-2 runs blue-green .*use shadow:rollback/);
      // The runbook itself refuses too (sop:rollback has no command-line preflight).
      const run = await cli(
        runArgs(ROOT, world, "rollback", "v1.1.0", "--limit", "web-2", "--yes"),
      );
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stderr, /runs blue-green.*nothing was changed/);
      assert.deepEqual(await served(world), ["v1.2.0", "v1.2.0"], "clients get what they got");
      assert.equal(await Deno.readLink(join(web2.appDir, "current")), "releases/v1.2.0");
      assert.equal(await Deno.readTextFile(join(web2.appDir, "deploys.log")), before);
    });

    await t.step("status is red when the health answer names another release", async () => {
      const web2 = world.nodes[1];
      const green = await cli(["status", "--json", "--limit", "web-2", "--config", world.config]);
      assert.equal(green.code, 0, green.stdout);
      const current = join(web2.appDir, "current");
      await Deno.rename(current, `${current}.saved`);
      await Deno.symlink("releases/v1.1.0", current);
      try {
        const red = await cli(["status", "--json", "--limit", "web-2", "--config", world.config]);
        assert.equal(red.code, 1);
        const [row] = JSON.parse(red.stdout);
        assert.ok(
          row.problems.includes(
            "the health answer names v1.2.0, but the active release is v1.1.0 " +
              "(blue-green: see shadow:status)",
          ),
          row.problems.join("; "),
        );
      } finally {
        await Deno.rename(`${current}.saved`, current);
      }
    });

    await t.step("a broken release fails its build and never takes traffic", async () => {
      const build = await shadow(world, "build", "v1.3.0");
      assert.equal(build.code, 1, build.stderr);
      const [web1, web2] = reports(build) as (ShadowResult | { status: string })[];
      assert.equal(web1.status, "failure");
      assert.match((web1 as ShadowResult).message, /v1\.3\.0 in (blue|green) is not healthy/);
      assert.match((web1 as ShadowResult).message, /503.*live is untouched/);
      assert.equal(web2.status, "skipped", "the rollout stops at the first failed node");
      assert.deepEqual(await served(world), ["v1.2.0", "v1.2.0"]);
      // The standby v1.1.0 kept running: shadow:rollback still has somewhere to go.
      const status = await shadow(world, "status", "--limit", "web-1");
      assert.equal(status.code, 0, status.stderr);
      const [state] = reports(status).map((r) => r.state!);
      assert.deepEqual(
        state.slots.map((s) => [s.role, s.version, s.running]).sort(),
        [["live", "v1.2.0", true], ["standby", "v1.1.0", true]],
      );
      const start = await shadow(world, "start", "--limit", "web-1");
      assert.equal(start.code, 1);
      assert.match(reports(start)[0].message, /nothing to promote.*standby v1\.1\.0/);
    });

    await t.step("a lock held by another run is respected", async () => {
      const lock = join(world.nodes[1].appDir, ".protocol.lock");
      const holder = { run: "other", runbook: "deploy", operator: "bob", host: "h", since: "x" };
      await Deno.writeTextFile(lock, JSON.stringify(holder) + "\n");
      const rollback = await shadow(world, "rollback", "--limit", "web-2");
      assert.equal(rollback.code, 1);
      assert.match(reports(rollback)[0].message, /locked by run other/);
      assert.deepEqual(await served(world), ["v1.2.0", "v1.2.0"]);
      await Deno.remove(lock);
    });

    await t.step(
      "after a reboot (proxy and slots gone), shadow:init brings live back",
      async () => {
        await stopShadow(world.nodes[0].appDir);
        assert.equal((await probeOnce(world.nodes[0].port)).ok, false, "nothing listens");
        const init = await shadow(world, "init", "--limit", "web-1");
        assert.equal(init.code, 0, init.stderr);
        assert.match(reports(init)[0].message, /v1\.2\.0 is live in green/);
        assert.deepEqual(await served(world), ["v1.2.0", "v1.2.0"]);
      },
    );

    await t.step("every operation is a signed shadow entry; no lock is left", async () => {
      const entries = (await readAuditEntries(world.stateDir)).filter((e) =>
        e.action === "shadow" && e.operation !== undefined
      );
      const of = (operation: string) =>
        entries.filter((e) => e.operation === operation).map((e) =>
          [e.target, e.from, e.to, e.status].join(" ")
        );
      assert.deepEqual(of("start").slice(0, 2), [
        "web-1 v1.1.0 v1.2.0 success",
        "web-2 v1.1.0 v1.2.0 success",
      ]);
      assert.deepEqual(of("rollback").slice(0, 2), [
        "web-1 v1.2.0 v1.1.0 success",
        "web-2 v1.2.0 v1.1.0 success",
      ]);
      const refused = entries.filter((e) => e.operation === "rollback").at(-1)!;
      assert.deepEqual([refused.target, refused.status], ["web-2", "failure"]);
      assert.match(String(refused.reason), /locked by run other/);
      assert.ok(of("build").includes("web-1 v1.2.0 v1.3.0 failure"));
      assert.ok(entries.some((e) => e.operation === "build" && e.status === "skipped"));
      const runbook = entries.filter((e) => typeof e.run === "string" && e.run.includes("@"));
      assert.ok(runbook.length >= 8, "the runbook's steps wrote their own entries");
      assert.equal((await verifyAuditLog(world.stateDir)).ok, true);
      for (const node of world.nodes) {
        assert.equal(await exists(join(node.appDir, ".protocol.lock")), false, node.name);
      }
      console.log(`      ${numbers.join("\n      ")}`);
    });
  } finally {
    await Promise.all(world.nodes.map((node) => stopShadow(node.appDir)));
    await world.cleanup();
  }
});
