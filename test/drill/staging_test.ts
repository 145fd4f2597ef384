/**
 * A drill on a staging node over SSH: `drill compromised-node --target web-1` plants a webshell
 * and a miner on web-1 (marked `staging: true`), SOP 8 runs there and contains, eradicates and
 * recovers, the faults are removed, and the verdict, exit code and audit entry agree. A node
 * not marked staging, and a fault that only the sandbox can hold, are refused before anything.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import type { DrillReport } from "../../src/drill/mod.ts";
import { cli, exclusive, exists, ROOT } from "../fixtures/helpers.ts";
import { createFleetWorld } from "../fixtures/fleet.ts";

Deno.test(
  "drill on a staging node: faults over SSH, SOP 8 there, an honest verdict",
  exclusive("processes", async (t) => {
    const world = await createFleetWorld({ nodes: 2, prefix: "drill-staging-" });
    const state = ["--config", world.config, "--state-dir", world.stateDir];
    const drill = (...args: string[]) =>
      cli(["drill", ...args, "--format", "json", "--root", ROOT, ...state]);
    try {
      // web-1 is the staging node; web-2 is not.
      const text = await Deno.readTextFile(world.config);
      await Deno.writeTextFile(
        world.config,
        text.replace(/( {2}web-1:\n(?: {4}.*\n)*? {4}groups: \[web\]\n)/, "$1    staging: true\n"),
      );
      assert.match(await Deno.readTextFile(world.config), /staging: true/);

      await t.step("refused before anything: a node not marked staging", async () => {
        const result = await drill("compromised-node", "--target", "web-2");
        assert.equal(result.code, 2);
        assert.match(result.stderr, /web-2 is not marked `staging: true` .*nodes\.web-2\.staging/);
        assert.deepEqual(await readAuditEntries(world.stateDir).catch(() => []), []);
      });

      await t.step("refused: faults that only the sandbox can hold", async () => {
        const result = await drill("incident-response", "--target", "web-1");
        assert.equal(result.code, 2);
        assert.match(result.stderr, /audit-log-edit, failed-release cannot be injected on a node/);
      });

      await t.step("web-1 runs v1.2.0 with its key", async () => {
        assert.equal((await cli(["secrets:setup", "--state-dir", world.stateDir])).code, 0);
        const scp = await cli(["secrets:key", "--scp=web-1", ...state]);
        assert.equal(scp.code, 0, scp.stderr);
        const deploy = await cli([
          ...["deploy:push", "v1.2.0", "--limit", "web-1", "--yes", "--root", ROOT],
          ...state,
        ]);
        assert.equal(deploy.code, 0, deploy.stderr);
      });

      await t.step("drill compromised-node --target web-1 passes, and says so", async () => {
        const result = await drill("compromised-node", "--target", "web-1");
        assert.equal(result.code, 0, result.stderr.slice(-3000));
        const report = JSON.parse(result.stdout) as DrillReport;
        assert.equal(report.passed, true, report.failures.join("; "));
        assert.deepEqual(report.faults.map((f) => [f.type, f.detected, f.cleaned]), [
          ["webshell", true, true],
          ["miner", true, true],
        ]);
        assert.equal(report.sandbox, `web-1:${world.nodes[0].appDir}`);
        const planted = join(world.nodes[0].appDir, "current", "public", "uploads", "avatar.php");
        assert.equal(await exists(planted), false);
        const pid = Number(/pid (\d+)/.exec(report.faults[1].what)![1]);
        const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
        assert.ok(stat === "" || /\) [ZX] /.test(stat), `the miner ${pid} still runs`);
        const last = (await readAuditEntries(world.stateDir)).filter((e) => e.action === "drill")
          .at(-1)!;
        assert.deepEqual([last.drill, last.status, last.passed], [true, "success", true]);
        const health = await fetch(world.nodes[0].healthUrl);
        await health.body?.cancel();
        assert.equal(health.status, 200);
      });
    } finally {
      await world.cleanup();
    }
  }),
);
