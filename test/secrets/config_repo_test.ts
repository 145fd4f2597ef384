/**
 * The config repository against a real bare git remote: switch (create, local, from the
 * remote), init (encrypt, verify, delete plaintext, .gitignore; decrypt for editing), save
 * (refuses staged or tracked plaintext, pushes only .enc), refresh (pull, 0600, outside the
 * repository, nothing written on a wrong key).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  AuthenticationError,
  configInit,
  configRefresh,
  configSave,
  configSwitch,
  generateKeyHex,
  keyFromHex,
  SecretMasker,
  SecretsInputError,
  SecretsRefusedError,
} from "../../src/secrets/mod.ts";
import { configWorld, git } from "./config_repo_helpers.ts";

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);
const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;

Deno.test("config repository flow with a real remote", async (t) => {
  const w = await configWorld();
  try {
    const laptop = await w.clone("laptop");
    const repo = w.repo(laptop, "laptop-env");

    await t.step("switch: unknown environment, missing branch, --create", async () => {
      await assert.rejects(configSwitch(repo, "qa"), SecretsInputError);
      await assert.rejects(configSwitch(repo, "production"), /no branch "production".*--create/);
      const r = await configSwitch(repo, "production", { create: true });
      assert.equal(r.env, "production");
      assert.equal(
        (await git("-C", laptop, "symbolic-ref", "--short", "HEAD")).trim(),
        "production",
      );
    });

    await t.step(
      "init: encrypts every .env* (also in subdirectories), deletes plaintext",
      async () => {
        await Deno.writeTextFile(join(laptop, ".env"), "DB_PASSWORD=prod-secret-1\nDEBUG=0\n");
        await Deno.mkdir(join(laptop, "worker"));
        await Deno.writeTextFile(
          join(laptop, "worker", ".env.worker"),
          "QUEUE_TOKEN=prod-queue-2\n",
        );
        const masker = new SecretMasker();
        const r = await configInit(repo, w.key, { masker });
        assert.deepEqual(r.files, [".env.enc", "worker/.env.worker.enc"]);
        assert.match(r.summary, /\.gitignore now covers plaintext/);
        assert.equal(await exists(join(laptop, ".env")), false);
        assert.equal(await exists(join(laptop, "worker", ".env.worker")), false);
        assert.equal(masker.mask("prod-secret-1 prod-queue-2"), "*** ***");
        const gitignore = await Deno.readTextFile(join(laptop, ".gitignore"));
        assert.match(gitignore, /^\.env\n\.env\.\*\n!\*\.enc\n/m);
        const again = await configInit(repo, w.key);
        assert.deepEqual(again.files, []);
      },
    );

    await t.step("save refuses staged plaintext and pushes nothing", async () => {
      await Deno.writeTextFile(join(laptop, ".env"), "DB_PASSWORD=prod-secret-1\n");
      await git("-C", laptop, "add", "-f", ".env");
      await assert.rejects(configSave(repo), (e: Error) => {
        assert.ok(e instanceof SecretsRefusedError);
        assert.match(e.message, /plaintext env files are staged .*\.env/);
        return true;
      });
      assert.equal(await git("--git-dir", w.remote, "branch", "--list"), "", "nothing pushed");
      await git("-C", laptop, "rm", "--quiet", "--cached", ".env");
    });

    await t.step("save refuses plaintext that is not encrypted yet", async () => {
      await assert.rejects(configSave(repo), /not encrypted yet \(\.env\); run config:init/);
      await Deno.remove(join(laptop, ".env"));
    });

    await t.step("save commits and pushes only encrypted files and .gitignore", async () => {
      const r = await configSave(repo);
      assert.deepEqual(r.files.sort(), [".env.enc", ".gitignore", "worker/.env.worker.enc"]);
      assert.deepEqual(await w.remoteFiles("production"), r.files.sort());
      const history = await git("--git-dir", w.remote, "log", "--all", "-p");
      assert.ok(!history.includes("prod-secret-1"), "a plaintext secret reached git");
      const nothing = await configSave(repo);
      assert.deepEqual(nothing.files, []);
      assert.match(nothing.summary, /nothing new to commit/);
    });

    await t.step("init --decrypt for editing, then init leaves unchanged files alone", async () => {
      const r = await configInit(repo, w.key, { decrypt: true });
      assert.deepEqual(r.files, [".env", "worker/.env.worker"]);
      assert.equal(await mode(join(laptop, ".env")), 0o600);
      assert.equal(
        await Deno.readTextFile(join(laptop, ".env")),
        "DB_PASSWORD=prod-secret-1\nDEBUG=0\n",
      );
      assert.equal(await git("-C", laptop, "status", "--porcelain"), "", "plaintext is ignored");
      await configInit(repo, w.key);
      assert.equal(await git("-C", laptop, "status", "--porcelain"), "", "no spurious change");
    });

    await t.step("switch refuses while plaintext or unsaved changes are present", async () => {
      await Deno.writeTextFile(join(laptop, ".env"), "X=production-only\n");
      await assert.rejects(configSwitch(repo, "staging", { create: true }), /plaintext env files/);
      await configInit(repo, w.key);
      await assert.rejects(configSwitch(repo, "staging", { create: true }), /unsaved changes/);
      await git("-C", laptop, "checkout", "--quiet", "--", ".env.enc");
      await Deno.writeTextFile(join(laptop, ".env.new.enc"), "AAAA");
      await assert.rejects(configSwitch(repo, "staging", { create: true }), /\.env\.new\.enc/);
      await Deno.remove(join(laptop, ".env.new.enc"));
      await Deno.writeTextFile(join(laptop, ".env"), "X=still-editing\n");
      assert.match((await configSwitch(repo, "production")).summary, /already on production/);
      await Deno.remove(join(laptop, ".env"));
    });

    await t.step("a second environment shares nothing with the first", async () => {
      await configSwitch(repo, "staging", { create: true });
      assert.equal(await exists(join(laptop, ".env.enc")), false);
      await Deno.writeTextFile(join(laptop, ".env"), "DB_PASSWORD=staging-secret-3\n");
      await configInit(repo, w.key);
      await configSave(repo);
      assert.deepEqual(await w.remoteFiles("staging"), [".env.enc", ".gitignore"]);
      await configSwitch(repo, "production");
      assert.equal(await exists(join(laptop, "worker", ".env.worker.enc")), true);
    });

    const node = await w.clone("node");
    const nodeRepo = w.repo(node, "app/shared");

    await t.step("a node checks out production from the remote and refreshes", async () => {
      await configSwitch(nodeRepo, "production");
      const masker = new SecretMasker();
      const r = await configRefresh(nodeRepo, w.key, { masker, env: "production" });
      assert.deepEqual(r.files, [".env", "worker/.env.worker"]);
      const envFile = join(nodeRepo.env_dir, ".env");
      assert.equal(await Deno.readTextFile(envFile), "DB_PASSWORD=prod-secret-1\nDEBUG=0\n");
      assert.equal(await mode(envFile), 0o600);
      assert.equal(await mode(join(nodeRepo.env_dir, "worker", ".env.worker")), 0o600);
      assert.equal(await exists(join(node, ".env")), false, "plaintext written into the repo");
      assert.equal(masker.mask("DB_PASSWORD=prod-secret-1"), "DB_PASSWORD=***");
    });

    await t.step("refresh pulls a change saved elsewhere", async () => {
      await Deno.writeTextFile(join(laptop, ".env"), "DB_PASSWORD=prod-secret-rotated\n");
      await configInit(repo, w.key);
      await configSave(repo);
      await configRefresh(nodeRepo, w.key);
      const text = await Deno.readTextFile(join(nodeRepo.env_dir, ".env"));
      assert.equal(text, "DB_PASSWORD=prod-secret-rotated\n");
    });

    await t.step("refresh with a wrong key fails and writes nothing", async () => {
      const before = await Deno.readTextFile(join(nodeRepo.env_dir, ".env"));
      const wrong = keyFromHex(generateKeyHex());
      await assert.rejects(configRefresh(nodeRepo, wrong), AuthenticationError);
      assert.equal(await Deno.readTextFile(join(nodeRepo.env_dir, ".env")), before);
    });

    await t.step("refresh refuses an env_dir inside the repository, or another env", async () => {
      const inside = { ...nodeRepo, env_dir: join(node, "decrypted") };
      await assert.rejects(configRefresh(inside, w.key), /inside the config repository/);
      assert.equal(await exists(join(node, "decrypted")), false);
      await assert.rejects(configRefresh({ ...nodeRepo, env_dir: node }, w.key), /inside/);
      await assert.rejects(configRefresh(nodeRepo, w.key, { env: "staging" }), /config:switch/);
    });

    await t.step("a checkout on a branch that is not an environment is refused", async () => {
      await git("-C", node, "switch", "--quiet", "-c", "main");
      await assert.rejects(configSave(nodeRepo), /not an environment/);
      await assert.rejects(configRefresh(nodeRepo, w.key), /not an environment/);
    });

    await t.step("a directory that is not a checkout is bad input", async () => {
      const plain = { ...repo, path: w.dir + "/nowhere" };
      await Deno.mkdir(plain.path);
      await assert.rejects(configInit(plain, w.key), /is not a git checkout/);
    });
  } finally {
    await w.cleanup();
  }
});
