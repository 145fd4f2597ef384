/**
 * A runbook's declared `approval:` is always enforced: without an approvers file the run is
 * refused before anything runs (exit 1), saying which file to create and which commands to
 * use; only a written `approval: { mode: off, reason }` in protocol.yaml lets it through, and
 * then every entry of the run and the auditor's population say so.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import {
  cli,
  exists,
  fixture,
  runArgs,
  runRecords,
  tempWorld,
  todaysPopulation,
} from "../fixtures/helpers.ts";

const ROOT = fixture("projects", "approval");

Deno.test("approval is enforced without an approvers file; only a written `mode: off` waives it", async (t) => {
  const world = await tempWorld({ prefix: "approval-enforced-" });
  const env = { MARKER_DIR: world.markers };
  const run = (config: string, runbook: string, ...extra: string[]) =>
    cli(runArgs(ROOT, { ...world, config }, runbook, ...extra, "--yes"), { env });
  try {
    await t.step("no approvers file: refused before anything runs, with the way out", async () => {
      const refused = await run(world.config, "release", "v1.2.0");
      assert.equal(refused.code, 1, refused.stderr);
      const path = join(ROOT, "approvers.yaml");
      assert.ok(refused.stderr.includes(`there is no approvers file at ${path}`), refused.stderr);
      assert.match(refused.stderr, /requires 1 approval by role approver, not the operator/);
      assert.match(refused.stderr, /deno task identity:keygen --name/);
      assert.match(refused.stderr, /deno task request release v1\.2\.0/);
      assert.match(refused.stderr, /deno task approve CR_ID/);
      assert.match(refused.stderr, /approval: \{ mode: off, reason: "\.\.\." \}/);
      assert.doesNotMatch(refused.stderr, /--emergency/, "release does not permit emergencies");
      assert.equal(await exists(join(world.markers, "release-v1.2.0")), false);
      assert.equal(await exists(join(world.stateDir, "runs")), false, "a run began");
    });

    await t.step("--approvers naming a missing file is refused the same way", async () => {
      const missing = join(world.dir, "gone.yaml");
      const refused = await run(world.config, "release", "v1.2.0", "--approvers", missing);
      assert.equal(refused.code, 1, refused.stderr);
      assert.ok(refused.stderr.includes(`no approvers file at ${missing}`), refused.stderr);
    });

    await t.step("a runbook that permits emergencies says so", async () => {
      const refused = await run(world.config, "fix");
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /--emergency "reason"/);
      assert.equal(await exists(join(world.markers, "fix")), false);
    });

    const base = await Deno.readTextFile(world.config);
    await t.step("`mode: off` without a reason is bad input (file:line:col)", async () => {
      const config = join(world.dir, "no-reason.yaml");
      await Deno.writeTextFile(config, `${base}approval:\n  mode: off\n`);
      const refused = await run(config, "release", "v1.2.0");
      assert.equal(refused.code, 2, refused.stderr);
      const line = base.split("\n").length + 1;
      assert.ok(
        refused.stderr.includes(
          `${config}:${line}:9: approval.mode: off needs a reason`,
        ),
        refused.stderr,
      );
      assert.equal(await exists(join(world.markers, "release-v1.2.0")), false);
    });

    await t.step(
      "`mode: off` with a reason: runs, and every entry of the run says so",
      async () => {
        const config = join(world.dir, "off.yaml");
        const reason = "single-person team until 2026-10";
        await Deno.writeTextFile(config, `${base}approval: { mode: off, reason: "${reason}" }\n`);
        const ran = await run(config, "release", "v1.2.0");
        assert.equal(ran.code, 0, ran.stderr);
        assert.match(ran.stderr, /approval: off for this project/);
        assert.ok(await exists(join(world.markers, "release-v1.2.0")));
        const entries = (await readAuditEntries(world.stateDir)).filter((e) => e.run);
        assert.ok(entries.length >= 3, JSON.stringify(entries));
        for (const entry of entries) {
          assert.equal(entry.approval, "off", JSON.stringify(entry));
          assert.equal(entry.approval_reason, reason);
        }

        const population = (format: string) =>
          todaysPopulation(world.stateDir, "release", "--format", format);
        const json = JSON.parse((await population("json")).stdout);
        assert.deepEqual(
          json.changes.map((c: Record<string, unknown>) => [c.authorization, c.approval_reason]),
          [["off", reason]],
        );
        const [record] = await runRecords(world.stateDir);
        const evidence = await cli([
          ...["checklist", "release", "--run", record.id, "--format", "md"],
          ...["--state-dir", world.stateDir],
        ]);
        assert.match(
          evidence.stdout,
          new RegExp(
            `^Approval: approval off for this project \\(protocol\\.yaml\\): "${reason}"$`,
            "m",
          ),
        );
        const md = (await population("md")).stdout;
        assert.match(md, /1 change\(s\); 0 unapproved, 1 with approval off,/);
        assert.match(md, new RegExp(`approval off \\(${reason}\\)`));
      },
    );
  } finally {
    await world.cleanup();
  }
});
