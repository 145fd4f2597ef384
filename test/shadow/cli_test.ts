/**
 * The shadow commands' input errors: exit 2 and a sentence naming what to fix, before anything
 * runs or connects; and a runbook whose shadow step is misspelled refused by `validate`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, tempWorld } from "../fixtures/helpers.ts";

Deno.test("shadow commands refuse bad input with exit 2", async (t) => {
  const world = await tempWorld({ prefix: "shadow-cli-" });
  const args = ["--config", world.config, "--state-dir", world.stateDir];
  try {
    await t.step("without a shadow: block, the message says what to add", async () => {
      const result = await cli(["shadow:status", ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        /blue-green deploys are not configured in .*add a `shadow:` block/,
      );
    });

    await t.step("a version that is not a tag is refused", async () => {
      await Deno.writeTextFile(
        world.config,
        `${await Deno.readTextFile(world.config)}shadow:\n  start: "true"\n`,
      );
      const result = await cli(["shadow:build", "v1;rm -rf /", ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /"v1;rm -rf \/" is not a release tag/);
    });

    await t.step("a wrong shadow: key names itself with its line", async () => {
      await Deno.writeTextFile(
        world.config,
        `${await Deno.readTextFile(world.config)}  ports: "90-10"\n`,
      );
      const result = await cli(["shadow:init", ...args]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /protocol\.yaml:\d+:\d+: shadow\.ports: shadow\.ports must go/);
    });

    await t.step("validate refuses an unknown shadow operation in a runbook", async () => {
      const root = join(world.dir, "project");
      await Deno.mkdir(join(root, "runbooks"), { recursive: true });
      await Deno.writeTextFile(
        join(root, "runbooks", "x.yaml"),
        "id: x\ntitle: X\nwhen: Always\nsteps:\n  - name: Promote\n    shadow: promote\n",
      );
      const result = await cli(["validate", "--root", root]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stdout,
        /x\.yaml:6:13: steps\[0\]\.shadow: unknown shadow operation "promote"/,
      );
    });
  } finally {
    await world.cleanup();
  }
});
