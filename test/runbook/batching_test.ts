/**
 * Rate control: batch sizes as counts, percentages and ramps, `max_failed` as a count or a
 * percentage — the arithmetic as data, then rollouts over in-memory nodes (milliseconds), and
 * bad specs refused at their line and column before anything runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  batchSizes,
  failureAllowance,
  formatBatchSpec,
  parseBatchSpec,
  parseBatchText,
} from "../../src/runbook/batch_spec.ts";
import { validateFile } from "../../src/runbook/load.ts";
import { strategyLabel } from "../../src/runbook/rollout.ts";
import { normalizeStrategy } from "../../src/runbook/schema.ts";
import { restartOperation } from "../../src/runbook/restart_step.ts";
import { formatProblem } from "../../src/source/mod.ts";
import { DEPLOY, memoryRollout, UNDO } from "./engine_world.ts";

const sizes = (spec: Parameters<typeof parseBatchSpec>[0], total: number) =>
  batchSizes(parseBatchSpec(spec), total);

Deno.test("batch sizes: counts, percentages rounded down (at least 1), ramps", async (t) => {
  await t.step("a count; the last batch takes what is left", () => {
    assert.deepEqual(sizes(3, 10), [3, 3, 3, 1]);
    assert.deepEqual(sizes(20, 5), [5]);
  });
  await t.step("a percentage of all nodes, rounded down, never below 1", () => {
    assert.deepEqual(sizes("25%", 10), [2, 2, 2, 2, 2]);
    assert.deepEqual(sizes("33%", 10), [3, 3, 3, 1]);
    assert.deepEqual(sizes("5%", 10), Array(10).fill(1));
    assert.deepEqual(sizes("100%", 7), [7]);
  });
  await t.step("a ramp: sizes in order, the last repeats", () => {
    assert.deepEqual(sizes([1, "10%", "50%"], 20), [1, 2, 10, 7]);
    assert.deepEqual(sizes([1, 2], 7), [1, 2, 2, 2]);
    assert.deepEqual(sizes([5, 1], 3), [3]);
  });
  await t.step("no nodes, no batches", () => assert.deepEqual(sizes("50%", 0), []));
  await t.step("max_failed: a count, or a percentage of all nodes rounded down", () => {
    assert.equal(failureAllowance(2, 10), 2);
    assert.equal(failureAllowance("10%", 25), 2);
    assert.equal(failureAllowance("10%", 5), 0);
    assert.equal(failureAllowance("0%", 100), 0);
    assert.equal(failureAllowance("100%", 4), 4);
  });
  await t.step("the text form operands use, and how specs print", () => {
    assert.deepEqual(parseBatchText("rolling"), undefined);
    assert.deepEqual(parseBatchText("25%"), [{ percent: 25 }]);
    assert.deepEqual(parseBatchText("[1, 10%, 50%]"), parseBatchSpec([1, "10%", "50%"]));
    assert.equal(parseBatchText("0"), undefined);
    assert.equal(parseBatchText("101%"), undefined);
    assert.equal(formatBatchSpec(parseBatchSpec([1, "10%"])), "[1, 10%]");
  });
  await t.step("the label shows what percentages and ramps come to", () => {
    const label = (strategy: Parameters<typeof normalizeStrategy>[0], total: number) =>
      strategyLabel(normalizeStrategy(strategy), total);
    assert.equal(
      label({ kind: "rolling", batch: 2, max_failed: 0 }, 5),
      "rolling (batch 2, stop after 1 failed)",
    );
    assert.equal(
      label({ kind: "rolling", batch: [1, "10%", "50%"], max_failed: "10%" }, 20),
      "rolling (batch [1, 10%, 50%] → 1, 2, 10, 7 of 20 nodes, stop after 3 (more than 10%) failed)",
    );
    assert.equal(
      label({ kind: "rolling", batch: "25%" }, 10),
      "rolling (batch 25% → 2×5 of 10 nodes, stop after 1 failed)",
    );
  });
});

const NODES = Array.from({ length: 10 }, (_, i) => `web-${i + 1}`);

/** Runs DEPLOY with `strategy` over the ten memory nodes; `failing` fail their health check. */
async function rollout(strategy: string, failing: string[] = []) {
  const runbook = DEPLOY.replace("strategy: { kind: rolling, batch: 1, max_failed: 0 }", strategy);
  return await memoryRollout({
    nodes: NODES,
    runbooks: { deploy: runbook, undo: UNDO },
    rules: Object.fromEntries(
      failing.map((node) => [node, [{ match: /health-step/, outcome: { code: 1 } }]]),
    ),
  }, { params: { version: "v2" } });
}

