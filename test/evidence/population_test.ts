/**
 * The auditor's view: the population of a period equals the changes made (none missing, drills
 * apart), the same seed gives the same sample, and the evidence pack verifies with plain shell
 * and opens in headless Chromium with its summary in view.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { appendAudit } from "../../src/audit/mod.ts";
import { defaultSeed } from "../../src/evidence/population_load.ts";
import { makeCheckpoint } from "../../src/audit/checkpoint_core.ts";
import { generateSigningKey } from "../../src/audit/mod.ts";
import { Buffer } from "node:buffer";
import { newKeyPair, signerFromPem } from "../../src/audit/keys.ts";
import { leafHash, rootsAtSizes } from "../../src/audit/merkle.ts";
import { loadSigner } from "../../src/audit/signing.ts";
import {
  cli,
  fixture,
  runArgs,
  runRecords,
  tempWorld,
  today,
  todaysPopulation,
} from "../fixtures/helpers.ts";
import { screenshot, shareOf } from "./chromium.ts";

const ROOT = fixture("projects", "approval");

Deno.test("population, sample and evidence pack of a period", async (t) => {
  const world = await tempWorld({ prefix: "population-" });
  try {
    const env = {
      PROTOCOL_IDENTITY_DIR: join(world.dir, "home", "bob"),
      MARKER_DIR: world.markers,
    };
    const made = await cli(["identity:keygen", "--name", "bob@example.com"], { env });
    assert.equal(made.code, 0, made.stderr);
    for (let i = 0; i < 3; i++) {
      const ran = await cli(runArgs(ROOT, world, "hello"), { env });
      assert.equal(ran.code, 0, ran.stderr);
    }
    const emergency = await cli(runArgs(ROOT, world, "fix", "--emergency", "site down"), { env });
    assert.equal(emergency.code, 0, emergency.stderr);
    // A drill's closing entry, as the drill command writes it: listed apart, never a change.
    await appendAudit(world.stateDir, {
      action: "drill",
      drill: true,
      drill_id: "webshell",
      runbook: "incident-response",
      scenario: "webshell",
      status: "success",
    });
    const runs = (await runRecords(world.stateDir)).map((r) => r.id).sort();
    const population = (...extra: string[]) =>
      todaysPopulation(world.stateDir, "hello,fix", ...extra);

    await t.step("every change of the period, one row each, drills apart", async () => {
      const result = await population("--format", "json");
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      assert.deepEqual(json.changes.map((c: { run: string }) => c.run).sort(), runs);
      assert.deepEqual(json.changes.map((c: { authorization: string }) => c.authorization), [
        "none",
        "none",
        "none",
        "emergency",
      ]);
      assert.equal(json.changes[3].retro, "pending");
      assert.equal(json.changes[3].operator, "bob@example.com");
      assert.ok(json.changes.every((c: { criteria: string }) => c.criteria === "none"));
      assert.deepEqual(json.drills.map((d: { drill: string }) => d.drill), ["webshell"]);
      const csv = await population("--format", "csv");
      assert.equal(csv.stdout.trimEnd().split("\r\n").length, 5);
      const empty = await cli([
        "audit:population",
        "--from",
        "2020-01-01",
        "--to",
        "2020-03-31",
        "--state-dir",
        world.stateDir,
        "--format",
        "json",
      ]);
      assert.deepEqual(JSON.parse(empty.stdout).changes, []);
    });

    await t.step("the same seed gives the same sample", async () => {
      const draw = async (seed: string) =>
        JSON.parse((await population("--format", "json", "--sample", "2", "--seed", seed)).stdout)
          .sample.rows.map((r: { run: string }) => r.run);
      const first = await draw("auditor-2026");
      assert.equal(first.length, 2);
      assert.deepEqual(await draw("auditor-2026"), first);
      const fallback = await population("--sample", "2");
      assert.match(fallback.stderr, /NO checkpoint at or after the period's end/);
    });

    await t.step("a run's evidence opens with a summary: result, operator, approval", async () => {
      const fix = (await runRecords(world.stateDir)).find((r) => r.runbook === "fix")!;
      const html = await cli([
        "checklist",
        "fix",
        "--run",
        fix.id,
        "--format",
        "html",
        "--state-dir",
        world.stateDir,
        "--root",
        ROOT,
      ]);
      assert.equal(html.code, 0, html.stderr);
      const summary = /<section id="summary">([\s\S]*?)<\/section>/.exec(html.stdout)?.[1] ?? "";
      assert.ok(html.stdout.indexOf('id="summary"') < html.stdout.indexOf("<table>"));
      assert.match(summary, /<dt>Result<\/dt><dd>success<\/dd>/);
      assert.match(summary, /emergency change CR-\d{8}-[0-9a-f]{6} \(no prior approval\)/);
      assert.match(summary, /<dt>Nodes<\/dt><dd>local \(success\)<\/dd>/);
      assert.match(html.stdout, /<td class="nowrap">local<\/td>/);
    });

    await t.step("the evidence pack verifies and opens in Chromium, summary first", async () => {
      const out = join(world.dir, "pack");
      const packed = await cli([
        "evidence:pack",
        `${today()}..${today()}`,
        "--out",
        out,
        "--runbooks",
        "hello,fix",
        "--sample",
        "2",
        "--state-dir",
        world.stateDir,
        "--root",
        ROOT,
      ]);
      assert.equal(packed.code, 0, packed.stderr);
      const index = await Deno.readTextFile(join(out, "index.html"));
      assert.ok(index.indexOf('id="summary"') < index.indexOf("<h2>Sample"));
      assert.match(
        index,
        /Unapproved changes: 3<\/b>/,
        "three unapproved changes listed as exceptions",
      );
      const sampled = (await Deno.readTextFile(join(out, "sample.csv"))).trim().split("\r\n");
      assert.equal(sampled.length, 3);
      const verify = await new Deno.Command("sh", { args: [join(out, "verify")] }).output();
      const said = new TextDecoder().decode(verify.stdout);
      assert.equal(verify.code, 0, said);
      assert.match(said, /claims: 5 checked/);
      const shot = await screenshot(join(out, "index.html"), join(world.dir, "pack.png"));
      // The summary box (red-tinted: there are exceptions) fills much of the first screen.
      assert.ok(shareOf(shot, [0xfd, 0xec, 0xec]) > 0.1, "summary visible in the screenshot");
      const log = join(out, "log", "deployments.log");
      const lines = (await Deno.readTextFile(log)).split("\n");
      lines[1] = lines[1].replace('"status":"', '"status":"x');
      await Deno.writeTextFile(log, lines.join("\n"));
      const tampered = await new Deno.Command("sh", { args: [join(out, "verify")] }).output();
      assert.equal(tampered.code, 1);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("default seed: the first checkpoint at or after the period's end that the log holds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await generateSigningKey(dir);
    for (const to of ["v1", "v2", "v3"]) await appendAudit(dir, { action: "deploy", to });
    const signer = await loadSigner(dir);
    const lines = (await Deno.readTextFile(join(dir, "deployments.log"))).trimEnd().split("\n");
    const root = rootsAtSizes(lines.map((l) => leafHash(new TextEncoder().encode(l))), [3]).get(3)!;
    const other = newKeyPair();
    await Deno.mkdir(join(dir, "checkpoints"));
    // Real C2SP checkpoints, named as audit:checkpoint names them (the time it wrote them).
    const write = (ts: string, root: Uint8Array, by = signer) =>
      Deno.writeTextFile(
        join(dir, "checkpoints", `${ts.replace(/[:.]/g, "-")}.txt`),
        makeCheckpoint("example.org/audit", 3, root, by),
      );
    await write("2026-09-30T23:00:00.000Z", root);
    await write("2026-10-01T01:00:00.000Z", new Uint8Array(32).fill(0xaa)); // a root of no log
    await write("2026-10-01T02:00:00.000Z", root, signerFromPem(other.privatePem)); // another key
    await write("2026-10-01T08:00:00.000Z", root);
    await write("2026-10-03T08:00:00.000Z", root);
    await Deno.writeTextFile(join(dir, "checkpoints", "notes.txt"), "not a checkpoint");
    const seed = await defaultSeed(dir, [], new Date("2026-10-01T00:00:00Z"));
    assert.equal(seed.seed, Buffer.from(root).toString("hex"));
    assert.match(seed.source, /checkpoint 2026-10-01T08-00-00-000Z\.txt \(3 entries/);
    assert.match(seed.source, /skipped.*2026-10-01T01-00-00-000Z\.txt \(rewritten since the/);
    assert.match(seed.source, /2026-10-01T02-00-00-000Z\.txt \(.*signed by no key of this history/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
