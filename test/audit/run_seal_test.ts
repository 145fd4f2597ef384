// The end of a real `run`: the key evolves, the checkpoint goes to the witness named in
// protocol.yaml, and a witness key that is wrong is refused up front with file:line:col.
import assert from "node:assert/strict";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { cli, fixture, tempWorld } from "../fixtures/helpers.ts";
import { startHttpWitness } from "./witness_helpers.ts";

Deno.test("a run ends sealed and published to the configured witness", async (t) => {
  const world = await tempWorld({ prefix: "audit-seal-" });
  const w = await startHttpWitness(world.dir);
  const base = await Deno.readTextFile(world.config);
  const common = [
    "--root",
    fixture("projects", "marker"),
    "--config",
    world.config,
    "--state-dir",
    world.stateDir,
    "--yes",
  ];
  const env = { MARKER_DIR: world.markers };
  try {
    await t.step("two runs: two key evolutions, two checkpoints at the witness", async () => {
      await Deno.writeTextFile(
        world.config,
        `${base}audit:\n  origin: test.example/seal\n  witness:\n    http: ${w.url}\n`,
      );
      for (let i = 0; i < 2; i++) {
        const r = await cli(["run", "x", ...common], { env });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /audit checkpoint: \d+ entries \(.*\), .*; published to http /);
        // The second run's seal starts from the first run's checkpoint.
        if (i === 1) assert.match(r.stderr, /\(\d+ verified since the checkpoint of \d+\)/);
      }
      const rotated = (await readAuditEntries(world.stateDir)).filter((e) =>
        e.action === "key.rotated"
      );
      assert.equal(rotated.length, 2);
      const held = await (await fetch(`${w.url}/checkpoints?origin=test.example/seal`)).json();
      assert.equal(held.checkpoints.length, 2);
      const settings = { origin: "test.example/seal", witness: { http: w.url, branch: "x" } };
      const r = await verifyAuditLog(world.stateDir, { witness: settings });
      assert.equal(r.ok, true, JSON.stringify(r.firstBad));
      assert.equal(r.checkpoints.length, 2);
      const v = await cli([
        "audit:verify",
        "--config",
        world.config,
        "--state-dir",
        world.stateDir,
      ]);
      assert.equal(v.code, 0, v.stderr);
      assert.equal(v.stdout.match(/^checkpoint: /gm)?.length, 2);
    });

    await t.step("a wrong witness setting is refused before anything runs", async () => {
      await Deno.writeTextFile(
        world.config,
        `${base}audit:\n  witness:\n    http: ftp://nowhere\n    bogus: 1\n`,
      );
      const r = await cli(["run", "x", ...common], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /protocol\.yaml:\d+:\d+/);
      assert.match(r.stderr, /audit\.witness/);
    });
  } finally {
    await w.stop();
    await world.cleanup();
  }
});
