/**
 * The operation registry is the one list of operation step kinds: the schema, `plan` and the
 * checks take them from it, so a new kind is one file and one registry line.
 */
import assert from "node:assert/strict";
import { OPERATIONS } from "../../src/runbook/operations.ts";
import { jsonSchemas, STEP_KINDS } from "../../src/runbook/schema.ts";
import { describeRunbook, formatPlan } from "../../src/runbook/describe.ts";
import { loadRunbook } from "../../src/runbook/load.ts";
import { ROOT } from "../fixtures/helpers.ts";

Deno.test("the schema's step kinds and operand fields come from the registry", () => {
  assert.deepEqual(STEP_KINDS, ["run", "uses", "http", "confirm", ...Object.keys(OPERATIONS)]);
  const text = JSON.stringify(jsonSchemas().runbook);
  for (const [kind, operation] of Object.entries(OPERATIONS)) {
    const description = operation.operand.description;
    assert.ok(description, `${kind} describes its operand`);
    assert.ok(text.includes(JSON.stringify(description)), `${kind} is in the JSON Schema`);
  }
});

Deno.test("plan prints an operation step with its operand and where it runs", async () => {
  const loaded = await loadRunbook(ROOT, "shadow-deploy");
  const plan = formatPlan(describeRunbook(loaded, { version: "v1.2.0" }, undefined));
  assert.match(plan, /^\s+shadow: build v1\.2\.0 \(on app\)$/m);
  assert.match(plan, /^\s+shadow: start \(on app\)$/m);
});
