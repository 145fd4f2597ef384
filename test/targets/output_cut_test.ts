/**
 * Output past the targets' limit is counted and said (`ExecResult.cut`), on every path a step's
 * output takes: a local step, a step streamed over SSH, an SSH step given input (its own ssh);
 * a step's run record says how much its output hash does not cover (`output_cut`).
 * Before, it was dropped without a word, and a policy check judged the part it got.
 */
import assert from "node:assert/strict";
import { executeStep } from "../../src/runbook/execute.ts";
import { stepRecord } from "../../src/runbook/record.ts";
import type { ResolvedStep } from "../../src/runbook/resolve.ts";
import { LocalTarget } from "../../src/targets/local.ts";
import { OUTPUT_LIMIT, type Target } from "../../src/targets/target.ts";
import { withSshTarget } from "./fleet_helpers.ts";

const PAST = 51_424;
// OUTPUT_LIMIT + PAST bytes on stdout, 10 on stderr.
const SCRIPT = `head -c ${OUTPUT_LIMIT + PAST} /dev/zero | tr '\\0' x; printf 'not cut\\n\\n' >&2`;

async function expectCut(target: Target, stdin?: Uint8Array): Promise<void> {
  const big = await target.exec({ script: SCRIPT, stdin });
  assert.equal(big.code, 0, big.stderr);
  assert.equal(big.stdout.length, OUTPUT_LIMIT);
  assert.deepEqual(big.cut, { stdout: PAST, stderr: 0 });
  const small = await target.exec({ script: "echo fits", stdin });
  assert.equal(small.stdout, "fits\n");
  assert.equal(small.cut, undefined);
}

Deno.test("a local step's output past the limit is counted", async () => {
  const target = new LocalTarget();
  try {
    await expectCut(target);
  } finally {
    await target.close();
  }
});

Deno.test("an SSH step's output past the limit is counted, streamed or with input", async () => {
  await withSshTarget("output-cut-", async (target) => {
    await expectCut(target);
    await expectCut(target, new TextEncoder().encode("input\n"));
  });
});

Deno.test("a step's record says how much of its output its hash does not cover", async () => {
  const target = new LocalTarget();
  const step: ResolvedStep = {
    number: "1",
    name: "print a lot",
    kind: "run",
    checklist: "print a lot",
    script: SCRIPT,
    env: {},
    retries: 0,
    retryDelayMs: 0,
    continueOnError: false,
  };
  try {
    const outcome = await executeStep(step, { target });
    assert.equal(outcome.status, "success", outcome.error);
    const record = stepRecord(step, "step", new Date(), outcome, (text) => text);
    assert.equal(record.output_cut, PAST);
    const small = await executeStep({ ...step, script: "echo fits" }, { target });
    assert.equal(stepRecord(step, "step", new Date(), small, (t) => t).output_cut, undefined);
  } finally {
    await target.close();
  }
});
