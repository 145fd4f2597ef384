/**
 * Run records: written whole at a run's start and end, each finished step appended in between
 * (never the whole record again), and read back with every appended step while running or
 * after a crash.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  appendRunNodes,
  appendRunStep,
  listRunRecords,
  readRunRecord,
  type RunRecord,
  saveRunRecord,
  type StepRecord,
} from "../../src/state/runs.ts";

const record = (): RunRecord => ({
  id: "20261129T060000Z-abcdef",
  runbook: "deploy",
  title: "Deploy",
  file: "runbooks/deploy.yaml",
  params: { version: "v1.2.0" },
  operator: "alice",
  host: "ops",
  target: "local",
  started: "2026-11-29T06:00:00.000Z",
  status: "running",
  steps: [],
});

const step = (number: string): StepRecord => ({
  number,
  phase: "step",
  name: `step ${number}`,
  checklist: `step ${number}`,
  kind: "run",
  status: "success",
  started: "2026-11-29T06:00:01.000Z",
  duration_ms: 3,
  attempts: 1,
  exit_code: 0,
});

Deno.test("run records: steps are appended, not rewritten, and read back in order", async (t) => {
  const stateDir = await Deno.makeTempDir({ prefix: "runs-" });
  try {
    const run = record();
    const path = await saveRunRecord(stateDir, run);
    const whole = await Deno.readTextFile(path);
    for (const number of ["1", "2", "3"]) {
      run.steps.push(step(number));
      if (number === "2") {
        run.changed = true;
        run.changes_made = ["2 step 2"];
      }
      appendRunStep(stateDir, run, run.steps.at(-1)!);
    }

    await t.step("the whole record is not written again for a step", async () => {
      assert.equal(await Deno.readTextFile(path), whole);
    });

    await t.step("a running record reads back with every finished step", async () => {
      const read = await readRunRecord(stateDir, run.id);
      assert.deepEqual(read.steps.map((s) => s.number), ["1", "2", "3"]);
      assert.equal(read.changed, true);
      assert.deepEqual(read.changes_made, ["2 step 2"]);
      assert.deepEqual((await listRunRecords(stateDir))[0].steps.length, 3);
    });

    await t.step("a crash in the middle of an append loses only that step", async () => {
      const steps = join(stateDir, "runs", `${run.id}.steps.jsonl`);
      await Deno.writeTextFile(steps, '{"step":{"number":"4","na', { append: true });
      const read = await readRunRecord(stateDir, run.id);
      assert.deepEqual(read.steps.map((s) => s.number), ["1", "2", "3"]);
    });

    await t.step("the finished record is whole, and the appended steps' file is gone", async () => {
      run.status = "success";
      await saveRunRecord(stateDir, run);
      const names = [...Deno.readDirSync(join(stateDir, "runs"))].map((e) => e.name);
      assert.deepEqual(names, [`${run.id}.json`]);
      const read = await readRunRecord(stateDir, run.id);
      assert.equal(read.status, "success");
      assert.deepEqual(read.steps.map((s) => s.number), ["1", "2", "3"]);
    });
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("rollout records: each batch's node runs are appended, read back while running", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "runs-" });
  try {
    const rollout: RunRecord = { ...record(), target: "web-1,web-2,web-3", nodes: [] };
    const path = await saveRunRecord(stateDir, rollout);
    const whole = await Deno.readTextFile(path);
    const node = (name: string): RunRecord => ({
      ...record(),
      id: `${rollout.id}@${name}`,
      target: name,
      status: "success",
      steps: [step("1")],
    });
    for (const batch of [["web-1"], ["web-2", "web-3"]]) {
      const runs = batch.map(node);
      rollout.nodes!.push(...runs);
      appendRunNodes(stateDir, rollout, runs);
    }
    assert.equal(await Deno.readTextFile(path), whole, "not written whole per batch");
    const read = await readRunRecord(stateDir, rollout.id);
    assert.deepEqual(read.nodes!.map((n) => [n.target, n.status, n.steps.length]), [
      ["web-1", "success", 1],
      ["web-2", "success", 1],
      ["web-3", "success", 1],
    ]);
    rollout.status = "success";
    await saveRunRecord(stateDir, rollout);
    assert.deepEqual([...Deno.readDirSync(join(stateDir, "runs"))].map((e) => e.name), [
      `${rollout.id}.json`,
    ]);
    assert.equal((await readRunRecord(stateDir, rollout.id)).nodes!.length, 3);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
