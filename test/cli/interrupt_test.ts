/**
 * Ctrl-C: SIGINT to a running `run` stops the step's whole process group, records the run as
 * aborted, runs nothing after it, and exits 130.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord } from "../../src/state/runs.ts";
import {
  alive,
  eventually,
  exists,
  fixture,
  interruptCli,
  runRecords,
  spawnCli,
  tempWorld,
} from "../fixtures/helpers.ts";

Deno.test("SIGINT during a step aborts the run and its processes", async (t) => {
  const world = await tempWorld({ prefix: "runbook-interrupt-" });
  const { child, result } = spawnCli(
    [
      "run",
      "slow",
      "--json",
      "--root",
      fixture("projects", "flow"),
      "--config",
      world.config,
      "--state-dir",
      world.stateDir,
    ],
    { env: { MARKER_DIR: world.markers } },
  );
  let pids: number[] = [];
  try {
    const started = await eventually(() => exists(join(world.markers, "shell.pid")));
    assert.ok(started, "the step never started");
    pids = await Promise.all(
      ["shell.pid", "child.pid"].map(async (name) =>
        Number((await Deno.readTextFile(join(world.markers, name))).trim())
      ),
    );
    for (const pid of pids) assert.ok(await alive(pid), `process ${pid} is not running yet`);

    const finished = await interruptCli({ child, result });

    await t.step("exits 130", () => {
      assert.equal(finished.code, 130, finished.stderr);
    });

    await t.step("the run record says aborted, and nothing after the step ran", async () => {
      const record = JSON.parse(finished.stdout) as RunRecord;
      assert.equal(record.status, "aborted");
      assert.equal(
        record.reason,
        "interrupted (SIGINT); nothing was changed on local, so nothing is undone",
      );
      assert.deepEqual(record.interruption, { kind: "signal", what: "SIGINT" });
      assert.deepEqual(record.steps.map((s) => [s.number, s.status]), [["1", "aborted"]]);
      const saved = await runRecords(world.stateDir);
      assert.equal(saved.length, 1);
      assert.equal(saved[0].status, "aborted");
      for (const marker of ["slept", "later", "criterion"]) {
        assert.equal(await exists(join(world.markers, marker)), false, `${marker} exists`);
      }
    });

    await t.step("the step's shell and its child are gone", async () => {
      for (const pid of pids) {
        const gone = await eventually(async () => !await alive(pid), 5_000);
        assert.ok(gone, `process ${pid} survived the interrupt`);
      }
    });
  } finally {
    for (const pid of pids) {
      try {
        if (await alive(pid)) Deno.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await result;
    await world.cleanup();
  }
});
