/**
 * The secrets and config commands end to end through the CLI: exit codes 0/1/2, file modes,
 * `--stdout` warnings, the audit key requirement, one audit entry per command with flat fields,
 * and no secret value in any audit entry or normal output.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, tempWorld } from "../fixtures/helpers.ts";
import { configWorld, git } from "./config_repo_helpers.ts";

const SECRET = "cli-secret-value-42";

async function auditEntries(stateDir: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(stateDir, "deployments.log"));
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("secrets commands through the CLI", async (t) => {
  const world = await tempWorld({ prefix: "secrets-cli-" });
  const s = ["--state-dir", world.stateDir];
  const envFile = join(world.dir, ".env");
  try {
    await t.step("without an audit signing key nothing happens (exit 2)", async () => {
      const bare = join(world.dir, "bare-state");
      const r = await cli(["secrets:setup", "--state-dir", bare]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /no audit signing key at .*`deno task audit:keygen`/);
      assert.equal(await Deno.lstat(join(bare, "key")).then(() => true, () => false), false);
    });

    await t.step("setup, then refusal to overwrite (exit 1), then --rotate", async () => {
      assert.equal((await cli(["secrets:setup", ...s])).code, 0);
      const again = await cli(["secrets:setup", ...s]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists.*--rotate/);
      const rotated = await cli(["secrets:setup", "--rotate", ...s]);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /previous key is kept at .*key\.old-\d{8}T\d{6}Z/);
    });

    await t.step("a malformed key is bad input (exit 2) and is not echoed", async () => {
      const r = await cli(["secrets:setup", "--rotate", "zz" + "0".repeat(62), ...s]);
      assert.equal(r.code, 2);
      assert.ok(!r.stderr.includes("zz000"), r.stderr);
    });

    await t.step(
      "encrypt, decrypt to a 0600 file, refuse to overwrite, --stdout warns",
      async () => {
        await Deno.writeTextFile(envFile, `DB_PASSWORD=${SECRET}\n`);
        const enc = await cli(["secrets:encrypt", envFile, ...s]);
        assert.equal(enc.code, 0, enc.stderr);
        assert.ok(!(await Deno.readTextFile(`${envFile}.enc`)).includes(SECRET));
        const refused = await cli(["secrets:decrypt", `${envFile}.enc`, ...s]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /exists; use --force/);
        await Deno.remove(envFile);
        const dec = await cli(["secrets:decrypt", `${envFile}.enc`, ...s]);
        assert.equal(dec.code, 0, dec.stderr);
        assert.equal(await Deno.readTextFile(envFile), `DB_PASSWORD=${SECRET}\n`);
        assert.equal((await Deno.stat(envFile)).mode! & 0o777, 0o600);
        const out = await cli(["secrets:decrypt", `${envFile}.enc`, "--stdout", ...s]);
        assert.equal(out.stdout, `DB_PASSWORD=${SECRET}\n`);
        assert.match(out.stderr, /warning: printing decrypted secrets/);
      },
    );

    await t.step("a changed byte: authentication error, exit 1, no output", async () => {
      const bytes = Uint8Array.fromBase64(await Deno.readTextFile(`${envFile}.enc`));
      bytes[bytes.length - 1] ^= 1;
      await Deno.writeTextFile(`${envFile}.enc`, bytes.toBase64());
      const r = await cli(["secrets:decrypt", `${envFile}.enc`, "--stdout", ...s]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /authentication failed \(wrong key, or the file was changed\)/);
    });

    await t.step("missing input is exit 2", async () => {
      const r = await cli(["secrets:encrypt", join(world.dir, "nope"), ...s]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no such file/);
    });

    await t.step("secrets:key prints the key on stdout, the warning on stderr", async () => {
      const r = await cli(["secrets:key", ...s]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, (await Deno.readTextFile(join(world.stateDir, "key"))) + "\n");
      assert.match(r.stderr, /warning: .*password manager/);
    });

    await t.step("every command left one flat audit entry and no secret", async () => {
      // Each command ended sealed: its entry, then the key evolution (audit_sealing.ts).
      const all = await auditEntries(world.stateDir);
      const entries = all.filter((e) => e.action !== "key.rotated");
      assert.equal(all.length - entries.length, entries.length);
      assert.deepEqual(entries.map((e) => `${e.operation}:${e.status}`), [
        "setup:success",
        "setup:failure",
        "rotate:success",
        "rotate:failure",
        "encrypt:success",
        "decrypt:failure",
        "decrypt:success",
        "decrypt:success",
        "decrypt:failure",
        "encrypt:failure",
        "key-export:success",
      ]);
      assert.ok(entries.every((e) => e.action === "secrets"));
      const log = await Deno.readTextFile(join(world.stateDir, "deployments.log"));
      const key = await Deno.readTextFile(join(world.stateDir, "key"));
      assert.ok(!log.includes(SECRET) && !log.includes(key), "a secret reached the audit log");
      const verify = await cli(["audit:verify", ...s]);
      assert.equal(verify.code, 0, verify.stdout);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("config commands through the CLI", async (t) => {
  const world = await tempWorld({ prefix: "secrets-config-cli-" });
  const w = await configWorld();
  const s = ["--state-dir", world.stateDir, "--config", world.config];
  try {
    const checkout = await w.clone("checkout");
    const envDir = join(w.dir, "app-shared");
    assert.equal((await cli(["secrets:setup", w.keyHex, "--state-dir", world.stateDir])).code, 0);

    await t.step("without a config_repo block: exit 2 saying what to add", async () => {
      const r = await cli(["config:switch", "production", ...s]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /has no config_repo block; add one:/);
    });

    await Deno.writeTextFile(
      world.config,
      (await Deno.readTextFile(world.config)) +
        `config_repo:\n  path: ${JSON.stringify(checkout)}\n  env_dir: ${JSON.stringify(envDir)}\n`,
    );

    await t.step("unknown environment: exit 2", async () => {
      const r = await cli(["config:switch", "qa", ...s]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown environment "qa"; the configured ones are: production/);
    });

    await t.step("switch --create, init, save, refresh", async () => {
      const sw = await cli(["config:switch", "production", "--create", ...s]);
      assert.equal(sw.code, 0, sw.stderr);
      await Deno.writeTextFile(join(checkout, ".env"), `DB_PASSWORD=${SECRET}\n`);
      const init = await cli(["config:init", ...s]);
      assert.equal(init.code, 0, init.stderr);
      assert.match(init.stdout, /encrypted \.env\.enc and deleted the plaintext/);
      await Deno.writeTextFile(join(checkout, ".env.local"), `X=${SECRET}\n`);
      await git("-C", checkout, "add", "-f", ".env.local");
      const refused = await cli(["config:save", ...s]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /plaintext env files are staged/);
      await git("-C", checkout, "rm", "--quiet", "--cached", ".env.local");
      await Deno.remove(join(checkout, ".env.local"));
      const save = await cli(["config:save", ...s]);
      assert.equal(save.code, 0, save.stderr);
      assert.deepEqual(await w.remoteFiles("production"), [".env.enc", ".gitignore"]);
      const refresh = await cli(["config:refresh", "production", ...s]);
      assert.equal(refresh.code, 0, refresh.stderr);
      assert.equal(await Deno.readTextFile(join(envDir, ".env")), `DB_PASSWORD=${SECRET}\n`);
      assert.equal((await Deno.stat(join(envDir, ".env"))).mode! & 0o777, 0o600);
      for (const r of [sw, init, save, refresh]) assert.ok(!r.stdout.includes(SECRET));
    });

    await t.step("audit entries: action config, env, files as one string, no secret", async () => {
      const entries = (await auditEntries(world.stateDir)).filter((e) => e.action === "config");
      assert.deepEqual(
        entries.map((e) => [e.operation, e.env, e.files, e.status]),
        [
          ["switch", "qa", undefined, "failure"],
          ["switch", "production", undefined, "success"],
          ["encrypt", "production", ".env.enc", "success"],
          ["save", undefined, undefined, "failure"],
          ["save", "production", ".env.enc,.gitignore", "success"],
          ["refresh", "production", ".env", "success"],
        ],
      );
      const log = await Deno.readTextFile(join(world.stateDir, "deployments.log"));
      assert.ok(!log.includes(SECRET));
      const history = await cli(["deploy:log", "--action", "config", ...s.slice(0, 2)]);
      assert.match(
        history.stdout,
        /config .*env=production (target=local )?operation=save files=\.env\.enc,\.gitignore status=success/,
      );
    });
  } finally {
    await w.cleanup();
    await world.cleanup();
  }
});
