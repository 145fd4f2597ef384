/**
 * The change-ticket checklist shows the signed approval instead of a self-ticked "PR approved":
 * the runbook's declared requirement (who must approve) and the exact request command, in every
 * checklist format and in the plan; an emergency-capable runbook names the emergency path; a
 * runbook without `approval:` has no such item.
 */
import assert from "node:assert/strict";
import { cli, fixture } from "../fixtures/helpers.ts";

const REQUIRE = "Change request CR-________ approved (1 approval by role approver, not the " +
  "operator), checked before anything runs: operator `deno task request deploy v1.2.0`, " +
  "approver `deno task approve CR_ID`, operator `deno task run deploy v1.2.0 --request CR_ID`";

Deno.test("the deploy checklist carries the signed approval, first, in every format", async (t) => {
  await t.step("md: first item of Pre-Deployment; no self-ticked PR approval left", async () => {
    const md = await cli(["checklist", "deploy", "v1.2.0", "--format", "md"]);
    assert.equal(md.code, 0, md.stderr);
    const section = md.stdout.split("**Pre-Deployment:**\n\n")[1].split("\n");
    assert.equal(section[0], `- [ ] ${REQUIRE}`);
    assert.doesNotMatch(md.stdout, /PR reviewed|PR approved/);
  });

  await t.step("text", async () => {
    const text = await cli(["checklist", "deploy", "v1.2.0", "--format", "text"]);
    assert.match(text.stdout, new RegExp(`^Pre-Deployment:\\n\\[ \\] ${escape(REQUIRE)}$`, "m"));
  });

  await t.step("json: an item of kind approval", async () => {
    const json = JSON.parse(
      (await cli(["checklist", "deploy", "v1.2.0", "--format", "json"])).stdout,
    );
    assert.deepEqual(json.sections[0].items[0], { text: REQUIRE, kind: "approval", number: "CR" });
  });

  await t.step("the plan shows it before the prerequisites", async () => {
    const plan = await cli(["plan", "deploy", "v1.2.0"]);
    assert.match(
      plan.stdout,
      new RegExp(
        `Approval \\(checked before anything runs\\)\\n  CR  ${escape(REQUIRE)}\\n\\nPrerequisites`,
      ),
    );
  });

  await t.step(
    "rollback names the emergency path; a runbook without approval has no item",
    async () => {
      const rollback = await cli(["checklist", "rollback", "--format", "md"]);
      assert.match(
        rollback.stdout,
        /operator `deno task request rollback`.*; in an emergency `--emergency "reason"` instead \(retro-review within 2 business days\)/,
      );
      const hello = await cli([
        "checklist",
        "hello",
        "--root",
        fixture("projects", "approval"),
        "--format",
        "json",
      ]);
      assert.equal(hello.code, 0, hello.stderr);
      const kinds = JSON.parse(hello.stdout).sections.flatMap((s: { items: { kind: string }[] }) =>
        s.items.map((i) => i.kind)
      );
      assert.ok(!kinds.includes("approval"), kinds.join());
    },
  );
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
