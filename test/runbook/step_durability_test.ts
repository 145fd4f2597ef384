// A step is reported done only once its signed audit entry is on disk: the progress a person
// watches (and a crash right after it) never runs ahead of the audit log. The engine guarantees
// it for every step of every runbook, whichever nodes finish together.
import assert from "node:assert/strict";
import { join } from "node:path";
import { auditJournal } from "../../src/audit/journal.ts";
import { auditPaths, generateSigningKey, verifyAuditLog } from "../../src/audit/mod.ts";
import type { StepRecord } from "../../src/state/runs.ts";
import { DEPLOY, memoryRollout, UNDO } from "./engine_world.ts";

Deno.test("each step's entry is in the audit log when the run reports the step done", async () => {
  const stateDir = join(await Deno.makeTempDir({ prefix: "durable-step-" }), "state");
  await generateSigningKey(stateDir);
  const nodes = ["web-1", "web-2", "web-3", "web-4"];
  const reported: string[] = [];
  const missing: string[] = [];
  // What the log holds at the moment a step is reported, read from the file as a crash would
  // leave it (synchronously: nothing else runs in between).
  const logged = () =>
    Deno.readTextFileSync(auditPaths(stateDir).log).split("\n").filter(Boolean).map((line) =>
      JSON.parse(line) as Record<string, unknown>
    );
  const observerFor = (node: { name: string }) => ({
    stepFinished(step: StepRecord) {
      if (step.status === "skipped") return; // a skipped step has no entry (it did nothing)
      const key = `${node.name} ${step.number}`;
      reported.push(key);
      const found = logged().some((e) =>
        e.action === "step" && e.step === step.number && String(e.run).endsWith(`@${node.name}`)
      );
      if (!found) missing.push(key);
    },
  });
  const { record } = await memoryRollout(
    {
      nodes,
      runbooks: {
        deploy: DEPLOY.replace("{ kind: rolling, batch: 1, max_failed: 0 }", "parallel"),
        undo: UNDO,
      },
    },
    { params: { version: "v2" }, stateDir, journal: auditJournal(stateDir), observerFor },
  );
  assert.equal(record.status, "success", record.reason);
  assert.ok(reported.length >= nodes.length * 4, `steps reported: ${reported.join(", ")}`);
  assert.deepEqual(missing, [], "steps reported done before their audit entry was on disk");
  const verdict = await verifyAuditLog(stateDir);
  assert.equal(verdict.ok, true, JSON.stringify(verdict.firstBad));
});
