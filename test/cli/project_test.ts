/**
 * The CLI on the real project: a missing configuration says how to create one, `validate`
 * passes deploy, rollback and every task (and reports nothing but pending capabilities
 * elsewhere), and the committed JSON Schemas are up to date.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Problem } from "../../src/source/mod.ts";
import { cli, exists, listDir, ROOT, tempWorld } from "../fixtures/helpers.ts";

Deno.test("run without a configuration: exit 2, pointing at deno task init", async (t) => {
  const world = await tempWorld({ prefix: "runbook-noconfig-" });
  const empty = join(world.dir, "empty");
  await Deno.mkdir(empty);
  try {
    await t.step("nothing in INIT_CWD or cwd", async () => {
      const result = await cli(["run", "deploy", "v1.2.0", "--yes"], {
        cwd: empty,
        env: { INIT_CWD: empty, PROTOCOL_STATE_DIR: world.stateDir },
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /no project configuration: protocol\.yaml was not found in /);
      assert.ok(result.stderr.includes(empty), result.stderr);
      assert.match(result.stderr, /`deno task init`/);
      assert.equal(await exists(join(world.stateDir, "runs")), false, "a run began");
      assert.deepEqual(await listDir(empty), []);
    });

    await t.step("an invalid configuration names file:line:column", async () => {
      const config = join(world.dir, "bad.yaml");
      await Deno.writeTextFile(config, "app:\n  name: x\n  health: not a url\n");
      const result = await cli(["run", "deploy", "v1.2.0", "--yes", "--config", config], {
        cwd: empty,
        env: { INIT_CWD: empty, PROTOCOL_STATE_DIR: world.stateDir },
      });
      assert.equal(result.code, 2, result.stderr);
      assert.ok(result.stderr.includes(`${config}:2:3: app.repo: is required`), result.stderr);
      assert.ok(result.stderr.includes(`${config}:3:11: app.health:`), result.stderr);
      assert.equal(await exists(join(world.stateDir, "runs")), false, "a run began");
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("validate on the real project", async (t) => {
  const result = await cli(["validate", "--json"]);
  const results = JSON.parse(result.stdout) as { file: string; problems: Problem[] }[];
  const files = results.map((r) => r.file);

  await t.step("checks every runbook and task file", async () => {
    const expected = [
      ...(await listDir(join(ROOT, "runbooks"))).map((name) => `runbooks/${name}`),
      ...(await listDir(join(ROOT, "tasks"))).map((name) => `tasks/${name}`),
    ].filter((file) => /\.ya?ml$/.test(file));
    assert.deepEqual(files, expected);
    assert.ok(files.includes("runbooks/deploy.yaml"));
    assert.ok(files.includes("runbooks/rollback.yaml"));
  });

  await t.step("every runbook and task is clean, and validate exits 0", () => {
    for (const { file, problems } of results) assert.deepEqual(problems, [], file);
    assert.equal(result.code, 0, result.stderr);
  });

  await t.step("validate of the given files exits 0", async () => {
    const given = files.filter((file) =>
      file.startsWith("tasks/") || file === "runbooks/deploy.yaml"
    );
    const explicit = await cli(["validate", ...given], { env: { INIT_CWD: ROOT } });
    assert.equal(explicit.code, 0, explicit.stdout);
    for (const file of given) assert.ok(explicit.stdout.includes(`ok   ${file}`), file);
  });
});

Deno.test("schema", async (t) => {
  await t.step("schema --check: the committed schema files are up to date", async () => {
    const result = await cli(["schema", "--check"]);
    assert.equal(result.code, 0, result.stderr);
  });

  await t.step("schema writes files that --check then accepts", async () => {
    const root = await Deno.makeTempDir({ prefix: "runbook-schema-" });
    try {
      const before = await cli(["schema", "--check", "--root", root]);
      assert.equal(before.code, 1, "--check passed with no schema files");
      const write = await cli(["schema", "--root", root]);
      assert.equal(write.code, 0, write.stderr);
      assert.deepEqual(await listDir(join(root, "schema")), [
        "runbook.schema.json",
        "task.schema.json",
      ]);
      const schema = JSON.parse(
        await Deno.readTextFile(join(root, "schema", "runbook.schema.json")),
      );
      assert.ok(schema.properties.steps, "no steps in the runbook schema");
      const after = await cli(["schema", "--check", "--root", root]);
      assert.equal(after.code, 0, after.stderr);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
});
