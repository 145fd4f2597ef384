import assert from "node:assert/strict";
import { join } from "node:path";
import { ACTION, failed, policyRan, safeMessage, secretsEntry } from "../../src/audit/actions.ts";
import { readAuditEntries } from "../../src/audit/mod.ts";
import { cli, fixture, ROOT, runArgs, tempWorld } from "../fixtures/helpers.ts";
import { evaluateSchedule, loadSchedule } from "../../src/schedule/mod.ts";
import { policyWorld } from "../policy/world.ts";

/** An entry without what the log fills in (seq, time, chain) and the run that did it. */
function operationOf(entry: Record<string, unknown>, stateDir: string) {
  const { seq: _s, ts: _t, prev: _p, kid: _k, sig: _g, run: _r, ...rest } = entry;
  return JSON.parse(JSON.stringify(rest).replaceAll(stateDir, "STATE"));
}

Deno.test("secrets setup: the CLI and the runbook step write the same audit entry", async () => {
  const byCli = await tempWorld();
  const byStep = await tempWorld();
  try {
    const direct = await cli(["secrets:setup", "--state-dir", byCli.stateDir]);
    assert.equal(direct.code, 0, direct.stderr);
    const root = fixture("projects", "vocabulary");
    const run = await cli(runArgs(root, byStep, "secrets-setup"));
    assert.equal(run.code, 0, run.stderr);
    const fromCli = (await readAuditEntries(byCli.stateDir)).filter((e) =>
      e.action === ACTION.secrets
    );
    const fromStep = (await readAuditEntries(byStep.stateDir)).filter((e) =>
      e.action === ACTION.secrets
    );
    assert.equal(fromCli.length, 1);
    assert.equal(fromStep.length, 1);
    assert.ok(fromStep[0].run, "the step's entry names its run");
    assert.deepEqual(
      operationOf(fromStep[0], byStep.stateDir),
      operationOf(fromCli[0], byCli.stateDir),
    );
    assert.equal(fromCli[0].file, join(byCli.stateDir, "key"));
  } finally {
    await byCli.cleanup();
    await byStep.cleanup();
  }
});

Deno.test("a failure records the error class and a credential-free, masked message", () => {
  const error = new RangeError(
    "git push https://ci:ghp_token@github.com/o/r.git failed: key 0123abcd\nhint: more",
  );
  const entry = secretsEntry(
    { operation: "rotate", target: "local" },
    failed(error, (text) => text.replaceAll("0123abcd", "***")),
  );
  assert.deepEqual(entry, {
    action: "secrets",
    operation: "rotate",
    target: "local",
    status: "failure",
    error_class: "RangeError",
    error: "git push https://***@github.com/o/r.git failed: key ***",
  });
  assert.equal(safeMessage("ssh://deploy@host/x"), "ssh://***@host/x");
});

Deno.test("a narrowed policy run records exactly what ran", () => {
  assert.equal(policyRan("soc2", []), "soc2");
  assert.equal(policyRan("soc2", ["key-permissions"]), "soc2/key-permissions");
  assert.notEqual(policyRan("soc2", ["key-permissions"]), "soc2");
});

Deno.test("soc2:check --check X records soc2/X, which does not satisfy the SOC 2 control", async () => {
  const world = await policyWorld();
  try {
    const result = await cli(
      ["soc2:check", "--check", "deploy-strategy", ...world.args],
      { env: world.env },
    );
    assert.equal(result.code, 0, result.stderr);
    const entries = await readAuditEntries(world.stateDir);
    const policy = entries.filter((e) => e.action === ACTION.policy);
    assert.deepEqual(policy.map((e) => e.policy), ["soc2/deploy-strategy"]);
    const schedule = await loadSchedule(join(ROOT, "policies", "schedule.yaml"));
    const report = evaluateSchedule(schedule, entries, new Date());
    const soc2 = report.controls.find((c) => c.id === "soc2-check");
    assert.ok(soc2, report.controls.map((c) => c.id).join(", "));
    assert.equal(soc2.last, undefined, "a narrowed check is not the SOC 2 control");
  } finally {
    await world.cleanup();
  }
});
