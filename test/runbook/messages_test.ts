/**
 * A step's `message` says what its "no" means, so it is shown only when the step ran and said
 * no — never after a lost connection, whose state nobody observed (the "nothing is
 * deployed … nothing to roll back" after a switch). A prerequisite without a `message` says
 * why in its own last line. In-memory targets; milliseconds.
 */
import assert from "node:assert/strict";
import type { RunRecord } from "../../src/state/runs.ts";
import type { Rule } from "../fixtures/memory_target.ts";
import { memoryRollout } from "./engine_world.ts";

const CHECKED = `
id: checked
title: A runbook with a check that has a message
when: tests
on: app
lock: true
prerequisites:
  - name: A release is active
    run: echo is-active
    message: nothing is deployed here
  - name: The tag exists
    run: echo has-tag
steps:
  - name: Deploy
    run: echo deploy-step
`;

async function run(rules: Rule[]): Promise<RunRecord> {
  return (await memoryRollout({
    nodes: ["web-1"],
    runbooks: { checked: CHECKED },
    rules: { "web-1": rules },
  }))
    .record;
}

const step = (record: RunRecord, name: string) =>
  record.nodes![0].steps.find((s) => s.name === name)!;

Deno.test("a check that said no shows its message", async () => {
  const record = await run([{ match: /is-active/, outcome: { code: 1 } }]);
  assert.equal(record.status, "failure");
  assert.equal(
    step(record, "A release is active").message,
    "nothing is deployed here: exited with code 1",
  );
  assert.match(record.reason!, /prerequisites not met: nothing is deployed here/);
});

Deno.test("a check whose connection was lost does not claim what it never saw", async () => {
  const record = await run([{ match: /is-active/, outcome: { lose: true } }]);
  assert.equal(record.status, "aborted");
  const message = step(record, "A release is active").message!;
  assert.match(message, /connection lost during the step/);
  assert.doesNotMatch(JSON.stringify(record), /nothing is deployed/);
});

Deno.test("a prerequisite without a message says why in its own last line", async () => {
  const record = await run([{
    match: /has-tag/,
    outcome: { code: 2, stderr: "git: looking\nno tag v9.9.9 in /srv/app.git\n" },
  }]);
  assert.match(
    record.reason!,
    /^preflight failed on web-1: web-1: prerequisites not met: no tag v9\.9\.9 in \/srv\/app\.git;/,
  );
});
