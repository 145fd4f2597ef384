/** key:generate with the real ssh-keygen: an ed25519 key, 0600, printed, never overwritten. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { deployKeyArgv } from "../../src/secrets/mod.ts";
import { cli, tempWorld } from "../fixtures/helpers.ts";

Deno.test("deployKeyArgv: empty passphrase, ed25519, the given file and comment", () => {
  assert.deepEqual(deployKeyArgv("/s/deploy_key", "c d"), [
    "ssh-keygen",
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-f",
    "/s/deploy_key",
    "-C",
    "c d",
  ]);
});

Deno.test({
  name: "key:generate creates the deploy key once",
  fn: async (t) => {
    const world = await tempWorld({ prefix: "secrets-deploykey-" });
    const path = join(world.stateDir, "deploy_key");
    try {
      await t.step("prints the public key; the private key is 0600", async () => {
        const r = await cli([
          "key:generate",
          "--state-dir",
          world.stateDir,
          "--comment",
          "ci@node",
        ]);
        assert.equal(r.code, 0, r.stderr);
        const pub = (await Deno.readTextFile(`${path}.pub`)).trim();
        assert.match(pub, /^ssh-ed25519 \S+ ci@node$/);
        assert.equal(r.stdout.trim(), pub);
        assert.match(r.stderr, /deploy key created at .*SHA256:.*deploy key/s);
        assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
        assert.match(await Deno.readTextFile(path), /BEGIN OPENSSH PRIVATE KEY/);
      });
      await t.step("refuses to overwrite (exit 1), key unchanged", async () => {
        const before = await Deno.readTextFile(path);
        const r = await cli(["key:generate", "--state-dir", world.stateDir]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /a deploy key already exists/);
        assert.equal(await Deno.readTextFile(path), before);
      });
      await t.step("the audit log holds the fingerprint, not the key", async () => {
        const log = await Deno.readTextFile(join(world.stateDir, "deployments.log"));
        const [ok, refused] = log.trim().split("\n").map((line) => JSON.parse(line))
          .filter((e) => e.action !== "key.rotated"); // each command ends sealed
        assert.equal(ok.operation, "deploy-key");
        assert.match(ok.fingerprint, /^SHA256:/);
        assert.equal(refused.status, "failure");
        assert.ok(!log.includes("PRIVATE KEY"));
      });
    } finally {
      await world.cleanup();
    }
  },
});
