/**
 * SOP 1 and SOP 6 check the node's key and permissions (security:audit file-permissions) as
 * prerequisites, in the preflight over real sshd nodes: a world-readable key or an open state
 * directory on web-2 refuses the run before anything changes on any node (exit 1, naming the
 * node and the check); a node with no key at all is not refused for it (the key checks are not
 * applicable there: soc2's encrypted-secrets is what demands a key, and SOP 2 installs it).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import $ from "dax";
import type { RunRecord } from "../../src/state/runs.ts";
import { readAuditEntries } from "../../src/audit/mod.ts";
import { cli, exists, ROOT, runArgs } from "../fixtures/helpers.ts";
import { createFleetWorld, type FleetNode, type FleetWorld } from "../fixtures/fleet.ts";
import { active, deployArgs } from "../targets/fleet_helpers.ts";

const stateOf = (world: FleetWorld, node: FleetNode) => join(world.dir, node.name, "state");

/** Nothing changed anywhere: both nodes on `release`, no `version` fetched, no lock left. */
async function untouched(world: FleetWorld, release: string, version: string): Promise<void> {
  assert.deepEqual(await Promise.all(world.nodes.map(active)), [release, release]);
  for (const node of world.nodes) {
    assert.equal(await exists(join(node.appDir, "releases", version)), false, node.name);
    assert.equal(await exists(join(node.appDir, ".protocol.lock")), false, node.name);
  }
}

Deno.test("SOP 1 and SOP 6 refuse a node with an open key before any change", async (t) => {
  const world = await createFleetWorld({ nodes: 2, prefix: "prereq-" });
  const [web1, web2] = world.nodes;
  const state = ["--config", world.config, "--state-dir", world.stateDir];
  try {
    await t.step("no key on any node: not applicable, so fresh nodes take v1.1.0", async () => {
      assert.equal(await exists(join(stateOf(world, web1), "key")), false);
      const result = await cli(deployArgs(world, "v1.1.0"));
      assert.equal(result.code, 0, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      for (const node of record.nodes!) {
        const check = node.steps.find((s) => s.phase === "prerequisite" && s.kind === "policy");
        assert.equal(check?.status, "success", JSON.stringify(node.steps));
      }
      assert.match(result.stderr, /\[web-2\].*key\.mode: not applicable, .*\/key does not exist/);
      // The same rule in soc2: with neither key nor state directory, key-permissions does not
      // apply at all; encrypted-secrets is the check that wants a key.
      const soc2 = await cli([
        ...["soc2:check", "--target", "web-1", "--format", "json", ...state],
      ]);
      const results = (JSON.parse(soc2.stdout) as { results: { id: string; status: string }[] })
        .results;
      const status = (id: string) => results.find((r) => r.id === id)?.status;
      assert.equal(status("key-permissions"), "not_applicable", soc2.stdout);
      assert.equal(status("encrypted-secrets"), "fail", soc2.stdout);
    });

    await t.step("the key installed as SOP 2 does (0600 in 0700) passes", async () => {
      assert.equal((await cli(["secrets:setup", "--state-dir", world.stateDir])).code, 0);
      for (const node of world.nodes) {
        const scp = await cli(["secrets:key", `--scp=${node.name}`, ...state]);
        assert.equal(scp.code, 0, scp.stderr);
      }
      assert.equal((await Deno.stat(join(stateOf(world, web2), "key"))).mode! & 0o777, 0o600);
    });

    await t.step(
      "web-2's key readable by everyone: refused, nothing changed anywhere",
      async () => {
        await Deno.chmod(join(stateOf(world, web2), "key"), 0o644);
        const result = await cli(deployArgs(world, "v1.2.0"));
        assert.equal(result.code, 1, result.stderr);
        const record = JSON.parse(result.stdout) as RunRecord;
        assert.match(
          record.reason!,
          /^preflight failed on web-2: web-2: prerequisites not met: .*file-permissions \(the key's mode is 0644; other users can read it \(0600 at most\)/,
        );
        assert.match(record.reason!, /nothing was changed on any node/);
        assert.deepEqual(record.nodes!.map((n) => [n.target, n.status]), [
          ["web-1", "skipped"],
          ["web-2", "failure"],
        ]);
        assert.match(result.stderr, /Preflight failed on 1 of 2 node\(s\)/);
        await untouched(world, "v1.1.0", "v1.2.0");
        const deploys = (await readAuditEntries(world.stateDir))
          .filter((e) => e.action === "deploy" && e.to === "v1.2.0");
        assert.deepEqual(deploys, [], "a refused deploy deployed nothing");
        await Deno.chmod(join(stateOf(world, web2), "key"), 0o600);
      },
    );

    await t.step("web-2's state directory open to others: refused, naming it", async () => {
      await Deno.chmod(stateOf(world, web2), 0o755);
      const result = await cli(deployArgs(world, "v1.2.0"));
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.match(
        record.reason!,
        /preflight failed on web-2: .*file-permissions \(the state directory's mode is 0755/,
      );
      await untouched(world, "v1.1.0", "v1.2.0");
    });

    await t.step("SOP 6 is refused before its git work and before any node", async () => {
      const work = join(world.dir, "hotfix-clone");
      await $`git clone --quiet ${world.repo} ${work}`.quiet();
      const result = await cli(
        runArgs(ROOT, world, "hotfix", "v1.1.0", "-p", `workdir=${work}`, "--yes", "--json"),
      );
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.match(record.reason!, /preflight failed on web-2: .*file-permissions/);
      assert.equal(record.nodes!.flatMap((n) => n.steps).some((s) => s.phase === "step"), false);
      const branch = await $`git -C ${work} rev-parse --verify --quiet hotfix/critical-fix`
        .noThrow().quiet();
      assert.notEqual(branch.code, 0, "no hotfix branch was created");
      const tag = await $`git -C ${world.repo} rev-parse --verify --quiet refs/tags/v1.1.1`
        .noThrow().quiet();
      assert.notEqual(tag.code, 0, "no patch release was tagged");
      await untouched(world, "v1.1.0", "v1.1.1");
    });

    await t.step("fixed: the same deploy goes through", async () => {
      await Deno.chmod(stateOf(world, web2), 0o700);
      const result = await cli(deployArgs(world, "v1.2.0"));
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await Promise.all(world.nodes.map(active)), ["v1.2.0", "v1.2.0"]);
    });
  } finally {
    await world.cleanup();
  }
});