/** How many nodes each batch number holds, in order. */
function batchCounts(nodes: { batch?: number }[]): number[] {
  const counts: number[] = [];
  for (const node of nodes) counts[node.batch! - 1] = (counts[node.batch! - 1] ?? 0) + 1;
  return counts;
}

Deno.test("a rollout runs its nodes in the batches the spec makes", async (t) => {
  await t.step("25% of 10 nodes: five batches of 2", async () => {
    const { record } = await rollout('strategy: { kind: rolling, batch: "25%" }');
    assert.equal(record.status, "success");
    assert.deepEqual(batchCounts(record.nodes!), [2, 2, 2, 2, 2]);
    assert.match(record.strategy!, /batch 25% → 2×5 of 10 nodes/);
  });
  await t.step("a ramp [1, 30%, 50%]: 1, 3, 5, then the last 1", async () => {
    const { record } = await rollout('strategy: { kind: rolling, batch: [1, "30%", "50%"] }');
    assert.deepEqual(batchCounts(record.nodes!), [1, 3, 5, 1]);
  });
  await t.step("every node's steps each have their audit entry", async () => {
    const { entries } = await rollout('strategy: { kind: rolling, batch: "50%" }');
    for (const node of NODES) {
      const steps = entries.filter((e) =>
        e.action === "step" && String(e.run).endsWith(`@${node}`) && e.status === "success"
      );
      assert.ok(steps.length >= 4, `${node}: ${steps.length} step entries`);
    }
  });
});

Deno.test("max_failed as a percentage: 20% of 10 tolerates 2, stops at the 3rd", async (t) => {
  const strategy = 'strategy: { kind: rolling, batch: 2, max_failed: "20%" }';
  await t.step("two failures in the first batch: the rollout goes on", async () => {
    const { record } = await rollout(strategy, ["web-1", "web-2"]);
    assert.equal(record.status, "failure");
    assert.deepEqual(
      record.nodes!.filter((n) => n.status === "success").map((n) => n.target),
      NODES.slice(2),
    );
  });
  await t.step("a third failure stops it after that batch; the rest are skipped", async () => {
    const { record, pool } = await rollout(strategy, ["web-1", "web-2", "web-4"]);
    assert.deepEqual(record.nodes!.map((n) => n.status), [
      "failure",
      "failure",
      "success",
      "failure",
      ...Array(6).fill("skipped"),
    ]);
    assert.equal(
      pool.targets.get("web-5")!.scripts().some((s) => s.includes("switch-step")),
      false,
    );
    assert.match(record.reason!, /3 of 4 node\(s\) failed/);
  });
});

