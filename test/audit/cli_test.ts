// The commands as an operator runs them: output formats and exit codes 0/1/2.
import assert from "node:assert/strict";
import { auditPaths } from "../../src/audit/mod.ts";
import { freshStateDir, runCli } from "./helpers.ts";
import { appendAudit } from "../../src/audit/mod.ts";

Deno.test("audit CLI", async (t) => {
  const dir = await freshStateDir(false);

  await t.step("commands on a missing key or log exit 2 with the documented message", async () => {
    const v = await runCli(["audit:verify", "--state-dir", dir]);
    assert.equal(v.code, 2);
    const c = await runCli(["audit:checkpoint", "--state-dir", dir]);
    assert.equal(c.code, 2);
    assert.match(
      c.stderr,
      /no audit signing key at .*audit-signing\.key; create one with `deno task audit:keygen`/,
    );
  });

  await t.step("keygen prints kid and PEM, then refuses to run again", async () => {
    const k = await runCli(["audit:keygen", "--state-dir", dir, "--json"]);
    assert.equal(k.code, 0, k.stderr);
    const { kid, publicKeyPem } = JSON.parse(k.stdout);
    assert.match(kid, /^[0-9a-f]{16}$/);
    assert.match(publicKeyPem, /BEGIN PUBLIC KEY/);
    await Deno.writeTextFile(`${dir}/../audit.pub`, publicKeyPem);
    const again = await runCli(["audit:keygen", "--state-dir", dir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /audit:rotate-key/);
  });

  await appendAudit(dir, {
    action: "deploy",
    repo: "/opt/myapp",
    from: "v1.1.0",
    to: "v1.2.0",
    status: "success",
  });
  await appendAudit(dir, {
    action: "rollback",
    repo: "/opt/myapp",
    from: "v1.2.0",
    to: "v1.1.0",
    status: "failure",
  });

  await t.step(
    "deploy:log prints the seed format; --action, --limit and --json filter",
    async () => {
      const all = await runCli(["deploy:log", "--state-dir", dir]);
      assert.equal(all.code, 0);
      const out = all.stdout.trim().split("\n");
      assert.equal(out.length, 2);
      assert.match(
        out[0],
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ deploy repo=\/opt\/myapp from=v1\.1\.0 to=v1\.2\.0 status=success$/,
      );
      const only = await runCli([
        "deploy:log",
        "--state-dir",
        dir,
        "--action",
        "rollback",
        "--json",
      ]);
      assert.deepEqual(JSON.parse(only.stdout).map((e: { seq: number }) => e.seq), [2]);
      const last = await runCli(["deploy:log", "--state-dir", dir, "--limit", "1"]);
      assert.match(last.stdout, /rollback/);
      assert.equal((await runCli(["deploy:log", "--state-dir", dir, "--limit", "x"])).code, 2);
    },
  );

  await t.step(
    "verify: 0 when valid (count, ts, keys), 1 when tampered, --json, --pubkey",
    async () => {
      const ok = await runCli([
        "audit:verify",
        "--state-dir",
        dir,
        "--pubkey",
        `${dir}/../audit.pub`,
      ]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /ok: 2 entries/);
      const log = auditPaths(dir).log;
      const text = await Deno.readTextFile(log);
      await Deno.writeTextFile(log, text.replace("v1.2.0", "v9.9.9"));
      const bad = await runCli(["audit:verify", "--state-dir", dir, "--json"]);
      assert.equal(bad.code, 1);
      const r = JSON.parse(bad.stdout);
      assert.deepEqual([r.ok, r.firstBad.line, r.firstBad.reason], [false, 1, "edited"]);
      await Deno.writeTextFile(log, text);
    },
  );

  await t.step(
    "checkpoint prints JSON and writes it; rotate-key and rotate-log report",
    async () => {
      const c = await runCli([
        "audit:checkpoint",
        "--state-dir",
        dir,
        "--out",
        `${dir}/../cp.json`,
      ]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal(JSON.parse(c.stdout).count, 2);
      assert.equal((await runCli(["audit:rotate-key", "--state-dir", dir])).code, 0);
      assert.equal((await runCli(["audit:rotate-log", "--state-dir", dir])).code, 0);
      const v = await runCli([
        "audit:verify",
        "--state-dir",
        dir,
        "--checkpoint",
        `${dir}/../cp.json`,
      ]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /ok: 4 entries verified in 2 file/);
    },
  );
});
