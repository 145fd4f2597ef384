// The git witness against a real bare repository reached over SSH (OpenSSH sshd on loopback),
// configured as a witness server should be: no force-push, no branch deletion.
import assert from "node:assert/strict";
import $ from "dax";
import { auditPaths, verifyAuditLog, writeCheckpoint } from "../../src/audit/mod.ts";
import { sshCommand } from "../../src/audit/witness/git.ts";
import { startSshNodes } from "../fixtures/sshd.ts";
import { appendMany, freshStateDir, join, lines } from "./helpers.ts";

Deno.test("git witness over SSH", async (t) => {
  const dir = await freshStateDir();
  const tmp = `${dir}/..`;
  const fleet = await startSshNodes(tmp, 1, "witness");
  try {
    const bare = `${tmp}/witness.git`;
    await $`git init -q --bare ${bare}`;
    await $`git -C ${bare} config receive.denyNonFastForwards true`;
    await $`git -C ${bare} config receive.denyDeletes true`;
    const url = `ssh://${fleet.user}@127.0.0.1:${fleet.nodes[0].port}${bare}`;
    const settings = {
      origin: "test.example/git-witness",
      witness: {
        git: url,
        branch: "audit-checkpoints",
        identity: fleet.identity,
        known_hosts: fleet.knownHosts,
      },
    };
    const attacker = `${tmp}/attacker`;
    const env = {
      GIT_SSH_COMMAND: sshCommand({ identity: fleet.identity, knownHosts: fleet.knownHosts }),
    };

    await t.step("each sealed run adds one commit; verify reads the whole branch", async () => {
      await appendMany(dir, 4);
      const a = await writeCheckpoint(dir, { rotate: true, witness: settings });
      await appendMany(dir, 2, 10);
      const b = await writeCheckpoint(dir, { rotate: true, witness: settings });
      assert.deepEqual([...a.published, ...b.published].map((p) => p.ok), [true, true]);
      const count = await $`git -C ${bare} rev-list --count audit-checkpoints`.text();
      assert.equal(count.trim(), "2");
      assert.equal(
        await $`git -C ${bare} show audit-checkpoints:checkpoint`.text(),
        b.text.trimEnd(),
      );
      const r = await verifyAuditLog(dir, { witness: settings });
      assert.equal(r.ok, true, JSON.stringify(r.firstBad));
      assert.deepEqual(r.checkpoints.map((c) => c.size), [a.size, b.size]);
    });

    await t.step("the deploy user's key cannot force-push or delete the branch", async () => {
      await $`git clone -q ${url} ${attacker}`.env(env);
      await $`git -C ${attacker} checkout -q audit-checkpoints`;
      await $`git -C ${attacker} -c user.name=m -c user.email=m@x commit -q --amend -m rewritten`;
      const force = await $`git -C ${attacker} push -q --force origin audit-checkpoints`.env(env)
        .noThrow().stderr("piped");
      assert.notEqual(force.code, 0);
      assert.match(force.stderr, /non-fast-forward|denied/);
      const del = await $`git -C ${attacker} push -q origin :audit-checkpoints`.env(env).noThrow()
        .stderr("piped");
      assert.notEqual(del.code, 0);
      assert.match(del.stderr, /deletion .*prohibited|denied/);
    });

    await t.step("a later commit deleting the file removes no checkpoint", async () => {
      await $`git -C ${attacker} reset -q --hard origin/audit-checkpoints`;
      await $`git -C ${attacker} rm -q checkpoint`;
      await $`git -C ${attacker} -c user.name=m -c user.email=m@x commit -q -m hide`;
      await $`git -C ${attacker} push -q origin audit-checkpoints`.env(env);
      const log = auditPaths(dir).log;
      const full = await Deno.readFile(log);
      const ls = lines(full);
      await Deno.writeFile(log, join(ls.slice(0, ls.length - 1)));
      const r = await verifyAuditLog(dir, { witness: settings });
      assert.equal(r.firstBad?.reason, "shorter than the checkpoint");
      await Deno.writeFile(log, full);
      const ok = await verifyAuditLog(dir, { witness: settings });
      assert.equal(ok.ok, true, JSON.stringify(ok.firstBad));
      // Publishing continues on top of the attacker's commit (append-only, never rewound).
      const c = await writeCheckpoint(dir, { witness: settings });
      assert.deepEqual(c.published.map((p) => p.ok), [true]);
    });
  } finally {
    await fleet.stop();
  }
});
