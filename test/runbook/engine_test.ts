/**
 * The engine's state machine over in-memory targets (no process starts; milliseconds): retries,
 * continue_on_error, the failure path only after a change, masking, batches and max_failed,
 * preflight, interrupts, lost connections, resume.
 */
import assert from "node:assert/strict";
import { exitCodeOf } from "../../src/runbook/record.ts";
import { Interrupter } from "../../src/runbook/interrupt.ts";
import { SecretMasker } from "../../src/secrets/masking.ts";
import type { RunRecord } from "../../src/state/runs.ts";
import { LOCAL_NODE } from "../../src/targets/inventory.ts";
import type { MemoryPool, Rule } from "../fixtures/memory_target.ts";
import { DEPLOY, memoryRollout, memoryRun, UNDO } from "./engine_world.ts";

const NODES = ["web-1", "web-2", "web-3"];

/** Runs DEPLOY (or `extra.runbook`) with UNDO as its failure path over the memory nodes. */
async function deploy(
  rules: Record<string, Rule[]> = {},
  extra: {
    runbook?: string;
    interrupter?: Interrupter;
    rollbackOnAbort?: boolean;
    resume?: RunRecord;
    nodes?: string[];
    setup?: (pool: MemoryPool) => void;
  } = {},
) {
  const { runbook = DEPLOY, nodes = NODES, setup, ...options } = extra;
  return await memoryRollout(
    { nodes, runbooks: { deploy: runbook, undo: UNDO }, rules, setup },
    { params: { version: "v2" }, ...options },
  );
}

const ran = (pool: MemoryPool, node: string, word: string) =>
  pool.targets.get(node)!.scripts().filter((s) => s.includes(word)).length;
const statuses = (record: RunRecord) => record.nodes!.map((n) => [n.target, n.status]);

Deno.test("a clean rollout: every node, one batch each, every lock released", async () => {
  const { record, pool } = await deploy();
  assert.equal(record.status, "success");
  assert.equal(exitCodeOf(record), 0);
  assert.deepEqual(record.nodes!.map((n) => n.batch), [1, 2, 3]);
  for (const node of NODES) {
    assert.equal(ran(pool, node, "switch-step"), 1);
    assert.deepEqual([...pool.targets.get(node)!.locks], [], `${node} still locked`);
  }
  assert.deepEqual(record.nodes![0].changes_made, ["2 Switch"]);
});

Deno.test("retries: a failing step runs again until it passes", async () => {
  const runbook = DEPLOY.replace(
    "    run: echo fetch-step",
    "    run: echo fetch-step\n    retries: 2\n    retry_delay: 1ms",
  );
  const { record } = await deploy({
    "web-1": [{ match: /fetch-step/, outcome: [{ code: 1 }, { code: 1 }, { code: 0 }] }],
  }, { runbook });
  const fetch = record.nodes![0].steps.find((s) => s.name === "Fetch")!;
  assert.equal(fetch.attempts, 3);
  assert.equal(record.status, "success");
});

Deno.test("continue_on_error: a failing step does not stop the run", async () => {
  const runbook = DEPLOY.replace(
    "    run: echo restart-step",
    "    run: echo restart-step\n    continue_on_error: true",
  );
  const { record } = await deploy({ "web-1": [{ match: /restart-step/, outcome: { code: 4 } }] }, {
    runbook,
  });
  assert.equal(record.status, "success");
  assert.equal(record.nodes![0].steps.find((s) => s.name === "Restart")!.status, "failure");
});

Deno.test("a failure after the change runs the failure path and stops the rollout", async () => {
  const { record, pool, entries } = await deploy({
    "web-2": [{ match: /health-step/, outcome: { code: 1, stderr: "502" } }],
  });
  assert.deepEqual(statuses(record), [["web-1", "success"], ["web-2", "failure"], [
    "web-3",
    "skipped",
  ]]);
  assert.equal(record.nodes![1].failure_path?.status, "success");
  assert.equal(ran(pool, "web-2", "undo-step"), 1);
  assert.equal(ran(pool, "web-3", "fetch-step"), 0);
  assert.equal(exitCodeOf(record), 1);
  const deploys = entries.filter((e) => e.action === "deploy").map((e) => [e.target, e.status]);
  assert.deepEqual(deploys, [["web-1", "success"], ["web-2", "failure"]]);
});

Deno.test("a failure before any change undoes nothing and says so", async () => {
  const { record, pool, entries } = await deploy({
    "web-1": [{ match: /fetch-step/, outcome: { code: 1 } }],
  });
  const web1 = record.nodes![0];
  assert.equal(web1.status, "failure");
  assert.equal(web1.failure_path, undefined);
  assert.equal(ran(pool, "web-1", "undo-step"), 0);
  assert.match(web1.reason!, /nothing was changed on web-1, so nothing is undone/);
  // No "deploy from= to=" entry for a deploy that never switched anything.
  assert.deepEqual(entries.filter((e) => e.action === "deploy"), []);
});