Deno.test("bad batch specs are refused at their line and column", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "batch-spec-" });
  const problems = async (strategy: string) => {
    const file = join(dir, "runbooks", "deploy.yaml");
    await Deno.mkdir(join(dir, "runbooks"), { recursive: true });
    await Deno.writeTextFile(
      file,
      DEPLOY.replace("strategy: { kind: rolling, batch: 1, max_failed: 0 }", strategy),
    );
    return (await validateFile(dir, file)).map(formatProblem);
  };
  try {
    await t.step("a percentage over 100", async () => {
      const [problem] = await problems('strategy:\n  kind: rolling\n  batch: "150%"');
      assert.match(problem, /deploy\.yaml:8:10: strategy\.batch: .*"1%" to "100%"/);
    });
    await t.step("a zero in a ramp", async () => {
      const [problem] = await problems("strategy: { kind: rolling, batch: [1, 0] }");
      assert.match(problem, /deploy\.yaml:6:39: strategy\.batch\[1\]: /);
    });
    await t.step("max_failed that is neither a count nor a percentage", async () => {
      const [problem] = await problems('strategy: { kind: rolling, max_failed: "some" }');
      assert.match(problem, /deploy\.yaml:6:40: strategy\.max_failed: .*"0%" to "100%"/);
    });
    await t.step("batch on a kind that does not batch", async () => {
      const [problem] = await problems("strategy: { kind: parallel, batch: 2 }");
      assert.match(
        problem,
        /deploy\.yaml:6:\d+: strategy\.batch: `batch` applies to kind: rolling/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const RESTART = (operand: string) => `
id: restart
title: Restart
when: tests
steps:
  - name: Restart the fleet
    on: app
    restart: ${operand}
`;

/**
 * `restart: OPERAND` from this machine to five memory nodes whose health checks are answered
 * by a real HTTP server (slowly, so batches overlap in time): which nodes were asked together.
 */
async function restart(operand: string, failing: string[] = []) {
  const nodes = NODES.slice(0, 5);
  let inFlight = 0;
  const rounds: string[][] = [];
  let round: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const node = new URL(r.url).pathname.split("/")[1];
    if (inFlight++ === 0) rounds.push(round = []);
    round.push(node);
    await new Promise((resolve) => setTimeout(resolve, 250));
    inFlight--;
    return new Response("ok");
  });
  try {
    const { record, pool } = await memoryRollout({
      nodes,
      runbooks: { restart: RESTART(operand) },
      rules: Object.fromEntries(
        failing.map((node) => [node, [{ match: /current/, outcome: { code: 1 } }]]),
      ),
      setup: (_, world) => {
        for (const name of nodes) {
          world.config.nodes[name].app!.health =
            `http://127.0.0.1:${server.addr.port}/${name}/health`;
        }
      },
      select: (pool) => [pool.inventory.select("local")[0]],
    });
    const restarted = nodes.filter((n) =>
      pool.targets.get(n)!.scripts().some((s) => s.includes("current"))
    );
    return { record, rounds: rounds.map((r) => r.sort()), restarted };
  } finally {
    await server.shutdown();
  }
}

Deno.test("restart: rolling takes the same batch specs", async (t) => {
  await t.step("`rolling` alone: one node at a time", async () => {
    const { record, rounds } = await restart("rolling");
    assert.equal(record.status, "success");
    assert.deepEqual(rounds, NODES.slice(0, 5).map((n) => [n]));
  });
  await t.step("`rolling 2`: two at a time, each pair healthy before the next", async () => {
    const { rounds } = await restart("rolling 2");
    assert.deepEqual(rounds, [["web-1", "web-2"], ["web-3", "web-4"], ["web-5"]]);
  });
  await t.step("`rolling [1, 40%]`: a canary, then 2 at a time", async () => {
    const { rounds } = await restart("rolling [1, 40%]");
    assert.deepEqual(rounds, [["web-1"], ["web-2", "web-3"], ["web-4", "web-5"]]);
  });
  await t.step("a node failing in a batch stops the step after that batch", async () => {
    const { record, restarted } = await restart("rolling 2", ["web-3"]);
    assert.equal(record.status, "failure");
    assert.deepEqual(restarted, ["web-1", "web-2", "web-3", "web-4"]);
    assert.match(record.steps[0].message ?? "", /on web-3: web-3: restart exited with code 1/);
  });
  await t.step("validate names what a restart operand may be", () => {
    assert.match(
      restartOperation.problem("rolling 0") ?? "",
      /`rolling 2`, `rolling 25%` or `rolling \[1, 10%, 50%\]`, got "rolling 0"/,
    );
    assert.equal(restartOperation.problem("rolling 1,10%,50%"), undefined);
  });
});
