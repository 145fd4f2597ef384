/**
 * `policy:` steps in runbooks: a passing check as a prerequisite, a failing one as a success
 * criterion failing the run, results in the run record and the audit log, and a check that
 * does not exist refused before anything runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import { cli, exists, fixture, runArgs, tempWorld } from "../fixtures/helpers.ts";

const ROOT = fixture("projects", "policy-step");

Deno.test("policy steps", async (t) => {
  const world = await tempWorld({ prefix: "policy-step-" });
  const env = { MARKER_DIR: world.markers };
  try {
    await t.step(
      "a passing prerequisite lets the steps run; a failing criterion fails the run",
      async () => {
        const result = await cli([...runArgs(ROOT, world, "x"), "--json"], { env });
        assert.equal(result.code, 1, result.stderr);
        const record = JSON.parse(result.stdout) as RunRecord;
        const [prerequisite] = record.steps.filter((s) => s.phase === "prerequisite");
        assert.equal(prerequisite.status, "success");
        assert.equal(prerequisite.kind, "policy");
        assert.ok(await exists(join(world.markers, "ran")));
        const [criterion] = record.steps.filter((s) => s.phase === "success");
        assert.equal(criterion.status, "failure");
        assert.match(criterion.message!, /failed: encrypted-secrets/);
        assert.ok(criterion.tail!.some((line) => /FAIL\s+high\s+encrypted-secrets/.test(line)));
        assert.match(result.stderr, /PASS\s+medium\s+deploy-strategy/);
      },
    );

    await t.step("each evaluation is a signed policy entry with its counts", async () => {
      const entries = (await readAuditEntries(world.stateDir)).filter((e) => e.action === "policy");
      assert.deepEqual(entries.map((e) => [e.policy, e.target, e.pass, e.fail, e.status]), [
        ["soc2/deploy-strategy", "local", 1, 0, "success"],
        ["soc2/encrypted-secrets", "local", 0, 1, "failure"],
      ]);
    });

    await t.step("a check the policy does not have is refused before anything runs", async () => {
      const result = await cli(["validate", "--root", ROOT]);
      assert.equal(result.code, 2);
      assert.match(
        result.stdout,
        /runbooks\/unknown-check\.yaml:6:13: steps\[0\]\.policy: policy "soc2" has no check "no-such-check"; checks: encrypted-secrets, audit-logging/,
      );
    });
  } finally {
    await world.cleanup();
  }
});
