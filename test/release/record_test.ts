/**
 * The release record's scripts run for real (git, sha256sum, a demo repository) on this
 * machine: the manifest written at fetch, a tampered release directory rebuilt from its tag
 * (never reused) with the foreign and changed files quarantined, the manifest check finding an
 * added, a changed and a removed file, the switch's record, and the generated task files.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  FETCH_SCRIPT,
  parseManifestCheck,
  parseQuarantined,
  recordEnv,
  type RecordValues,
  SWITCH_SCRIPT,
  VERIFY_SCRIPT,
} from "../../src/release/record.ts";
import { releaseTaskFiles } from "../../src/release/tasks.ts";
import { createDemoWorld } from "../../src/demo/app.ts";
import { LocalTarget } from "../../src/targets/local.ts";
import { cli, ROOT } from "../fixtures/helpers.ts";

const target = new LocalTarget();
const run = (script: string, values: RecordValues, extra: Record<string, string> = {}) =>
  target.exec({ script, env: { ...recordEnv(values), ...extra }, timeoutMs: 60_000 });

Deno.test("release record: manifest, verification before reuse, quarantine, switch", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "record-" });
  try {
    const world = await createDemoWorld(dir);
    const appDir = world.appDir;
    const release = join(appDir, "releases", "v1.2.0");
    const fetch = (rebuild?: "always") =>
      run(FETCH_SCRIPT, { appDir, repo: world.repo, version: "v1.2.0", rebuild });
    const verify = async () =>
      parseManifestCheck(
        (await run(VERIFY_SCRIPT, { appDir }, { RELEASE: join(appDir, "current") })).stdout,
      );

    await t.step("fetch writes the release and a sha256sum manifest of the tag", async () => {
      const result = await fetch();
      assert.equal(result.code, 0, result.stderr);
      const manifest = await Deno.readTextFile(join(appDir, "manifests", "v1.2.0.sha256"));
      assert.match(manifest, /^[0-9a-f]{64} {2}VERSION\n[0-9a-f]{64} {2}server\.ts\n$/);
      const check = await new Deno.Command("sha256sum", {
        args: ["-c", "--quiet", join(appDir, "manifests", "v1.2.0.sha256")],
        cwd: release,
      }).output();
      assert.equal(check.code, 0, "sha256sum -c accepts the manifest");
    });

    await t.step("the switch records current, history, previous and deploys.log", async () => {
      for (const version of ["v1.1.0", "v1.2.0"]) {
        const fetched = await run(FETCH_SCRIPT, { appDir, repo: world.repo, version });
        assert.equal(fetched.code, 0, fetched.stderr);
        const switched = await run(SWITCH_SCRIPT, {
          appDir,
          version,
          kind: "deploy",
          operator: "ann",
          run: `r-${version}`,
        });
        assert.equal(switched.code, 0, switched.stderr);
      }
      assert.equal(await Deno.readLink(join(appDir, "current")), "releases/v1.2.0");
      assert.equal(await Deno.readTextFile(join(appDir, "previous")), "v1.1.0\n");
      assert.equal(await Deno.readTextFile(join(appDir, "history")), "v1.1.0\nv1.2.0\n");
      const log = (await Deno.readTextFile(join(appDir, "deploys.log"))).trim().split("\n");
      assert.deepEqual(log.map((line) => line.split("\t").slice(1)), [
        ["deploy", "v1.1.0", "none", "ann", "r-v1.1.0"],
        ["deploy", "v1.2.0", "v1.1.0", "ann", "r-v1.2.0"],
      ]);
    });

    await t.step("the manifest check finds an added, a changed and a removed file", async () => {
      assert.deepEqual((await verify()).changes, []);
      await Deno.mkdir(join(release, "uploads"));
      await Deno.writeTextFile(join(release, "uploads", "shell.php"), "<?php system($_GET['c']);");
      await Deno.writeTextFile(join(release, "server.ts"), "// tampered\n", { append: true });
      await Deno.remove(join(release, "VERSION"));
      // A dependency a build installed is not reported as added.
      await Deno.mkdir(join(release, "vendor"));
      await Deno.writeTextFile(join(release, "vendor", "autoload.php"), "<?php\n");
      const check = await verify();
      assert.equal(check.version, "v1.2.0");
      assert.deepEqual(check.changes.map((c) => [c.change, c.file]), [
        ["removed", "VERSION"],
        ["changed", "server.ts"],
        ["added", "uploads/shell.php"],
      ]);
      assert.match(check.changes[2].sha256, /^[0-9a-f]{64}$/);
    });

    await t.step("security:audit's release-manifest check names each file", async () => {
      const audit = await cli([
        ...["security:audit", "--check", "release-manifest", "--format", "json"],
        ...["--config", world.config, "--state-dir", join(dir, "state")],
      ]);
      assert.equal(audit.code, 1, audit.stderr);
      const text = audit.stdout;
      for (
        const finding of ["VERSION: removed", "server.ts: changed", "uploads/shell.php: added"]
      ) {
        assert.ok(text.includes(`${finding} since v1.2.0 was deployed`), `${finding} in ${text}`);
      }
    });

    await t.step(
      "a redeploy never reuses the tampered directory: rebuilt, evidence kept",
      async () => {
        const result = await fetch();
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /differs from its tag: rebuilt from the tag, never reused/);
        const moved = parseQuarantined(result.stdout);
        assert.deepEqual(moved.map((m) => [m.change, m.file]).sort(), [
          ["added", "uploads/shell.php"],
          ["changed", "server.ts"],
        ]);
        assert.deepEqual((await verify()).changes, []);
        assert.equal(
          await Deno.lstat(join(release, "uploads")).then(() => true, () => false),
          false,
        );
        const [quarantine] = [...Deno.readDirSync(join(appDir, "quarantine"))];
        const qdir = join(appDir, "quarantine", quarantine.name);
        assert.equal(
          await Deno.readTextFile(join(qdir, "uploads", "shell.php")),
          "<?php system($_GET['c']);",
        );
        const sums = await new Deno.Command("sha256sum", {
          args: ["-c", "SHA256SUMS"],
          cwd: qdir,
        }).output();
        assert.equal(sums.code, 0, "the recorded hashes are the quarantined files' hashes");
        assert.equal((await Deno.stat(qdir)).mode! & 0o777, 0o700);
        const again = await fetch();
        assert.match(again.stdout, /already present .* matches its manifest/);
        const audit = await cli([
          ...["security:audit", "--check", "release-manifest"],
          ...["--config", world.config, "--state-dir", join(dir, "state")],
        ]);
        assert.equal(audit.code, 0, audit.stdout);
      },
    );

    await t.step("a tag that moved is refused", async () => {
      await Deno.writeTextFile(join(appDir, "manifests", "v1.2.0.commit"), "0".repeat(40));
      const result = await fetch();
      assert.equal(result.code, 1);
      assert.match(result.stderr, /tags must not move/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("release record: the tasks on disk are the ones record.ts builds", async () => {
  for (const [path, text] of Object.entries(releaseTaskFiles())) {
    assert.equal(
      await Deno.readTextFile(join(ROOT, path)),
      text,
      `${path} differs from src/release/record.ts: run \`deno run -A src/release/tasks.ts\``,
    );
  }
});
