/**
 * SOP 6 against a real remote (the fleet's bare app repository) and two real SSH nodes:
 * release:create tags and pushes the next version and audits it; the hotfix runbook branches
 * from the production tag, creates the patch release, deploys it to both nodes, and merges the
 * fix back to main — stopping for the human gate unless --yes acknowledges it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import $ from "dax";
import type { NodeStatus } from "../../src/release/mod.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { cli, exclusive, ROOT, runArgs } from "../fixtures/helpers.ts";
import { createFleetWorld, type FleetWorld } from "../fixtures/fleet.ts";

/** A working clone of the fleet's app repository, with a committer identity. */
async function workingClone(world: FleetWorld, name: string): Promise<string> {
  const dir = join(world.dir, name);
  await $`git clone --quiet ${world.repo} ${dir}`.quiet();
  await $`git -C ${dir} config user.name Hotfixer`;
  await $`git -C ${dir} config user.email hotfix@example.com`;
  return dir;
}

async function commitFile(dir: string, file: string, text: string): Promise<string> {
  await Deno.writeTextFile(join(dir, file), text);
  await $`git -C ${dir} add -A`;
  await $`git -C ${dir} commit --quiet -m ${`Add ${file}`}`;
  return (await $`git -C ${dir} rev-parse HEAD`.text()).trim();
}

/** Makes the demo app's `version` the name of the release directory it runs from (uncommitted). */
async function releaseNamedByDirectory(dir: string): Promise<void> {
  const file = join(dir, "server.ts");
  const source = await Deno.readTextFile(file);
  const named = source.replace(
    /^const version = "v[^"]*";$/m,
    'const version = new URL(import.meta.url).pathname.split("/").at(-2)!;',
  );
  assert.notEqual(named, source);
  await Deno.writeTextFile(file, named);
}

const remoteTag = async (world: FleetWorld, tag: string) =>
  (await $`git -C ${world.repo} rev-parse --verify --quiet ${`refs/tags/${tag}^{commit}`}`
    .noThrow().text()).trim();

