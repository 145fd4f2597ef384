/**
 * The population an auditor gets must be complete and checkable: a run killed before it could
 * record its end is still a change of the period, a log the deploy user cut is refused rather
 * than listed as if whole, the output names the verified log it was drawn from, and a day that
 * does not exist is bad input, not a silently shifted period.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import {
  appendAudit,
  type AuditFields,
  auditPaths,
  readAuditEntries,
  verifyAuditLog,
} from "../../src/audit/mod.ts";
import { makeCheckpoint } from "../../src/audit/checkpoint_core.ts";
import { loadSigner } from "../../src/audit/signing.ts";
import { team } from "../approval/team.ts";
import {
  cli,
  eventually,
  fixture,
  runArgs,
  spawnCli,
  tempWorld,
  today,
  todaysPopulation,
} from "../fixtures/helpers.ts";

const APPROVAL = fixture("projects", "approval");

Deno.test("a run killed mid-step is in the population, as unfinished", async () => {
  const world = await tempWorld({ prefix: "population-killed-" });
  try {
    const root = join(world.dir, "project");
    await Deno.mkdir(join(root, "runbooks"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "runbooks", "slow.yaml"),
      [
        "id: slow",
        "title: A change that takes a while",
        "when: A test kills it in the middle",
        "steps:",
        "  - name: Change something slowly",
        '    run: echo $$ > "$MARKER_DIR/pid"; exec sleep 60',
        "",
      ].join("\n"),
    );
    const env = { MARKER_DIR: world.markers };
    const done = await cli(runArgs(root, world, "slow", "--dry-run"), { env });
    assert.equal(done.code, 0, done.stderr);
    const { child, result } = spawnCli(runArgs(root, world, "slow"), { env });
    const pidFile = join(world.markers, "pid");
    assert.ok(
      await eventually(async () => (await Deno.readTextFile(pidFile).catch(() => "")) !== ""),
    );
    child.kill("SIGKILL");
    await result;
    Deno.kill(Number((await Deno.readTextFile(pidFile)).trim()), "SIGKILL");

    const population = await todaysPopulation(world.stateDir, "slow", "--format", "json");
    assert.equal(population.code, 0, population.stderr);
    const changes = JSON.parse(population.stdout).changes;
    assert.equal(changes.length, 1, population.stdout);
    assert.equal(changes[0].runbook, "slow");
    assert.equal(changes[0].result, "unfinished");
    const md = await todaysPopulation(world.stateDir, "slow");
    assert.match(md.stdout, /unfinished/);
  } finally {
    await world.cleanup();
  }
});

Deno.test("the population refuses a cut log and names the verified log it was drawn from", async (t) => {
  const world = await tempWorld({ prefix: "population-cut-" });
  try {
    for (let i = 0; i < 2; i++) {
      const ran = await cli(runArgs(APPROVAL, world, "hello"), {
        env: { MARKER_DIR: world.markers },
      });
      assert.equal(ran.code, 0, ran.stderr);
    }

    await t.step("the JSON names the entries, last seq and hash that verified", async () => {
      const result = await todaysPopulation(world.stateDir, "hello", "--format", "json");
      assert.equal(result.code, 0, result.stderr);
      const json = JSON.parse(result.stdout);
      const verified = await verifyAuditLog(world.stateDir);
      assert.deepEqual(json.log, {
        verified: true,
        entries: verified.entries,
        last_seq: verified.entries,
        last_hash: verified.lastHash,
      });
      assert.equal(json.changes.length, 2);
      const md = await todaysPopulation(world.stateDir, "hello");
      assert.match(md.stdout, new RegExp(`${verified.entries} entries.*${verified.lastHash}`));
    });

    await t.step(
      "a run's closing entry deleted: refused (exit 1) naming file and line",
      async () => {
        const log = auditPaths(world.stateDir).log;
        const lines = (await Deno.readTextFile(log)).split("\n");
        const closing = lines.findIndex((l) =>
          l.includes('"action":"run"') && l.includes('"runbook":"hello"') &&
          l.includes('"status":"success"')
        );
        assert.ok(closing > 0);
        lines.splice(closing, 1);
        await Deno.writeTextFile(log, lines.join("\n"));
        for (const format of ["json", "csv", "md"]) {
          const result = await todaysPopulation(world.stateDir, "hello", "--format", format);
          assert.equal(result.code, 1, `${format}: ${result.stdout}`);
          assert.equal(result.stdout, "");
          assert.match(result.stderr, new RegExp(`deployments\\.log:${closing + 1}: deleted`));
        }
      },
    );
  } finally {
    await world.cleanup();
  }
});

Deno.test("a day that does not exist is bad input, not a shifted period", async () => {
  const world = await tempWorld({ prefix: "population-days-" });
  try {
    for (const [from, to] of [["2026-02-01", "2026-02-30"], ["2026-06-31", today()]]) {
      const result = await cli([
        "audit:population",
        ...["--from", from, "--to", to, "--state-dir", world.stateDir],
      ]);
      assert.equal(result.code, 2, `${from}..${to}: ${result.stdout}`);
      assert.match(result.stderr, /(2026-02-30|2026-06-31) is not a day of the calendar/);
    }
  } finally {
    await world.cleanup();
  }
});

Deno.test("a checkpoint file the log does not hold cannot choose the sample's seed", async () => {
  const world = await tempWorld({ prefix: "population-seed-" });
  try {
    for (let i = 0; i < 3; i++) {
      const ran = await cli(runArgs(APPROVAL, world, "hello"), {
        env: { MARKER_DIR: world.markers },
      });
      assert.equal(ran.code, 0, ran.stderr);
    }
    // The deploy user plants a "checkpoint" dated just after the period, signed with the
    // current key, whose root they chose (ground until the sample misses the change they fear).
    const signer = await loadSigner(world.stateDir);
    const end = new Date(Date.parse(`${today()}T00:00:00Z`) + 86_400_000);
    const name = `${end.toISOString().replace(/[:.]/g, "-")}.txt`;
    await Deno.writeTextFile(
      join(auditPaths(world.stateDir).checkpoints, name),
      makeCheckpoint("example.org/audit", 3, new Uint8Array(32).fill(0xee), signer),
    );
    const drawn = await todaysPopulation(world.stateDir, "hello", "--sample", "1");
    assert.equal(drawn.code, 0, drawn.stderr);
    assert.doesNotMatch(drawn.stderr, new RegExp("ee".repeat(32)));
    const verified = await verifyAuditLog(world.stateDir);
    assert.match(drawn.stderr, new RegExp(`sample seed: ${verified.lastHash} `));
    assert.match(drawn.stderr, new RegExp(`does not hold them: ${name} \\(rewritten`));
  } finally {
    await world.cleanup();
  }
});

Deno.test("a run that passed no gate of its own is unapproved, whatever request it names", async () => {
  const world = await tempWorld({ prefix: "population-bypass-" });
  try {
    const { env } = await team(world);
    const ran = await cli(runArgs(APPROVAL, world, "fix", "--emergency", "site down"), {
      env: env("bob"),
    });
    assert.equal(ran.code, 0, ran.stderr);
    const entries = await readAuditEntries(world.stateDir);
    const request = String(entries.find((e) => e.action === "change.request")!.request);
    const reviewed = await cli(
      ["approve", request, "--retro", "--yes", "--root", APPROVAL, "--state-dir", world.stateDir],
      { env: env("alice") },
    );
    assert.equal(reviewed.code, 0, reviewed.stderr);
    // The deploy user runs a program of their own: the same change again, its entries signed
    // with the current key and naming the reviewed emergency request, no gate passed.
    for (const e of entries.filter((e) => e.action === "run" && !String(e.run).includes("@"))) {
      const { seq: _s, ts: _t, host: _h, user: _u, prev: _p, kid: _k, sig: _g, ...fields } = e;
      await appendAudit(world.stateDir, { ...fields, run: `${e.run}-again` } as AuditFields);
    }

    const population = await todaysPopulation(world.stateDir, "fix", "--format", "json");
    assert.equal(population.code, 0, population.stderr);
    const rows = JSON.parse(population.stdout).changes;
    assert.deepEqual(
      rows.map((r: Record<string, unknown>) => [r.request, r.authorization, r.retro]),
      [[request, "emergency", "reviewed"], [request, "none", undefined]],
    );
  } finally {
    await world.cleanup();
  }
});

Deno.test("approvals count only with a signature that verifies from the log alone", async () => {
  const world = await tempWorld({ prefix: "population-forged-" });
  try {
    const { as, keys } = await team(world);
    const fix = (...extra: string[]) => as("bob", ...runArgs(APPROVAL, world, "fix", ...extra));
    const bogus = Buffer.alloc(64, 7).toString("base64");
    const entryOf = async (action: string, request: string) =>
      (await readAuditEntries(world.stateDir)).find((e) =>
        e.action === action && e.request === request
      )!;
    // What a program of the deploy user's own appends: any entry, signed by the audit key.
    const forge = (fields: Record<string, unknown>) =>
      appendAudit(world.stateDir, fields as AuditFields);
    const requestFix = async () => {
      const made = await as("bob", "request", "fix", "--root", APPROVAL, "--config", world.config);
      assert.equal(made.code, 0, made.stderr);
      return made.stdout.trim();
    };
    const replayRun = async (request: string, run: string) => {
      for (const status of ["initiated", "success"]) {
        await forge({ action: "run", run, runbook: "fix", target: "local", request, status });
      }
    };

    // 1. An emergency whose retro-review is forged: alice's name, no signature of hers.
    assert.equal((await fix("--emergency", "site down")).code, 0);
    const opened = (await readAuditEntries(world.stateDir))
      .find((e) => e.action === "change.request")!;
    await forge({
      action: "change.approval",
      request: opened.request,
      request_hash: opened.request_hash,
      approver: "alice@example.com",
      approver_key: keys.alice,
      kind: "retro",
      approved_at: new Date().toISOString(),
      signature: bogus,
      status: "success",
    });
    // 2. A request alice really approved, carried out, then replayed behind a forged check.
    const approved = await requestFix();
    assert.equal((await as("alice", "approve", approved, "--yes", "--root", APPROVAL)).code, 0);
    assert.equal((await fix("--request", approved)).code, 0);
    await forge({ action: "change.check", request: approved, runbook: "fix", status: "success" });
    await replayRun(approved, "20991231T000000Z-aaaaaa");
    // 3. A request nobody approved, with a forged approval and a forged check.
    const unapproved = await requestFix();
    const asked = await entryOf("change.request", unapproved);
    await forge({
      action: "change.approval",
      request: unapproved,
      request_hash: asked.request_hash,
      approver: "alice@example.com",
      approver_key: keys.alice,
      kind: "prior",
      approved_at: new Date().toISOString(),
      signature: bogus,
      status: "success",
    });
    await forge({ action: "change.check", request: unapproved, runbook: "fix", status: "success" });
    await replayRun(unapproved, "20991231T000000Z-bbbbbb");

    const population = await todaysPopulation(world.stateDir, "fix", "--format", "json");
    assert.equal(population.code, 0, population.stderr);
    const rows = JSON.parse(population.stdout).changes;
    assert.deepEqual(
      rows.map((r: Record<string, unknown>) => [r.authorization, r.retro, r.approvers]),
      [
        ["emergency", "pending", []],
        ["approved", undefined, ["alice@example.com"]],
        ["none", undefined, []],
        ["none", undefined, []],
      ],
      JSON.stringify(rows, null, 1),
    );
  } finally {
    await world.cleanup();
  }
});
