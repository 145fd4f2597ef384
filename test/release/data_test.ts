/**
 * The release builders as data: versions, the compose driver's exact command lines, the
 * configuration's driver block, the node record's script and parser, rollback refusals,
 * status judgements and the release table — no SSH, no Docker engine.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  composeLifecycle,
  composeShell,
  nextVersion,
  nodeStateRequest,
  parseNodeState,
  parseTagTable,
  placeReleases,
  processRebuild,
  releaseTags,
  rollbackRefusal,
  statusRow,
} from "../../src/release/mod.ts";
import { shellJoin } from "../../src/shell/quote.ts";
import { appActionCommand } from "../../src/release/app_commands.ts";
import { runArgv } from "../../src/cli/release.ts";
import { ConfigError, loadConfig } from "../../src/config/mod.ts";
import { LocalTarget } from "../../src/targets/local.ts";
import { cli } from "../fixtures/helpers.ts";

Deno.test("versions: next release after the newest tag, by semantic order", () => {
  assert.equal(nextVersion(["v1.9.0", "v1.10.0", "v1.2.0"], "patch"), "v1.10.1");
  assert.equal(nextVersion(["v1.2.3"], "minor"), "v1.3.0");
  assert.equal(nextVersion(["v1.2.3"], "major"), "v2.0.0");
  assert.equal(nextVersion(["main", "v1.2.0-rc.1", "latest"], "patch"), "v0.1.0");
  assert.deepEqual(releaseTags(["v01.2.3", "v1.2", "1.2.3", "v1.2.3"]).map((v) => v.tag), [
    "v1.2.3",
  ]);
});

Deno.test("compose driver: the exact docker compose command lines", () => {
  const argv = composeLifecycle(
    { file: "docker-compose.yml", services: ["web", "worker"] },
    "Shop",
  );
  const base = ["docker", "compose", "-p", "shop", "-f", "docker-compose.yml"];
  assert.deepEqual(argv, {
    build: [...base, "build", "web", "worker"],
    start: [...base, "up", "-d", "--build", "--remove-orphans", "web", "worker"],
    stop: [...base, "stop", "web", "worker"],
    logs: [...base, "logs", "--no-color", "--tail=200", "web", "worker"],
    rebuild: [
      ...base,
      "up",
      "-d",
      "--build",
      "--force-recreate",
      "--remove-orphans",
      "web",
      "worker",
    ],
    running: [...base, "ps", "--status", "running", "--quiet", "web", "worker"],
  });
  const shell = composeShell({
    file: "deploy/compose prod.yml",
    project: "shop-prod",
    services: [],
  }, "x");
  assert.equal(shell.stop, "docker compose -p shop-prod -f 'deploy/compose prod.yml' stop");
  assert.equal(
    shell.running,
    `test -n "$(docker compose -p shop-prod -f 'deploy/compose prod.yml' ps --status running --quiet)"`,
  );
  assert.equal(shellJoin(["echo", "it's", "a;b"]), `echo 'it'\\''s' 'a;b'`);
});

Deno.test("process driver: rebuild defaults to stop, build, start, each its own sh -c", () => {
  assert.equal(
    processRebuild({ stop: "kill $(cat app.pid)", build: "npm ci", start: "./run &" }),
    `sh -c 'kill $(cat app.pid)' && sh -c 'npm ci' && sh -c './run &'`,
  );
  assert.equal(
    appActionCommand({ dir: "/a", start: "up", stop: "down", rebuild: "r" }, "rebuild"),
    "r",
  );
  assert.equal(appActionCommand({ dir: "/a" }, "logs"), undefined);
});

async function configWith(app: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "release-config-" });
  const path = join(dir, "protocol.yaml");
  await Deno.writeTextFile(
    path,
    [
      "app:",
      "  name: shop",
      "  repo: /srv/shop.git",
      "  dir: /opt/shop",
      "  health: http://127.0.0.1:8080/health",
      ...app.map((l) => `  ${l}`),
      "",
    ].join("\n"),
  );
  return path;
}

Deno.test("config: the driver block fills in, validates, and names the key", async (t) => {
  await t.step(
    "compose makes start/stop/build/logs/rebuild/running; written ones win",
    async () => {
      const path = await configWith([
        "driver: compose",
        "logs: tail app.log",
        "compose: { services: [web] }",
      ]);
      const { app } = await loadConfig(path);
      assert.equal(
        app.start,
        "docker compose -p shop -f docker-compose.yml up -d --build --remove-orphans web",
      );
      assert.equal(app.build, "docker compose -p shop -f docker-compose.yml build web");
      assert.equal(app.logs, "tail app.log");
      assert.equal("compose" in app, false, "folded into the commands");
    },
  );
  await t.step("process needs start and stop, and build reads as empty when unset", async () => {
    const path = await configWith(["start: ./up", "stop: ./down"]);
    const { app } = await loadConfig(path);
    assert.equal(app.driver, "process");
    assert.equal(app.build, "");
    const missing = await configWith(["stop: ./down"]);
    const error = await loadConfig(missing).catch((e) => e);
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /app\.start is required with driver: process/);
  });
  await t.step("a compose block without driver: compose is refused by name", async () => {
    const path = await configWith(["start: a", "stop: b", "compose: { file: c.yml }"]);
    const error = await loadConfig(path).catch((e) => e);
    assert.match(error.message, /app\.compose is read only with driver: compose/);
  });
  await t.step(
    "plan deploy shows the compose build before the switch and the up after",
    async () => {
      const path = await configWith(["driver: compose"]);
      const plan = await cli(["plan", "deploy", "v1.2.0", "--config", path]);
      assert.equal(plan.code, 0, plan.stderr);
      const build = plan.stdout.indexOf("docker compose -p shop -f docker-compose.yml build");
      const link = plan.stdout.indexOf("ln -sfn releases/'v1.2.0' current.next");
      const up = plan.stdout.indexOf("docker compose -p shop -f docker-compose.yml up -d --build");
      assert.ok(build > 0 && link > build && up > link, plan.stdout);
      const rebuild = await cli(["docker:compose:rebuild", "--dry-run", "--config", path]);
      assert.equal(rebuild.code, 0, rebuild.stderr);
      assert.equal(
        rebuild.stdout.trim(),
        "local: (cd /opt/shop/current && docker compose -p shop -f docker-compose.yml up -d --build --force-recreate --remove-orphans)",
      );
    },
  );
});

Deno.test("node record: the script reads a real directory; the parser and judges", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "release-node-" });
  try {
    await t.step("an app directory with two releases, a lock and a running app", async () => {
      for (const v of ["v1.1.0", "v1.2.0", "v1.3.0"]) {
        await Deno.mkdir(join(dir, "releases", v), { recursive: true });
      }
      await Deno.mkdir(join(dir, "releases", "v1.4.0.partial"));
      await Deno.symlink("releases/v1.2.0", join(dir, "current"));
      await Deno.writeTextFile(join(dir, "history"), "v1.1.0\nv1.2.0\n");
      await Deno.writeTextFile(join(dir, "previous"), "v1.1.0\n");
      await Deno.writeTextFile(
        join(dir, "deploys.log"),
        "2026-01-01T00:00:00Z\tdeploy\tv1.1.0\tnone\talice\tr1\n2026-01-02T00:00:00Z\tdeploy\tv1.2.0\tv1.1.0\tbob\tr2\n",
      );
      await Deno.writeTextFile(
        join(dir, ".protocol.lock"),
        '{"run":"r3","runbook":"deploy","operator":"carol","host":"ops","since":"2026-01-03T00:00:00Z"}\n',
      );
      const result = await new LocalTarget().exec(nodeStateRequest(dir, "test -d ../../releases"));
      assert.equal(result.code, 0, result.stderr);
      const state = parseNodeState(result.stdout)!;
      assert.deepEqual(
        { ...state, lockRaw: undefined },
        {
          current: "v1.2.0",
          previous: "v1.1.0",
          history: ["v1.1.0", "v1.2.0"],
          releases: ["v1.1.0", "v1.2.0", "v1.3.0"],
          deployed: {
            at: "2026-01-02T00:00:00Z",
            kind: "deploy",
            version: "v1.2.0",
            from: "v1.1.0",
            operator: "bob",
            run: "r2",
          },
          lock: {
            run: "r3",
            runbook: "deploy",
            operator: "carol",
            host: "ops",
            since: "2026-01-03T00:00:00Z",
          },
          lockRaw: undefined,
          running: "yes",
        },
      );

      assert.equal(rollbackRefusal("web-1", state), undefined);
      assert.equal(rollbackRefusal("web-1", state, "v1.1.0"), undefined);
      assert.match(
        rollbackRefusal("web-1", state, "v1.3.0")!,
        /web-1: v1\.3\.0 was never deployed there \(its history: v1\.1\.0, v1\.2\.0\)/,
      );
      assert.match(
        rollbackRefusal("web-1", { ...state, previous: undefined })!,
        /no previous release is recorded/,
      );
      assert.match(rollbackRefusal("web-1", undefined)!, /nothing is deployed there/);

      const row = statusRow("web-1", state, { url: "http://h/health", status: 503 });
      assert.equal(row.ok, false);
      assert.deepEqual(row.problems, [
        "health check failed: http://h/health answered 503",
        "locked by run r3 (deploy, carol@ops) since 2026-01-03T00:00:00Z",
      ]);
    });
    await t.step("a missing directory and an app that is not running", async () => {
      const missing = await new LocalTarget().exec(nodeStateRequest(join(dir, "nope")));
      assert.equal(parseNodeState(missing.stdout), undefined);
      const stopped = await new LocalTarget().exec(nodeStateRequest(dir, "false"));
      assert.equal(parseNodeState(stopped.stdout)!.running, "no");
      const unknown = await new LocalTarget().exec(nodeStateRequest(dir));
      assert.equal(parseNodeState(unknown.stdout)!.running, "unknown");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("release table: tags newest first, placed on nodes", () => {
  const tags = parseTagTable(
    [
      "v1.9.0\t2026-01-01T00:00:00+00:00\taaa\tccc\tRelease v1.9.0",
      "nightly\t2026-01-02T00:00:00+00:00\tbbb\t\tnot a release",
      "v1.10.0\t2026-01-01T00:00:00+00:00\tddd\t\tlightweight",
    ].join("\n"),
  );
  assert.deepEqual(tags.map((t) => [t.tag, t.commit, t.annotated]), [["v1.10.0", "ddd", false], [
    "v1.9.0",
    "ccc",
    true,
  ]]);
  const rows = placeReleases(tags, [
    { node: "web-1", active: "v1.10.0", previous: "v1.9.0", history: ["v1.9.0", "v1.10.0"] },
    { node: "web-2", active: "v1.9.0", history: ["v1.9.0"] },
  ]);
  assert.deepEqual(rows.map((r) => [r.tag, r.active, r.previous, r.deployed]), [
    ["v1.10.0", ["web-1"], [], ["web-1"]],
    ["v1.9.0", ["web-2"], ["web-1"], ["web-1", "web-2"]],
  ]);
});

Deno.test("deploy:push and deploy:rollback forward their options to run", () => {
  assert.deepEqual(
    runArgv("deploy", ["v1.2.0"], { config: "p.yaml", limit: "web-2", yes: true, json: true }),
    ["run", "deploy", "v1.2.0", "--config", "p.yaml", "--limit", "web-2", "--yes", "--json"],
  );
  assert.deepEqual(runArgv("rollback", [], { forceUnlock: "run gone", dryRun: true }), [
    "run",
    "rollback",
    "--force-unlock",
    "run gone",
    "--dry-run",
  ]);
});
