/**
 * One approval, one change: an approved request that a run already carried out cannot be
 * replayed for another run (a second rollback would roll back one release further than was
 * approved), through the real CLI and the real audit log.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import { exists, fixture, tempWorld } from "../fixtures/helpers.ts";
import { team } from "./team.ts";

const ROOT = fixture("projects", "approval");

Deno.test("an approved request carried out once is refused for a second run", async () => {
  const world = await tempWorld({ prefix: "approval-replay-" });
  try {
    const { as } = await team(world);
    const requested = await as(
      "bob",
      ...["request", "fix", "--root", ROOT, "--config", world.config],
    );
    assert.equal(requested.code, 0, requested.stderr);
    const id = requested.stdout.trim();
    const approved = await as("alice", "approve", id, "--yes", "--root", ROOT);
    assert.equal(approved.code, 0, approved.stderr);
    const run = () =>
      as(
        "bob",
        ...["run", "fix", "--request", id, "--root", ROOT],
        ...["--config", world.config, "--yes"],
      );
    const marker = join(world.markers, "fix");

    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.ok(await exists(marker));
    await Deno.remove(marker);

    const replay = await run();
    assert.equal(replay.code, 1, replay.stderr);
    assert.match(replay.stderr, new RegExp(`already_used: ${id} was carried out by run \\S+`));
    assert.equal(await exists(marker), false, "the replayed run ran its step");
    const checks = (await readAuditEntries(world.stateDir))
      .filter((e) => e.action === "change.check" && e.request === id);
    assert.deepEqual(checks.map((e) => [e.status, e.reason]), [
      ["success", undefined],
      ["failure", "already_used"],
    ]);
  } finally {
    await world.cleanup();
  }
});
