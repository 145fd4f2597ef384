/**
 * A deploy user who points the gate at an approvers file of their own — listing a second key
 * they generated under a real approver's name — gets their change through (the host reads
 * whatever file it is given). What they must not get is evidence that looks like the real
 * approver's: the audit log, the population and the evidence pack name the approver's key id
 * and the git blob of the approvers file each change was checked against, so the auditor
 * tells the two apart with `git log --find-object` on the protected branch.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readAuditEntries } from "../../src/audit/mod.ts";
import { personKeyId } from "../../src/approval/mod.ts";
import { cli, fixture, tempWorld, today } from "../fixtures/helpers.ts";

const ROOT = fixture("projects", "approval");

async function git(dir: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("a change approved under a swapped approvers file is told apart in the evidence", async () => {
  const world = await tempWorld({ prefix: "approval-swapped-" });
  try {
    const repo = join(world.dir, "no-repo.git");
    await git(world.dir, "init", "--quiet", repo);
    await git(repo, "commit", "--quiet", "--allow-empty", "-m", "first");
    await git(repo, "tag", "-a", "v1.2.0", "-m", "v1.2.0");
    const as = (home: string, approvers: string, ...args: string[]) =>
      cli([...args, "--state-dir", world.stateDir, "--approvers", approvers], {
        env: { PROTOCOL_IDENTITY_DIR: join(world.dir, "home", home), MARKER_DIR: world.markers },
      });
    const keys: Record<string, string> = {};
    for (const [home, name] of [["alice", "alice"], ["bob", "bob"], ["bob-as-alice", "alice"]]) {
      const made = await cli(["identity:keygen", "--name", `${name}@example.com`, "--json"], {
        env: { PROTOCOL_IDENTITY_DIR: join(world.dir, "home", home) },
      });
      assert.equal(made.code, 0, made.stderr);
      keys[home] = JSON.parse(made.stdout).public_key;
    }
    const listing = (alice: string) =>
      `approvers:\n` +
      `  - name: alice@example.com\n    public_key: ${alice}\n    roles: [approver]\n` +
      `  - name: bob@example.com\n    public_key: ${keys.bob}\n    roles: [deployer]\n`;
    // The reviewed file, committed on the protected branch.
    const team = join(world.dir, "team");
    await git(world.dir, "init", "--quiet", team);
    await Deno.writeTextFile(join(team, "approvers.yaml"), listing(keys.alice));
    await git(team, "add", "approvers.yaml");
    await git(team, "commit", "--quiet", "-m", "approvers");
    const reviewed = join(team, "approvers.yaml");
    // Bob's own file: his second key under alice's name.
    const swapped = join(world.dir, "mine.yaml");
    await Deno.writeTextFile(swapped, listing(keys["bob-as-alice"]));

    const change = async (approverHome: string, approvers: string) => {
      const requested = await as(
        "bob",
        approvers,
        ...["request", "release", "v1.2.0", "--root", ROOT, "--config", world.config],
      );
      assert.equal(requested.code, 0, requested.stderr);
      const id = requested.stdout.trim();
      const approved = await as(approverHome, approvers, "approve", id, "--yes", "--root", ROOT);
      assert.equal(approved.code, 0, approved.stderr);
      const ran = await as(
        "bob",
        approvers,
        ...["run", "release", "v1.2.0", "--request", id, "--root", ROOT],
        ...["--config", world.config, "--yes"],
      );
      assert.equal(ran.code, 0, ran.stderr);
      return id;
    };
    const honest = await change("alice", reviewed);
    const forged = await change("bob-as-alice", swapped);

    const blob = (file: string) => git(team, "hash-object", file);
    const checks = (await readAuditEntries(world.stateDir))
      .filter((e) => e.action === "change.check" && e.status === "success");
    assert.deepEqual(
      checks.map((e) => [e.request, e.approvers_file, e.approvers_blob]),
      [[honest, reviewed, await blob(reviewed)], [forged, swapped, await blob(swapped)]],
    );

    const population = await cli([
      "audit:population",
      ...["--from", today(), "--to", today(), "--runbooks", "release"],
      ...["--state-dir", world.stateDir, "--format", "json"],
    ]);
    assert.equal(population.code, 0, population.stderr);
    const rows = JSON.parse(population.stdout).changes;
    assert.deepEqual(
      rows.map((r: Record<string, unknown>) => [r.request, r.approver_keys, r.approvers_blob]),
      [
        [honest, [personKeyId(keys.alice)], await blob(reviewed)],
        [forged, [personKeyId(keys["bob-as-alice"])], await blob(swapped)],
      ],
    );
    // The auditor's own copy of the reviewed file: approvals by keys it does not list count
    // for nothing.
    const audited = await cli([
      "audit:population",
      ...["--from", today(), "--to", today(), "--runbooks", "release"],
      ...["--state-dir", world.stateDir, "--format", "json", "--approvers", reviewed],
    ]);
    assert.equal(audited.code, 0, audited.stderr);
    assert.deepEqual(
      JSON.parse(audited.stdout).changes.map((r: Record<string, unknown>) => [
        r.request,
        r.authorization,
        r.approvers,
      ]),
      [[honest, "approved", ["alice@example.com"]], [forged, "none", []]],
    );
    const csv = await cli([
      "audit:population",
      ...["--from", today(), "--to", today(), "--runbooks", "release"],
      ...["--state-dir", world.stateDir, "--format", "csv"],
    ]);
    assert.match(
      csv.stdout,
      new RegExp(`alice@example\\.com \\(key ${personKeyId(keys.alice)}\\)`),
    );
    assert.match(csv.stdout, new RegExp(await blob(swapped)));

    const out = join(world.dir, "pack");
    const pack = await cli([
      "evidence:pack",
      `${today()}..${today()}`,
      ...["--out", out, "--state-dir", world.stateDir, "--root", ROOT, "--runbooks", "release"],
    ]);
    assert.equal(pack.code, 0, pack.stderr);
    const html = await Deno.readTextFile(join(out, "index.html"));
    for (const key of [keys.alice, keys["bob-as-alice"]]) {
      assert.ok(html.includes(key), `the pack lists every key that signed as alice: ${key}`);
    }
  } finally {
    await world.cleanup();
  }
});
