/**
 * The run flow through the real CLI: prerequisites block a run (all of them checked first),
 * failing success criteria start the failure path, and human checklist items are refused
 * without a terminal or `--yes`, and recorded as acknowledged with it.
 *
 * Runbooks are in test/fixtures/projects/flow; their steps leave markers in `$MARKER_DIR`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord } from "../../src/state/runs.ts";
import {
  alive,
  cli,
  eventually,
  exists,
  fixture,
  listDir,
  runArgs,
  runRecords,
  tempWorld,
} from "../fixtures/helpers.ts";

const ROOT = fixture("projects", "flow");

Deno.test("the flow fixtures are valid runbooks", async () => {
  const result = await cli(["validate", "--root", ROOT]);
  assert.equal(result.code, 0, result.stdout);
});

Deno.test("prerequisites: all are checked, one failing stops the run before any step", async (t) => {
  const world = await tempWorld({ prefix: "runbook-prereqs-" });
  try {
    const result = await cli(
      runArgs(ROOT, world, "prereqs", "--json"),
      { env: { MARKER_DIR: world.markers } },
    );
    const record = JSON.parse(result.stdout) as RunRecord;

    await t.step("exit 1 with the prerequisite messages", () => {
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /the first check is not met/);
      assert.match(result.stderr, /the third check is not met/);
    });

    await t.step("no step ran, but every prerequisite was checked", async () => {
      assert.deepEqual(await listDir(world.markers), ["prereq-2"]);
      assert.deepEqual(
        record.steps.map((step) => [step.number, step.phase, step.status]),
        [
          ["P1", "prerequisite", "failure"],
          ["P2", "prerequisite", "success"],
          ["P3", "prerequisite", "failure"],
        ],
      );
    });

    await t.step("the run record says why, naming both failing prerequisites", async () => {
      assert.equal(record.status, "failure");
      assert.equal(
        record.reason,
        "prerequisites not met: the first check is not met: exited with code 1; " +
          "the third check is not met: exited with code 3; " +
          "nothing was changed on local, so nothing is undone",
      );
      const saved = await runRecords(world.stateDir);
      assert.equal(saved.length, 1);
      assert.deepEqual(saved[0], record);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("success criteria decide, and their failure runs the failure path", async (t) => {
  let healthy = false;
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    requests++;
    return healthy
      ? Response.json({ status: "ok" })
      : Response.json({ status: "error", error: "database down" }, { status: 503 });
  });
  const health = `http://127.0.0.1:${server.addr.port}/health`;
  const world = await tempWorld({ prefix: "runbook-criteria-", health });
  const run = (version: string) =>
    cli(
      runArgs(ROOT, world, "criteria", version, "--json"),
      { env: { MARKER_DIR: world.markers } },
    );
  try {
    await t.step("criteria met: success, no failure path", async () => {
      healthy = true;
      const result = await run("v1.0.0");
      assert.equal(result.code, 0, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "success");
      assert.equal(record.failure_path, undefined);
      assert.deepEqual(await listDir(world.markers), ["step"]);
      await Deno.remove(join(world.markers, "step"));
    });

    await t.step("criteria missed: exit 1, the failure path runs and succeeds", async () => {
      healthy = false;
      requests = 0;
      const result = await run("v2.0.0");
      assert.equal(result.code, 1, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "failure");
      assert.match(
        record.reason!,
        /^success criteria not met: Health endpoint answers 200: expected HTTP 200, got 503/,
      );
      assert.equal(requests, 2, "retries: 1 means two requests");
      const success = record.steps.find((step) => step.phase === "success")!;
      assert.equal(success.status, "failure");
      assert.equal(success.attempts, 2);

      const path = record.failure_path;
      assert.ok(path, "no failure path in the run record");
      assert.equal(path.runbook, "recover");
      assert.equal(path.status, "success");
      assert.equal(path.id, `${record.id}.recover`);
      assert.deepEqual(path.params, { failed: "v2.0.0" });
      assert.equal(await Deno.readTextFile(join(world.markers, "recovered")), "v2.0.0");
      assert.match(result.stderr, /failure path recover: success/);

      const saved = (await runRecords(world.stateDir)).find((r) => r.id === record.id);
      assert.equal(saved?.failure_path?.status, "success");
    });
  } finally {
    await server.shutdown();
    await world.cleanup();
  }
});

Deno.test("human checklist items", async (t) => {
  const world = await tempWorld({ prefix: "runbook-human-" });
  const args = runArgs(ROOT, world, "human");
  const env = { MARKER_DIR: world.markers };
  try {
    await t.step("without a terminal or --yes: refused with exit 2, naming them", async () => {
      const result = await cli(args, { env });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /3 item\(s\) a human must confirm/);
      assert.match(result.stderr, /^ {2}- Change ticket approved$/m);
      assert.match(result.stderr, /^ {2}- Team notified in the deploy channel$/m);
      assert.match(result.stderr, /^ {2}- Monitor for 15 minutes$/m);
      assert.match(result.stderr, /pass --yes/);
      assert.deepEqual(await listDir(world.markers), [], "a step ran");
      assert.equal(await exists(join(world.stateDir, "runs")), false, "a run began");
    });

    await t.step("CI=1 does not make a terminal of anything: still refused", async () => {
      const result = await cli(args, { env: { ...env, CI: "1" } });
      assert.equal(result.code, 2, result.stderr);
      assert.deepEqual(await listDir(world.markers), []);
    });

    await t.step("with --yes: they are recorded as acknowledged", async () => {
      const result = await cli([...args, "--yes", "--json"], { env });
      assert.equal(result.code, 0, result.stderr);
      const record = JSON.parse(result.stdout) as RunRecord;
      assert.equal(record.status, "success");
      assert.deepEqual(
        record.steps.map((step) => [step.number, step.phase, step.name, step.status]),
        [
          ["B1", "before", "Change ticket approved", "acknowledged"],
          ["B2", "before", "Team notified in the deploy channel", "acknowledged"],
          ["1", "step", "Leave a marker", "success"],
          ["A1", "after", "Monitor for 15 minutes", "acknowledged"],
        ],
      );
      assert.deepEqual(await listDir(world.markers), ["step"]);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("a step past its timeout is stopped with everything it started", async () => {
  const world = await tempWorld({ prefix: "runbook-timeout-" });
  try {
    const result = await cli(
      runArgs(ROOT, world, "timeout", "--json"),
      { env: { MARKER_DIR: world.markers } },
    );
    assert.equal(result.code, 1, result.stderr);
    const record = JSON.parse(result.stdout) as RunRecord;
    assert.equal(record.status, "failure");
    assert.deepEqual(record.steps.map((s) => [s.number, s.status]), [["1", "timed_out"]]);
    assert.match(record.reason!, /step 1 "Sleep past the timeout" failed: timed out after 1000 ms/);
    assert.deepEqual(await listDir(world.markers), ["child.pid", "shell.pid"]);
    for (const name of ["shell.pid", "child.pid"]) {
      const pid = Number((await Deno.readTextFile(join(world.markers, name))).trim());
      assert.ok(await eventually(async () => !await alive(pid), 5_000), `${name} ${pid} survived`);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("failure paths that cannot run", async (t) => {
  const root = fixture("projects", "failure-path");
  const world = await tempWorld({ prefix: "runbook-failure-path-" });
  const run = (name: string) =>
    cli(
      runArgs(root, world, name, "--json"),
      { env: { MARKER_DIR: world.markers } },
    );
  try {
    await t.step("an invalid failure path is refused before anything runs", async () => {
      const validate = await cli(["validate", "--root", root, "runbooks/invalid-path.yaml"], {
        env: { INIT_CWD: root },
      });
      assert.equal(validate.code, 2, `validate accepts invalid-path.yaml:\n${validate.stdout}`);
      const result = await run("invalid-path");
      assert.equal(result.code, 2, result.stderr);
      assert.deepEqual(await listDir(world.markers), [], "a step ran");
      assert.deepEqual(await runRecords(world.stateDir), [], "a run began");
    });

    await t.step(
      "a failure path refusing its parameters still ends the run as failed",
      async () => {
        await Deno.remove(world.markers, { recursive: true });
        await Deno.mkdir(world.markers);
        await Deno.remove(join(world.stateDir, "runs"), { recursive: true }).catch(() => {});
        const result = await run("bad-handoff");
        assert.deepEqual(await listDir(world.markers), ["step"]);
        const saved = await runRecords(world.stateDir);
        assert.equal(saved.length, 1);
        assert.notEqual(saved[0].status, "running", "the run record was left running");
        assert.equal(saved[0].status, "failure");
        assert.match(JSON.stringify(saved[0]), /parameter \\"failed\\" must match/);
        assert.equal(result.code, 1, result.stderr);
        assert.doesNotMatch(result.stderr, /nothing was run/);
      },
    );
  } finally {
    await world.cleanup();
  }
});
