/**
 * Shell injection through parameters: a value with no pattern reaches the script as exactly one
 * argument and runs nothing; deploy.yaml's pattern refuses such a value before anything runs.
 * The first payload goes through the real CLI process; the rest through the same `main` in this
 * process (the same argv, parsing, binding and steps, without a Deno start-up each).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createDemoWorld } from "../../src/demo/app.ts";
import { generateSigningKey } from "../../src/audit/mod.ts";
import { ensureStateDir } from "../../src/state/mod.ts";
import { cli, exists, fixture, listDir, runRecords, tempWorld } from "../fixtures/helpers.ts";
import { inProcess } from "../fixtures/in_process.ts";

/** The first payload through the real CLI, the others in this process. */
async function runCli(first: boolean, args: string[], env: Record<string, string> = {}) {
  return first ? await cli(args, { env }) : await inProcess(args, { env });
}

const payloads = (marker: string) => [
  `v1.2.0; touch ${marker}`,
  `v1.2.0 && touch ${marker}`,
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `'; touch ${marker}; '`,
  `"; touch ${marker}; "`,
  `v1.2.0\ntouch ${marker}`,
  `v1.2.0 | tee ${marker}`,
  `it's $HOME * ${marker}`,
];

Deno.test("a parameter without a pattern stays one argument", async (t) => {
  const world = await tempWorld({ prefix: "runbook-injection-" });
  const marker = join(world.dir, "pwned");
  const root = fixture("projects", "injection");
  const common = ["--root", root, "--config", world.config, "--state-dir", world.stateDir];
  const env = { MARKER_DIR: world.markers };
  try {
    for (const [i, value] of payloads(marker).entries()) {
      await t.step(JSON.stringify(value), async () => {
        for (const how of ["positional", "-p"] as const) {
          const args = how === "positional" ? [value] : ["-p", `x=${value}`];
          const result = await runCli(i === 0 && how === "positional", [
            "run",
            "echo",
            ...args,
            ...common,
          ], env);
          assert.equal(result.code, 0, result.stderr);
          assert.equal(await Deno.readTextFile(join(world.markers, "out")), value, how);
          assert.equal(await Deno.readTextFile(join(world.markers, "count")), "1", how);
          assert.equal(await exists(marker), false, `${how}: the value ran a command`);
          await Deno.remove(join(world.markers, "out"));
          await Deno.remove(join(world.markers, "count"));
        }
      });
    }

    await t.step("the run record holds the command with the value quoted", async () => {
      const records = await runRecords(world.stateDir);
      const value = `v1.2.0; touch ${marker}`;
      const record = records.find((r) => r.params.x === value);
      assert.ok(record, "no run record with that value");
      assert.equal(record.status, "success");
      assert.equal(
        record.steps[0].command,
        `printf '%s' 'v1.2.0; touch ${marker}' > "$MARKER_DIR/out"`,
      );
    });

    await t.step("plan shows the same quoted command and runs nothing", async () => {
      const value = `'; touch ${marker}; '`;
      const result = await cli(["plan", "echo", value, ...common], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(
        result.stdout.includes(`$ printf '%s' ''\\''; touch ${marker}; '\\''' > "$MARKER_DIR/out"`),
        result.stdout,
      );
      assert.deepEqual(await listDir(world.markers), []);
      assert.equal(await exists(marker), false);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("deploy refuses a version that does not match its pattern, before anything runs", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "runbook-injection-deploy-" });
  try {
    const demo = await createDemoWorld(dir);
    await ensureStateDir(demo.stateDir);
    await generateSigningKey(demo.stateDir);
    const marker = join(dir, "pwned");
    const refused = [...payloads(marker), "main", "v1.2", "v1.2.0 ", " v1.2.0", "refs/tags/v1.2.0"];
    for (const [i, value] of refused.entries()) {
      await t.step(JSON.stringify(value), async () => {
        const result = await runCli(i === 0, [
          "run",
          "deploy",
          value,
          "--yes",
          "--config",
          demo.config,
          "--state-dir",
          demo.stateDir,
        ]);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, /error: parameter "version" must match v\\d\+/);
        assert.ok(result.stderr.includes(JSON.stringify(value)), result.stderr);
        assert.equal(await exists(marker), false);
        assert.deepEqual(await listDir(demo.appDir), [], "the app directory changed");
        assert.deepEqual(await listDir(join(demo.stateDir, "runs")), [], "a run began");
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
