/**
 * The key file: 64 lowercase hex characters, no newline, 0600 in a 0700 directory; refusing to
 * overwrite; rotation keeping the old key; damaged and malformed keys rejected without echoing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  generateKeyHex,
  hasKey,
  keyPath,
  normalizeKeyHex,
  readKey,
  readKeyHex,
  SecretsInputError,
  SecretsRefusedError,
  storeKey,
} from "../../src/secrets/mod.ts";

const mode = async (path: string) => ((await Deno.stat(path)).mode! & 0o777).toString(8);

Deno.test("key file", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "secrets-key-" });
  const stateDir = join(dir, "state");
  try {
    await t.step("generated: 64 lowercase hex, no newline, 0600 in 0700", async () => {
      assert.equal(await hasKey(stateDir), false);
      const stored = await storeKey(stateDir);
      assert.equal(stored.path, keyPath(stateDir));
      assert.equal(stored.generated, true);
      const text = await Deno.readTextFile(stored.path);
      assert.match(text, /^[0-9a-f]{64}$/);
      assert.equal(await mode(stored.path), "600");
      assert.equal(await mode(stateDir), "700");
      assert.equal((await readKey(stateDir)).length, 32);
    });

    await t.step("refuses to overwrite an existing key", async () => {
      const before = await readKeyHex(stateDir);
      await assert.rejects(storeKey(stateDir, generateKeyHex()), SecretsRefusedError);
      assert.equal(await readKeyHex(stateDir), before);
    });

    await t.step("--rotate keeps the old key as key.old-<time>, both 0600", async () => {
      const before = await readKeyHex(stateDir);
      const given = "AB".repeat(32);
      const stored = await storeKey(stateDir, given, {
        rotate: true,
        now: new Date("2025-01-02T03:04:05.678Z"),
      });
      assert.equal(stored.previous, join(stateDir, "key.old-20250102T030405Z"));
      assert.equal(await Deno.readTextFile(stored.previous!), before);
      assert.equal(await Deno.readTextFile(stored.path), "ab".repeat(32), "stored lowercase");
      assert.equal(await mode(stored.previous!), "600");
      assert.equal(await mode(stored.path), "600");
      const names = [...Deno.readDirSync(stateDir)].map((e) => e.name).sort();
      assert.deepEqual(names, ["key", "key.old-20250102T030405Z"], "no temp files left");
    });

    await t.step("malformed keys are rejected without repeating them", () => {
      for (const bad of ["", "abc", "g".repeat(64), "a".repeat(63), "a".repeat(65)]) {
        assert.throws(() => normalizeKeyHex(bad), (e: Error) => {
          assert.ok(e instanceof SecretsInputError);
          if (bad.length > 3) assert.ok(!e.message.includes(bad), e.message);
          return true;
        });
      }
      assert.equal(normalizeKeyHex(` ${"0".repeat(64)}\n`), "0".repeat(64));
    });

    await t.step(
      "a damaged key file is reported, a missing one says how to create it",
      async () => {
        await Deno.writeTextFile(keyPath(stateDir), "not a key");
        await assert.rejects(readKey(stateDir), /key file .* is damaged/);
        await Deno.remove(keyPath(stateDir));
        await assert.rejects(readKey(stateDir), /no encryption key at .*secrets:setup/);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