Deno.test("a declined gate before any change ends the run declined, nothing undone", async () => {
  const { record, pool } = await memoryRun({
    nodes: ["web-1"],
    runbooks: {
      gate: `
id: gate
title: Gate
when: tests
checklist: { before: ["CI green?"] }
steps:
  - name: Change
    changes: true
    run: echo change-step
on_failure: { runbook: undo }
`,
      undo: UNDO,
    },
  }, { confirm: () => Promise.resolve("declined") });
  assert.equal(record.status, "declined");
  assert.equal(record.failure_path, undefined);
  assert.equal(pool.targets.get("web-1")!.log.length, 0);
  assert.equal(exitCodeOf(record), 1);
});

Deno.test("secrets are masked in the record, the journal and the output", async () => {
  const lines: string[] = [];
  const { record, entries } = await memoryRun({
    nodes: ["web-1"],
    runbooks: {
      leak: `
id: leak
title: Leak
when: tests
steps:
  - name: Print a secret
    run: echo leak-step
`,
    },
    rules: {
      "web-1": [{ match: /leak-step/, outcome: { code: 1, stdout: "token=hunter22secret\n" } }],
    },
  }, {
    masker: new SecretMasker(["hunter22secret"]),
    observer: { output: (line) => lines.push(line) },
  });
  const everything = JSON.stringify([record, entries, lines]);
  assert.doesNotMatch(everything, /hunter22secret/);
  assert.match(JSON.stringify(record.steps[0].tail), /token=\*\*\*/);
});

Deno.test("batches and max_failed: a rolling rollout stops once too many failed", async () => {
  const runbook = DEPLOY.replace(
    "strategy: { kind: rolling, batch: 1, max_failed: 0 }",
    "strategy: { kind: rolling, batch: 2, max_failed: 0 }",
  );
  const nodes = ["web-1", "web-2", "web-3", "web-4"];
  const { record } = await deploy({ "web-1": [{ match: /health-step/, outcome: { code: 1 } }] }, {
    runbook,
    nodes,
  });
  assert.deepEqual(record.nodes!.map((n) => [n.target, n.batch, n.status]), [
    ["web-1", 1, "failure"],
    ["web-2", 1, "success"],
    ["web-3", 2, "skipped"],
    ["web-4", 2, "skipped"],
  ]);
});

Deno.test("preflight: an unreachable node changes nothing anywhere", async () => {
  const { record, pool } = await deploy({}, {
    setup: (pool) => pool.targets.get("web-2")!.down = true,
  });
  assert.equal(record.status, "failure");
  assert.match(record.reason!, /preflight failed on web-2: web-2: cannot connect/);
  assert.match(record.reason!, /nothing was changed on any node/);
  for (const node of NODES) {
    assert.equal(ran(pool, node, "fetch-step") + ran(pool, node, "switch-step"), 0, node);
    assert.deepEqual([...pool.targets.get(node)!.locks], [], `${node} still locked`);
  }
  assert.deepEqual(statuses(record), [["web-1", "skipped"], ["web-2", "failure"], [
    "web-3",
    "skipped",
  ]]);
});

Deno.test("preflight: a prerequisite failing on one node stops every node", async () => {
  const { record, pool } = await deploy({
    "web-3": [{ match: /check-tag/, outcome: { code: 1 } }],
  });
  assert.match(record.reason!, /preflight failed on web-3: web-3: prerequisites not met/);
  for (const node of NODES) assert.equal(ran(pool, node, "check-tag"), 1, node);
  for (const node of NODES) assert.equal(ran(pool, node, "fetch-step"), 0, node);
});

Deno.test("preflight: a stale lock on one node refuses the whole rollout", async () => {
  const { record, pool } = await deploy({}, {
    setup: (pool) =>
      pool.targets.get("web-2")!.locks.set(
        "/srv/web-2/.protocol.lock",
        JSON.stringify({ run: "old", runbook: "deploy", operator: "bob", host: "h", since: "" }),
      ),
  });
  assert.match(record.reason!, /web-2: locked by run old/);
  assert.equal(ran(pool, "web-1", "fetch-step"), 0);
  assert.deepEqual([...pool.targets.get("web-1")!.locks], []);
  assert.equal(pool.targets.get("web-2")!.locks.size, 1, "someone else's lock was removed");
});

const hangAndSignal = (interrupter: Interrupter, what: string): Rule[] => [{
  match: /health-step/,
  outcome: { hang: true, onStart: () => interrupter.interrupt({ kind: "signal", what }) },
}];

