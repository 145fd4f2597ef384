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
    "checkpoint prints a C2SP checkpoint and writes it; rotate-key and rotate-log report",
    async () => {
      const c = await runCli([
        "audit:checkpoint",
        "--state-dir",
        dir,
        "--out",
        `${dir}/../cp.txt`,
      ]);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /^\S+\n2\n[A-Za-z0-9+/]{43}=\n\n— \S+ [A-Za-z0-9+/]+=*\n$/);
      assert.equal(await Deno.readTextFile(`${dir}/../cp.txt`), c.stdout);
      assert.equal((await runCli(["audit:rotate-key", "--state-dir", dir])).code, 0);
      assert.equal((await runCli(["audit:rotate-log", "--state-dir", dir])).code, 0);
      const v = await runCli([
        "audit:verify",
        "--state-dir",
        dir,
        "--checkpoint",
        `${dir}/../cp.txt`,
      ]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /ok: 4 entries verified in 2 file/);
    },
  );
});

Deno.test("audit CLI: bad inputs exit 2 with one line, bad logs are never checkpointed", async (t) => {
  const dir = await freshStateDir();
  await appendAudit(dir, { action: "deploy", to: "v1" });
  await appendAudit(dir, { action: "deploy", to: "v2" });
  const tmp = `${dir}/..`;
  await Deno.writeTextFile(`${tmp}/junk.txt`, "not a key\n");
  await Deno.writeFile(`${tmp}/binary`, new Uint8Array([0xff, 0xfe, 0x00]));
  const noStack = (r: { stderr: string }) => assert.doesNotMatch(r.stderr, /\n\s+at /);

  await t.step("unreadable or malformed --pubkey / --checkpoint / keyring", async () => {
    const cases: string[][] = [
      ["--pubkey", tmp], // a directory
      ["--pubkey", `${tmp}/missing.pub`],
      ["--pubkey", `${tmp}/junk.txt`],
      ["--pubkey", `${tmp}/binary`],
      ["--checkpoint", tmp],
      ["--checkpoint", `${tmp}/missing.txt`],
      ["--checkpoint", `${tmp}/junk.txt`],
      ["--checkpoint", `${tmp}/binary`],
    ];
    for (const extra of cases) {
      const r = await runCli(["audit:verify", "--state-dir", dir, ...extra]);
      assert.equal(r.code, 2, `${extra.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^error: /);
      assert.ok(r.stderr.includes(extra[1]), `names the file it could not use: ${r.stderr}`);
      noStack(r);
      // --json says the same on stdout, for the program that reads it.
      const json = await runCli(["audit:verify", "--state-dir", dir, ...extra, "--json"]);
      assert.equal(json.code, 2, json.stderr);
      const said = JSON.parse(json.stdout);
      assert.equal(said.ok, false);
      assert.equal(`error: ${said.error}\n`, r.stderr);
    }
    const ring = auditPaths(dir).keyring;
    const saved = await Deno.readTextFile(ring);
    for (const bad of ["{", '{"version":1,"keys":{"x":{}}}', '{"version":1,"keys":{"x":null}}']) {
      await Deno.writeTextFile(ring, bad);
      const r = await runCli(["audit:verify", "--state-dir", dir]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.includes(ring), `names the keyring: ${r.stderr}`);
      noStack(r);
      // The same keyring given as the trust root kept off the host.
      const given = await runCli(["audit:verify", "--state-dir", dir, "--pubkey", ring]);
      assert.equal(given.code, 2, given.stderr);
      assert.ok(given.stderr.includes(ring), `names the --pubkey file: ${given.stderr}`);
      noStack(given);
    }
    await Deno.writeTextFile(ring, saved);
  });

  await t.step("a checkpoint signed by a key this history never had is exit 2", async () => {
    const other = await freshStateDir();
    await appendAudit(other, { action: "deploy", to: "v1" });
    await appendAudit(other, { action: "deploy", to: "v2" });
    await appendAudit(other, { action: "deploy", to: "v3" });
    const c = await runCli([
      "audit:checkpoint",
      "--state-dir",
      other,
      "--out",
      `${tmp}/foreign.txt`,
    ]);
    assert.equal(c.code, 0, c.stderr);
    const r = await runCli([
      "audit:verify",
      "--state-dir",
      dir,
      "--checkpoint",
      `${tmp}/foreign.txt`,
    ]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /signed by no key of this history/);
  });

  await t.step("checkpoint refuses (exit 1) a log that does not verify", async () => {
    const log = auditPaths(dir).log;
    const text = await Deno.readTextFile(log);
    await Deno.writeTextFile(log, text.replace('"v1"', '"v9"'));
    const r = await runCli(["audit:checkpoint", "--state-dir", dir, "--out", `${tmp}/cp.txt`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /refusing to sign a checkpoint over a log that does not verify/);
    assert.equal(await Deno.stat(`${tmp}/cp.txt`).then(() => true, () => false), false);
    await Deno.writeTextFile(log, text);
    // Two checkpoint files at once.
    const a = await runCli(["audit:checkpoint", "--state-dir", dir, "--out", `${tmp}/a.txt`]);
    assert.equal(a.code, 0, a.stderr);
    await appendAudit(dir, { action: "deploy", to: "v3" });
    const b = await runCli(["audit:checkpoint", "--state-dir", dir, "--out", `${tmp}/b.txt`]);
    assert.equal(b.code, 0, b.stderr);
    const v = await runCli([
      "audit:verify",
      "--state-dir",
      dir,
      "--checkpoint",
      `${tmp}/a.txt`,
      "--checkpoint",
      `${tmp}/b.txt`,
    ]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.equal(v.stdout.match(/^checkpoint: /gm)?.length, 2);
  });
});
