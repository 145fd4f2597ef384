/**
 * The demo scenario end to end, through the CLI a user types: a real git repository with release
 * tags, a real app process on a loopback port, SOP 1 deploying v1.2.0, the broken v1.3.0 failing
 * its health check and rolling back by itself, and deploys of what is not a release refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import $ from "dax";
import { createDemoWorld, type DemoWorld, stopDemoApp } from "../../src/demo/app.ts";
import { generateSigningKey } from "../../src/audit/mod.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import { ensureStateDir } from "../../src/state/mod.ts";
import { cli, listDir, ROOT, runArgs } from "../fixtures/helpers.ts";

async function health(world: DemoWorld): Promise<{ status: number; version?: string }> {
  const response = await fetch(world.healthUrl);
  const body = await response.json() as { version?: string };
  return { status: response.status, version: body.version };
}

/** What a deploy could change: the app directory's entries, its history and active release. */
async function snapshot(world: DemoWorld): Promise<Record<string, unknown>> {
  const read = (path: string) => Deno.readTextFile(path).catch(() => undefined);
  return {
    app: await listDir(world.appDir),
    releases: await listDir(join(world.appDir, "releases")),
    history: await read(join(world.appDir, "history")),
    current: await Deno.readLink(join(world.appDir, "current")).catch(() => undefined),
    pid: await read(world.pidFile),
    tags: await $`git -C ${join(world.appDir, "repo.git")} tag`.quiet().text(),
  };
}

Deno.test("demo: deploy v1.2.0, broken v1.3.0 rolls back, non-releases refused", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "runbook-demo-" });
  const world = await createDemoWorld(dir);
  const deploy = (version: string) =>
    cli(runArgs(ROOT, world, "deploy", version, "--yes", "--json"));
  try {
    await ensureStateDir(world.stateDir);
    await generateSigningKey(world.stateDir);

    await t.step("deploy v1.2.0: exit 0 and the app answers on v1.2.0", async () => {
      const result = await deploy("v1.2.0");
      assert.equal(result.code, 0, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "success");
      assert.equal(record.failure_path, undefined);
      assert.ok(record.steps.some((s) => s.phase === "before" && s.status === "acknowledged"));
      assert.deepEqual(await health(world), { status: 200, version: "v1.2.0" });
      assert.equal(await Deno.readLink(join(world.appDir, "current")), "releases/v1.2.0");
    });

    await t.step("deploy v1.3.0: exit 1, rolled back by itself to v1.2.0", async () => {
      const result = await deploy("v1.3.0");
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "failure");
      assert.match(record.reason!, /success criteria not met: .*got 503/);
      assert.equal(record.failure_path?.runbook, "rollback");
      assert.equal(record.failure_path?.status, "success");
      assert.deepEqual(record.failure_path?.params, { failed: "v1.3.0" });
      assert.deepEqual(await health(world), { status: 200, version: "v1.2.0" });
      assert.equal(await Deno.readLink(join(world.appDir, "current")), "releases/v1.2.0");
      assert.deepEqual(
        (await Deno.readTextFile(join(world.appDir, "history"))).trim().split("\n"),
        ["v1.2.0", "v1.3.0", "v1.2.0"],
      );
    });

    await t.step("deploy of a tag that does not exist: exit 1, nothing changes", async () => {
      const before = await snapshot(world);
      const result = await deploy("v9.9.9");
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /no tag v9\.9\.9 in .*app\.git/);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.match(record.reason!, /^prerequisites not met: no tag v9\.9\.9 in /);
      assert.ok(record.steps.every((s) => s.phase === "prerequisite"), "a step ran");
      assert.equal(record.failure_path, undefined);
      assert.deepEqual(await snapshot(world), before);
      assert.deepEqual(await health(world), { status: 200, version: "v1.2.0" });
    });

    await t.step("deploy of a branch name is refused", async () => {
      await $`git -C ${world.repo} branch v2.0.0 v1.2.0`.quiet();
      await $`git -C ${world.repo} branch feature/login v1.2.0`.quiet();
      const before = await snapshot(world);

      const named = await deploy("main");
      assert.equal(named.code, 2, named.stderr);
      assert.match(named.stderr, /parameter "version" must match/);
      const slashed = await deploy("feature/login");
      assert.equal(slashed.code, 2, slashed.stderr);

      // A branch named like a release is still not a tag: the prerequisite refuses it.
      const versioned = await deploy("v2.0.0");
      assert.equal(versioned.code, 1, versioned.stderr);
      assert.match(versioned.stderr, /no tag v2\.0\.0 in/);

      assert.deepEqual(await snapshot(world), before);
      assert.deepEqual(await health(world), { status: 200, version: "v1.2.0" });
    });
  } finally {
    await stopDemoApp(world);
    await Deno.remove(dir, { recursive: true });
  }
});
