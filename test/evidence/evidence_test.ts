/**
 * Evidence checklists of real runs: SOP 1 deploys the demo app, then `checklist deploy --run`
 * renders the run's evidence, and every seq and hash in it is checked against the log's bytes
 * independently of the tool's own audit code. A tampered log turns the closing line to FAILS.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { createDemoWorld, stopDemoApp } from "../../src/demo/app.ts";
import { generateSigningKey } from "../../src/audit/mod.ts";
import type { Evidence } from "../../src/evidence/mod.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import { ensureStateDir } from "../../src/state/mod.ts";
import { cli, ROOT, runArgs } from "../fixtures/helpers.ts";

/** The log as an auditor reads it: raw lines, each with its SHA-256 and parsed fields. */
async function rawLog(stateDir: string) {
  const text = await Deno.readTextFile(join(stateDir, "deployments.log"));
  return text.trimEnd().split("\n").map((line) => ({
    line,
    hash: createHash("sha256").update(line).digest("hex"),
    entry: JSON.parse(line) as Record<string, unknown>,
  }));
}

Deno.test("evidence checklist: a real deploy's items match the audit log line by line", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "evidence-test-" });
  const world = await createDemoWorld(dir);
  const evidenceOf = (runbook: string, run: string, format = "json") =>
    cli([
      "checklist",
      runbook,
      "--run",
      run,
      "--format",
      format,
      "--state-dir",
      world.stateDir,
    ]);
  try {
    await ensureStateDir(world.stateDir);
    await generateSigningKey(world.stateDir);
    const deployed = await cli(runArgs(ROOT, world, "deploy", "v1.2.0", "--yes", "--json"));
    assert.equal(deployed.code, 0, deployed.stderr);
    const record = JSON.parse(deployed.stdout) as RunRecord;

    await t.step(
      "json: every recorded step ticked, with the seq and hash of its entry",
      async () => {
        const result = await evidenceOf("deploy", record.id);
        assert.equal(result.code, 0, result.stderr);
        const evidence = JSON.parse(result.stdout) as Evidence;
        assert.equal(evidence.holds, true);
        assert.equal(evidence.log.verified, true);
        const log = await rawLog(world.stateDir);
        const items = evidence.runs[0].sections.flatMap((s) => s.items);
        const steps = items.flatMap((item) => item.steps);
        assert.deepEqual(steps.map((s) => s.number), record.steps.map((s) => s.number));
        // A step whose `when:` did not hold (no app.build configured) is not applicable, not undone.
        assert.ok(items.every((item) => (item.ticked || item.skipped) && item.node === "local"));
        assert.deepEqual(
          evidence.runs[0].sections.map((s) => s.title),
          ["Pre-Deployment", "Deployment", "Post-Deployment"],
        );
        // Group titles come from the runbook: step 2 is the `uses` of release-fetch.
        assert.ok(items.some((item) => item.text === "deploy:push v1.2.0 executed"));
        // Skipped steps ran nothing, so they have no entry of their own.
        for (const step of steps.filter((s) => s.status !== "skipped")) {
          const row = log[step.seq! - 1];
          assert.equal(row.entry.seq, step.seq);
          assert.equal(row.hash, step.hash);
          assert.equal(row.entry.action, "step");
          assert.equal(row.entry.run, record.id);
          assert.equal(row.entry.step, step.number);
          assert.equal(row.entry.exit_code, step.exit_code);
          // The chain: the next line names this line's hash as its `prev`.
          assert.equal(log[step.seq!].entry.prev, step.hash);
          const recorded = record.steps.find((s) => s.number === step.number)!;
          assert.equal(step.started, recorded.started);
          assert.equal(step.output_sha256, recorded.output_sha256);
        }
        const closing = evidence.runs[0].closing!;
        assert.equal(log[closing.seq - 1].hash, closing.hash);
        assert.equal(log[closing.seq - 1].entry.status, "success");
      },
    );

    await t.step("md and html: ticked boxes, facts per item, the verify line", async () => {
      const md = await evidenceOf("deploy", record.id, "md");
      assert.equal(md.code, 0, md.stderr);
      assert.match(
        md.stdout,
        /^- \[x\] B1\. CI pipeline green .* · local · acknowledged · audit seq \d+ · sha256 [0-9a-f]{64}$/m,
      );
      assert.match(md.stdout, /^ {2}- 2\.\d .*: exit 0 · audit seq \d+ · sha256 [0-9a-f]{64}$/m);
      assert.match(md.stdout, /^- \[-\] 3\. .* not applicable \(skipped\)/m);
      assert.match(md.stdout, /`audit:verify` passes: \d+ entries/);
      assert.doesNotMatch(md.stdout, /- \[ \]/);
      const html = await evidenceOf("deploy", record.id, "html");
      assert.equal(html.code, 0, html.stderr);
      assert.match(html.stdout, /^<!doctype html>/);
      assert.match(html.stdout, /&#9745;/);
      assert.doesNotMatch(html.stdout, /<script/);
    });

    await t.step("a failed deploy: unticked items, the rollback's evidence after it", async () => {
      const failed = await cli(runArgs(ROOT, world, "deploy", "v1.3.0", "--yes", "--json"));
      assert.equal(failed.code, 1, failed.stderr);
      const run = JSON.parse(failed.stdout) as RunRecord;
      const result = await evidenceOf("deploy", run.id);
      assert.equal(result.code, 0, result.stderr);
      const evidence = JSON.parse(result.stdout) as Evidence;
      assert.deepEqual(evidence.runs.map((r) => [r.runbook, r.status]), [
        ["deploy", "failure"],
        ["rollback", "success"],
      ]);
      const unticked = evidence.runs[0].sections.flatMap((s) => s.items).filter((i) => !i.ticked);
      assert.ok(unticked.some((item) => /health check/i.test(item.text)), JSON.stringify(unticked));
    });

    await t.step("wrong runbook, unknown run: exit 2", async () => {
      const wrong = await evidenceOf("rollback", record.id);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /is a run of deploy, not of rollback/);
      const unknown = await evidenceOf("deploy", "20990101T000000Z-000000");
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no run 20990101T000000Z-000000/);
    });

    await t.step(
      "an edited log line: the closing line says audit:verify fails, exit 1",
      async () => {
        const path = join(world.stateDir, "deployments.log");
        const text = await Deno.readTextFile(path);
        const lines = text.split("\n");
        const i = lines.findIndex((l) =>
          l.includes(`"run":"${record.id}"`) && l.includes('"step":"2.1"')
        );
        lines[i] = lines[i].replace('"exit_code":0', '"exit_code":1');
        await Deno.writeTextFile(path, lines.join("\n"));
        const md = await evidenceOf("deploy", record.id, "md");
        assert.equal(md.code, 1);
        assert.match(md.stdout, /`audit:verify` FAILS \(.*deployments\.log:\d+: edited\)/);
        assert.match(
          md.stdout,
          /DIFFERS FROM THE AUDIT LOG\*\* \(exit code 1 in the log, 0 here\)/,
        );
      },
    );
  } finally {
    await stopDemoApp(world);
    await Deno.remove(dir, { recursive: true });
  }
});
