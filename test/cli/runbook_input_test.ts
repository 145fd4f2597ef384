import assert from "node:assert/strict";
import { namedParameters } from "../../src/cli/runbook_input.ts";
import { UsageError } from "../../src/errors.ts";
import { cli } from "../fixtures/helpers.ts";

Deno.test("-p: a key given twice is refused, not silently overwritten", () => {
  assert.deepEqual(namedParameters(["version=v1", "note=a=b"]), { version: "v1", note: "a=b" });
  assert.throws(
    () => namedParameters(["version=v1.2.0", "version=v1.1.0"]),
    (error) => error instanceof UsageError && /-p version is given twice/.test(error.message),
  );
});

Deno.test("-p twice: plan exits 2 and prints nothing of the plan", async () => {
  const result = await cli(["plan", "deploy", "-p", "version=v1.2.0", "-p", "version=v1.1.0"]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /-p version is given twice/);
  assert.equal(result.stdout, "");
});
