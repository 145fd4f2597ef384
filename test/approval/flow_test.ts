/**
 * The approval flow end to end, through the real CLI: identities, approvers.yaml, a signed
 * request, approvals, the gate of `run`, emergency runs and their retro-review in `schedule`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import {
  cli,
  exists,
  fixture,
  runRecords,
  type TempWorld,
  tempWorld,
} from "../fixtures/helpers.ts";
import { personKeyId } from "../../src/approval/mod.ts";

const ROOT = fixture("projects", "approval");
const SCHEDULE = join(fixture(), "..", "..", "policies", "schedule.yaml");

async function git(dir: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args: ["-C", dir, ...args], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

/** The app repository the config names, with an annotated tag v1.2.0. */
async function appRepo(world: TempWorld): Promise<string> {
  const repo = join(world.dir, "no-repo.git");
  await git(world.dir, "init", "--quiet", repo);
  for (const [k, v] of [["user.name", "t"], ["user.email", "t@example.com"]]) {
    await git(repo, "config", k, v);
  }
  await git(repo, "commit", "--quiet", "--allow-empty", "-m", "first");
  await git(repo, "tag", "-a", "v1.2.0", "-m", "v1.2.0");
  return repo;
}

Deno.test("approvals: only an approved, matching request runs; emergencies owe a retro-review", async (t) => {
  const world = await tempWorld({ prefix: "approval-flow-" });
  const heard: Record<string, unknown>[] = [];
  const hook = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    heard.push(await req.json());
    return new Response("ok");
  });
  try {
    const repo = await appRepo(world);
    const approversFile = join(world.dir, "approvers.yaml");
    await Deno.writeTextFile(
      world.config,
      `notify:\n  webhooks:\n    - url: http://127.0.0.1:${hook.addr.port}/\n` +
        `      events: [request.created, approval.given]\n`,
      { append: true },
    );
    const env = (who: string) => ({
      PROTOCOL_IDENTITY_DIR: join(world.dir, "home", who),
      PROTOCOL_APPROVERS: approversFile,
      MARKER_DIR: world.markers,
    });
    const as = (who: string, ...args: string[]) =>
      cli([...args, "--state-dir", world.stateDir], { env: env(who) });
    /** `who` asks for approval to run `release v1.2.0`. */
    const request = (who: string) =>
      as(who, "request", "release", "v1.2.0", "--root", ROOT, "--config", world.config);
    const run = (who: string, runbook: string, ...extra: string[]) =>
      as(who, "run", runbook, ...extra, "--root", ROOT, "--config", world.config, "--yes");

    const keys: Record<string, string> = {};
    for (const who of ["alice", "bob"]) {
      const made = await as(who, "identity:keygen", "--name", `${who}@example.com`, "--json");
      assert.equal(made.code, 0, made.stderr);
      keys[who] = JSON.parse(made.stdout).public_key;
    }
    await Deno.writeTextFile(
      approversFile,
      `approvers:\n` +
        `  - name: alice@example.com\n    public_key: ${keys.alice}\n    roles: [deployer, approver]\n` +
        `  - name: bob@example.com\n    public_key: ${keys.bob}\n    roles: [deployer]\n`,
    );

    await t.step("a run without a request is refused before anything runs", async () => {
      const refused = await run("bob", "release", "v1.2.0");
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /needs an approved change request/);
      assert.equal(await exists(join(world.markers, "release-v1.2.0")), false);
    });

    const requested = await request("bob");
    assert.equal(requested.code, 0, requested.stderr);
    const id = requested.stdout.trim();
    assert.match(id, /^CR-\d{8}-[0-9a-f]{6}$/);

    await t.step("a request nobody approved is refused", async () => {
      const refused = await run("bob", "release", "v1.2.0", "--request", id);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /too_few_approvals/);
    });

    await t.step("the operator cannot approve their own request", async () => {
      const notApprover = await as("bob", "approve", id, "--yes", "--root", ROOT);
      assert.equal(notApprover.code, 1);
      assert.match(notApprover.stderr, /not listed as an approver/);
      const own = await request("alice");
      assert.equal(own.code, 0, own.stderr);
      const self = await as("alice", "approve", own.stdout.trim(), "--yes", "--root", ROOT);
      assert.equal(self.code, 1);
      assert.match(self.stderr, /not_operator: alice@example\.com requested/);
    });

    await t.step("an approved request whose parameters changed is refused", async () => {
      const approved = await as(
        "alice",
        "approve",
        id,
        "--yes",
        "--root",
        ROOT,
        "--config",
        world.config,
      );
      assert.equal(approved.code, 0, approved.stderr);
      const told = heard.filter((m) => m.request === id);
      assert.deepEqual(told.map((m) => m.event), ["request.created", "approval.given"]);
      assert.deepEqual(told[1].approvers, ["alice@example.com"]);
      assert.equal(told[1].operator, "bob@example.com");
      const entries = await readAuditEntries(world.stateDir);
      for (const message of told) {
        const entry = entries.find((e) => e.seq === message.audit_seq);
        assert.equal(entry?.request, id);
      }
      const changed = await run("bob", "release", "v1.2.1", "--request", id);
      assert.equal(changed.code, 1);
      assert.match(changed.stderr, /params_changed: .*version="v1\.2\.1" \(approved: "v1\.2\.0"\)/);
      assert.equal(await exists(join(world.markers, "release-v1.2.1")), false);
    });

    await t.step("someone else cannot carry out bob's request", async () => {
      const other = await run("alice", "release", "v1.2.0", "--request", id);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /operator_changed/);
    });

    await t.step("the approved request runs, and the run's entries name it", async () => {
      const ok = await run("bob", "release", "v1.2.0", "--request", id);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, new RegExp(`${id} approved by alice@example\\.com`));
      assert.ok(await exists(join(world.markers, "release-v1.2.0")));
      const entries = await readAuditEntries(world.stateDir);
      const actions = entries.filter((e) => e.request === id).map((e) => e.action);
      assert.ok(actions.includes("change.request"), actions.join());
      assert.ok(actions.includes("change.approval"));
      assert.ok(actions.includes("change.check"));
      const runs = entries.filter((e) => e.action === "run");
      assert.ok(runs.length >= 2 && runs.every((e) => e.request === id), JSON.stringify(runs));
    });

    await t.step(
      "its evidence names the request, the approver and the key she signed with",
      async () => {
        const record = (await runRecords(world.stateDir)).find((r) =>
          r.runbook === "release" && r.status === "success"
        )!;
        const evidence = (format: string) =>
          as("bob", "checklist", "release", "--run", record.id, "--format", format);
        const keyId = personKeyId(keys.alice);
        assert.match(keyId, /^[0-9a-f]{16}$/);
        const signed = new RegExp(
          `alice@example\\.com \\(key ${keyId}, \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\) — request ${id}`,
        );
        const md = await evidence("md");
        assert.equal(md.code, 0, md.stderr);
        assert.match(md.stdout, new RegExp(`^Approval: ${signed.source}$`, "m"));
        assert.match(
          (await evidence("html")).stdout,
          new RegExp(`<dt>Approvers</dt><dd>${signed.source}`),
        );
        const json = JSON.parse((await evidence("json")).stdout);
        assert.equal(json.request, id);
        assert.deepEqual(
          json.approvals.map((a: { name: string; key_id: string }) => [a.name, a.key_id]),
          [
            ["alice@example.com", keyId],
          ],
        );
      },
    );

    await t.step("a tag moved after approval is refused (commit changed)", async () => {
      await git(repo, "commit", "--quiet", "--allow-empty", "-m", "sneaky");
      await git(repo, "tag", "-f", "-a", "v1.2.0", "-m", "moved");
      const moved = await run("bob", "release", "v1.2.0", "--request", id);
      assert.equal(moved.code, 1);
      assert.match(moved.stderr, /commit_changed/);
    });

    await t.step("a request file edited after signing is refused", async () => {
      const path = join(world.stateDir, "requests", `${id}.json`);
      const file = JSON.parse(await Deno.readTextFile(path));
      file.request.nodes = ["local", "web-9"];
      await Deno.writeTextFile(path, JSON.stringify(file));
      const edited = await run("bob", "release", "v1.2.0", "--request", id);
      assert.equal(edited.code, 1);
      assert.match(edited.stderr, /bad_signature/);
    });

    await t.step("--emergency only where the runbook permits it", async () => {
      const refused = await run("bob", "release", "v1.2.0", "--emergency", "site down");
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /does not permit emergency runs/);
    });

    await t.step("an emergency runs, is flagged, and is overdue until retro-reviewed", async () => {
      const ran = await run("bob", "fix", "--emergency", "checkout returns 500");
      assert.equal(ran.code, 0, ran.stderr);
      assert.ok(await exists(join(world.markers, "fix")));
      const emergency = /EMERGENCY change (CR-\d{8}-[0-9a-f]{6})/.exec(ran.stderr)?.[1];
      assert.ok(emergency, ran.stderr);
      const entries = await readAuditEntries(world.stateDir);
      const opened = entries.find((e) => e.action === "change.request" && e.request === emergency);
      assert.equal(opened?.emergency, true);
      assert.equal(opened?.reason, "checkout returns 500");
      assert.ok(
        entries.filter((e) => e.action === "run" && e.request === emergency)
          .every((e) => e.emergency === true),
      );
      const later = new Date(Date.now() + 5 * 86_400_000).toISOString();
      const schedule = (now: string) =>
        as("alice", "schedule", "--file", SCHEDULE, "--format", "json", "--now", now);
      const before = JSON.parse((await schedule(later)).stdout);
      assert.deepEqual(
        before.retro_reviews.map((r: { status: string }) => r.status),
        ["overdue"],
      );
      assert.ok(before.overdue.includes(`retro-review ${emergency}`));
      const md = await as("alice", "schedule", "--file", SCHEDULE, "--now", later);
      assert.match(md.stdout, new RegExp(`${emergency}.*\\*\\*OVERDUE\\*\\*`));
      const selfReview = await as("bob", "approve", emergency!, "--retro", "--yes", "--root", ROOT);
      assert.equal(selfReview.code, 1);
      const review = await as("alice", "approve", emergency!, "--retro", "--yes", "--root", ROOT);
      assert.equal(review.code, 0, review.stderr);
      const after = JSON.parse((await schedule(later)).stdout);
      assert.equal(after.retro_reviews[0].status, "reviewed");
      assert.equal(after.retro_reviews[0].reviewedBy, "alice@example.com");
      assert.ok(!after.overdue.includes(`retro-review ${emergency}`));
    });

    await t.step("the audit log still verifies", async () => {
      const verified = await as("alice", "audit:verify");
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    });
  } finally {
    await hook.shutdown();
    await world.cleanup();
  }
});
