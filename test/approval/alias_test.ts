/** `deploy:push` and `deploy:rollback` hand the approval flags to `run` unchanged. */
import assert from "node:assert/strict";
import { runArgv } from "../../src/cli/release.ts";

Deno.test("deploy:push passes --request, --emergency and --approvers to run", () => {
  assert.deepEqual(
    runArgv("deploy", ["v1.2.0"], {
      request: "CR-20260701-a1b2c3",
      approvers: "/srv/ops/approvers.yaml",
    }),
    [
      "run",
      "deploy",
      "v1.2.0",
      "--request",
      "CR-20260701-a1b2c3",
      "--approvers",
      "/srv/ops/approvers.yaml",
    ],
  );
  assert.deepEqual(
    runArgv("rollback", [], { emergency: "checkout returns 500" }),
    ["run", "rollback", "--emergency", "checkout returns 500"],
  );
});