Deno.test("an interrupt after the switch rolls the node back, then stops", async () => {
  const interrupter = new Interrupter();
  const { record, pool, entries } = await deploy(
    { "web-2": hangAndSignal(interrupter, "SIGHUP") },
    {
      interrupter,
    },
  );
  assert.equal(record.status, "aborted");
  assert.equal(exitCodeOf(record), 130);
  assert.deepEqual(record.interruption, { kind: "signal", what: "SIGHUP" });
  assert.deepEqual(statuses(record), [["web-1", "success"], ["web-2", "aborted"], [
    "web-3",
    "skipped",
  ]]);
  const web2 = record.nodes![1];
  assert.equal(web2.failure_path?.status, "success");
  assert.match(web2.reason!, /interrupted \(SIGHUP\); web-2 had changed before its success/);
  assert.equal(ran(pool, "web-2", "undo-step"), 1);
  assert.equal(ran(pool, "web-3", "fetch-step"), 0);
  for (const node of NODES) assert.deepEqual([...pool.targets.get(node)!.locks], [], node);
  const summary = record.abort_summary!;
  assert.deepEqual(summary.map((n) => [n.node, n.status, n.lock]), [
    ["web-1", "success", "free"],
    ["web-2", "aborted", "free"],
    ["web-3", "skipped", "free"],
  ]);
  assert.match(summary[1].undo!, /failure path undo: success/);
  assert.ok(summary.every((n) => n.next.startsWith("deno task ")));
  const runs = entries.filter((e) => e.action === "run" && e.target === "web-2");
  assert.equal(runs.at(-1)!.status, "aborted");
  assert.equal(entries.filter((e) => e.action === "rollout").at(-1)!.status, "aborted");
});

Deno.test("--no-rollback-on-abort leaves the changed node as it is, and says so", async () => {
  const interrupter = new Interrupter();
  const { record, pool } = await deploy({ "web-1": hangAndSignal(interrupter, "SIGTERM") }, {
    interrupter,
    rollbackOnAbort: false,
  });
  assert.equal(ran(pool, "web-1", "undo-step"), 0);
  assert.match(record.nodes![0].reason!, /left as it is \(--no-rollback-on-abort\)/);
  assert.match(record.abort_summary![0].undo!, /left as it is/);
});

Deno.test("an interrupt before any change undoes nothing", async () => {
  const interrupter = new Interrupter();
  const { record, pool } = await deploy({
    "web-1": [{
      match: /fetch-step/,
      outcome: {
        hang: true,
        onStart: () => interrupter.interrupt({ kind: "signal", what: "SIGINT" }),
      },
    }],
  }, { interrupter });
  assert.equal(record.nodes![0].status, "aborted");
  assert.match(record.nodes![0].reason!, /nothing was changed on web-1/);
  assert.equal(ran(pool, "web-1", "switch-step") + ran(pool, "web-1", "undo-step"), 0);
});

Deno.test("a lost connection aborts the rollout, reconnects to undo, exits 1", async () => {
  const { record, pool } = await deploy({
    "web-2": [{ match: /restart-step/, outcome: { lose: true } }],
  });
  assert.equal(record.status, "aborted");
  assert.equal(exitCodeOf(record), 1);
  assert.equal(record.interruption?.kind, "connection");
  assert.equal(record.interruption?.what, "web-2");
  assert.match(record.reason!, /connection to web-2 lost/);
  assert.doesNotMatch(JSON.stringify(record), /nothing to roll back/);
  assert.ok(pool.recovered.includes("web-2"));
  assert.equal(ran(pool, "web-2", "undo-step"), 1);
  assert.equal(ran(pool, "web-3", "fetch-step"), 0);
  for (const node of NODES) assert.deepEqual([...pool.targets.get(node)!.locks], [], node);
});

Deno.test("resume: nodes that succeeded are skipped, the rest run", async () => {
  const first = await deploy({ "web-2": [{ match: /health-step/, outcome: { code: 1 } }] });
  assert.equal(first.record.status, "failure");
  const { record, pool, entries } = await deploy({}, { resume: first.record });
  assert.equal(record.status, "success");
  assert.equal(record.resumes, first.record.id);
  assert.deepEqual(statuses(record), [["web-1", "success"], ["web-2", "success"], [
    "web-3",
    "success",
  ]]);
  assert.match(record.nodes![0].reason!, /succeeded in run/);
  assert.equal(ran(pool, "web-1", "fetch-step"), 0);
  assert.equal(ran(pool, "web-2", "fetch-step"), 1);
  assert.equal(ran(pool, "web-3", "fetch-step"), 1);
  assert.equal(entries.find((e) => e.action === "rollout")!.resumes, first.record.id);
});

Deno.test("a run on this machine interrupted on a node summarizes the nodes it reached", async () => {
  const interrupter = new Interrupter();
  const summaries: unknown[] = [];
  const { record, pool } = await memoryRollout({
    nodes: ["web-1", "web-2"],
    runbooks: {
      fleetwide: `
id: fleetwide
title: Fleetwide
when: tests
steps:
  - name: Each node
    on: app
    changes: true
    run: echo each-node
  - name: Afterwards
    run: echo afterwards
`,
    },
    rules: {
      "web-2": [{
        match: /each-node/,
        outcome: {
          hang: true,
          onStart: () => interrupter.interrupt({ kind: "signal", what: "SIGINT" }),
        },
      }],
    },
    select: () => [LOCAL_NODE],
  }, { interrupter, rollout: { abortSummary: (summary) => summaries.push(summary) } });
  assert.equal(record.status, "aborted");
  assert.equal(exitCodeOf(record), 130);
  assert.deepEqual(record.abort_summary!.map((n) => [n.node, n.status]), [
    ["web-1", "aborted"],
    ["web-2", "aborted"],
  ]);
  assert.equal(summaries.length, 1);
  assert.equal(ran(pool, "local", "afterwards"), 0);
});