// The hotfix's security:audit looks at the machine's process table, where other test files
// plant a miner on purpose: take turns with them.
Deno.test(
  "release:create and the hotfix runbook against a real remote and two nodes",
  exclusive("processes", async (t) => {
    const world = await createFleetWorld({ nodes: 2, prefix: "release-hotfix-" });
    const state = ["--state-dir", world.stateDir];
    try {
      const main = await workingClone(world, "main-clone");

      await t.step("release:create --minor tags HEAD as v1.4.0 and pushes it", async () => {
        const commit = await commitFile(main, "FEATURE.md", "a feature\n");
        await $`git -C ${main} push --quiet origin main`; // the reviewed change is on main
        const dry = await cli(["release:create", "--minor", "--dry-run", "--dir", main, ...state]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, /would create v1\.4\.0 \(after v1\.3\.0\)/);
        assert.equal(await remoteTag(world, "v1.4.0"), "");

        const result = await cli(["release:create", "--minor", "--json", "--dir", main, ...state]);
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(JSON.parse(result.stdout), {
          version: "v1.4.0",
          from: "v1.3.0",
          commit,
          remote: world.repo,
        });
        assert.equal(await remoteTag(world, "v1.4.0"), commit);
        const type = await $`git -C ${world.repo} cat-file -t refs/tags/v1.4.0`.text();
        assert.equal(type.trim(), "tag", "an annotated tag");
      });

      await t.step("release:create refuses a HEAD already released, and a dirty tree", async () => {
        const again = await cli(["release:create", "--dir", main, ...state]);
        assert.equal(again.code, 1);
        assert.match(again.stderr, /already released as v1\.4\.0/);
        await Deno.writeTextFile(join(main, "FEATURE.md"), "edited\n");
        const dirty = await cli(["release:create", "--dir", main, ...state]);
        assert.equal(dirty.code, 1);
        assert.match(dirty.stderr, /uncommitted changes/);
        await $`git -C ${main} checkout --quiet -- FEATURE.md`;
      });

      await t.step("v1.2.0 is in production on a node set up as SOP 2 says", async () => {
        // The hotfix verifies with security:audit, which wants the encryption key in place.
        const key = await cli(["secrets:setup", ...state]);
        assert.equal(key.code, 0, key.stderr);
        for (const node of world.nodes) {
          const scp = await cli([
            "secrets:key",
            `--scp=${node.name}`,
            "--config",
            world.config,
            ...state,
          ]);
          assert.equal(scp.code, 0, scp.stderr);
        }
        const result = await cli(runArgs(ROOT, world, "deploy", "v1.2.0", "--yes"));
        assert.equal(result.code, 0, result.stderr);
      });

      const work = await workingClone(world, "hotfix-clone");
      const hotfix = (...extra: string[]) =>
        runArgs(ROOT, world, "hotfix", "v1.2.0", "-p", `workdir=${work}`, ...extra);

      await t.step(
        "without a terminal and without --yes, the hotfix stops before anything",
        async () => {
          const result = await cli(hotfix(), { env: { CI: "true" } });
          assert.equal(result.code, 2);
          assert.match(result.stderr, /Fix committed on/);
          assert.match(result.stderr, /pass --yes/);
        },
      );

      let fix = "";
      await t.step("the fix is committed on a branch from the production tag", async () => {
        // The runbook's health checks hold the answer to the patch release, so the fix first
        // makes the app name its release by its release directory (as apps name theirs by the
        // tag), a commit main takes too, so the merge back is clean.
        await $`git -C ${work} checkout --quiet -b hotfix/critical-fix v1.2.0`;
        await releaseNamedByDirectory(work);
        await $`git -C ${work} commit --quiet -am ${"Name the release by its directory"}`;
        await $`git -C ${main} fetch --quiet ${work} hotfix/critical-fix`;
        await $`git -C ${main} merge --quiet -s ours --no-commit FETCH_HEAD`;
        await releaseNamedByDirectory(main);
        await $`git -C ${main} commit --quiet -am ${"Merge: name the release by its directory"}`;
        await $`git -C ${main} push --quiet origin main`;
        fix = await commitFile(work, "FIX.md", "the critical fix\n");
      });

      await t.step(
        "hotfix v1.2.0: patch release v1.2.1 deployed everywhere, merged to main",
        async () => {
          const result = await cli(hotfix("--yes"));
          assert.equal(result.code, 0, result.stderr);
          assert.equal(await remoteTag(world, "v1.2.1"), fix, "v1.2.1 names the fix");
          const merged = await $`git -C ${world.repo} merge-base --is-ancestor ${fix} main`
            .noThrow();
          assert.equal(merged.code, 0, "main has the fix");
          const v14 = await $`git -C ${world.repo} merge-base --is-ancestor v1.4.0 main`.noThrow();
          assert.equal(v14.code, 0, "main kept what it had");

          // The running code names the release it is: status is green everywhere.
          const status = await cli(["status", "--json", "--config", world.config]);
          assert.equal(status.code, 0, status.stdout);
          const rows = JSON.parse(status.stdout) as NodeStatus[];
          for (const row of rows) {
            assert.deepEqual([row.problems, row.health?.version], [[], "v1.2.1"]);
          }
          assert.deepEqual(
            rows.map((r) => [r.node, r.active, r.previous, r.deployed_kind, r.health?.status]),
            [["web-1", "v1.2.1", "v1.2.0", "hotfix", 200], [
              "web-2",
              "v1.2.1",
              "v1.2.0",
              "hotfix",
              200,
            ]],
          );
          for (const node of world.nodes) {
            const file = join(node.appDir, "releases", "v1.2.1", "FIX.md");
            assert.equal(await Deno.readTextFile(file), "the critical fix\n");
          }
        },
      );

      await t.step("the audit log has the release and both nodes' hotfix deploys", async () => {
        const entries = await readAuditEntries(world.stateDir);
        const releases = entries.filter((e) => e.action === "release");
        assert.deepEqual(releases.map((e) => [e.from, e.to, e.repo, e.status]), [
          ["v1.3.0", "v1.4.0", world.repo, "success"],
        ]);
        const hotfixes = entries.filter((e) => e.action === "deploy" && e.kind === "hotfix");
        assert.deepEqual(hotfixes.map((e) => [e.target, e.from, e.to, e.status]), [
          ["web-1", "v1.2.0", "v1.2.1", "success"],
          ["web-2", "v1.2.0", "v1.2.1", "success"],
        ]);
        assert.equal((await verifyAuditLog(world.stateDir)).ok, true);
      });

      await t.step(
        "a hotfix whose patch tag exists already fails before any node changes: no rollback",
        async () => {
          const deploys = async () =>
            (await readAuditEntries(world.stateDir)).filter((e) => e.action === "deploy").length;
          const before = await deploys();
          await $`git -C ${work} checkout --quiet -b hotfix/second v1.2.0`;
          await commitFile(work, "SECOND.md", "another fix\n");
          const result = await cli(hotfix("-p", "branch=hotfix/second", "--yes", "--json"));
          assert.equal(result.code, 1, result.stderr);
          const record = JSON.parse(result.stdout) as RunRecord;
          const [web1, web2] = record.nodes!;
          assert.match(web1.reason!, /v1\.2\.1 exists already \(tags never move\)/);
          assert.match(web1.reason!, /nothing was changed on web-1, so nothing is undone/);
          assert.equal(web1.failure_path, undefined, "SOP 3 ran although nothing changed");
          assert.equal(web2.status, "skipped");
          for (const node of world.nodes) {
            const link = await Deno.readLink(join(node.appDir, "current"));
            assert.equal(link, "releases/v1.2.1", node.name);
          }
          assert.equal(await deploys(), before, "a deploy entry for a run that deployed nothing");
        },
      );
    } finally {
      await world.cleanup();
    }
  }),
);
