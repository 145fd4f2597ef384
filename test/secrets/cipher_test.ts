/**
 * The envelope: round trips (empty, binary, large), the byte layout, interoperability with PHP
 * (the original tool) and Node in both directions, and tampered, short, malformed or wrong-key
 * inputs failing with a clear error and no plaintext.
 */
import assert from "node:assert/strict";
import {
  AuthenticationError,
  decryptEnvelope,
  encryptEnvelope,
  generateKeyHex,
  keyFromHex,
  SecretsInputError,
} from "../../src/secrets/mod.ts";
import { node, type Peer, php } from "./interop.ts";

const text = new TextEncoder();
const keyHex = generateKeyHex();
const key = keyFromHex(keyHex);

function sample(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

Deno.test("envelope round trips", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["empty plaintext", new Uint8Array()],
    ["one byte", new Uint8Array([0])],
    ["an env file", text.encode("DB_PASSWORD=hunter22\nAPI_KEY='x y'\n")],
    ["binary", sample(1000)],
    ["5 MiB", sample(5 * 1024 * 1024)],
  ];
  for (const [name, plaintext] of cases) {
    await t.step(name, async () => {
      const envelope = await encryptEnvelope(key, plaintext);
      assert.match(envelope, /^[A-Za-z0-9+/]+=*$/, "base64, no newline");
      assert.equal(Uint8Array.fromBase64(envelope).length, 12 + 16 + plaintext.length);
      assert.deepEqual(await decryptEnvelope(key, envelope), plaintext);
    });
  }
  await t.step("a fresh nonce every time", async () => {
    const a = await encryptEnvelope(key, text.encode("same"));
    const b = await encryptEnvelope(key, text.encode("same"));
    assert.notEqual(a, b);
  });
  await t.step("a trailing newline (hand-edited file) is tolerated", async () => {
    const envelope = await encryptEnvelope(key, text.encode("A=1"));
    assert.deepEqual(await decryptEnvelope(key, envelope + "\n"), text.encode("A=1"));
  });
});

Deno.test("bad envelopes fail clearly, never with plaintext", async (t) => {
  const plaintext = text.encode("SECRET=correct-horse-battery");
  const envelope = await encryptEnvelope(key, plaintext);
  const bytes = Uint8Array.fromBase64(envelope);

  await t.step("wrong key: authentication error", async () => {
    const other = keyFromHex(generateKeyHex());
    await assert.rejects(decryptEnvelope(other, envelope, ".env.enc"), (error: Error) => {
      assert.ok(error instanceof AuthenticationError);
      assert.match(error.message, /cannot decrypt \.env\.enc: authentication failed/);
      return true;
    });
  });
  await t.step(
    "a flipped bit anywhere (nonce, tag, ciphertext): authentication error",
    async () => {
      for (const at of [0, 11, 12, 27, 28, bytes.length - 1]) {
        const tampered = bytes.slice();
        tampered[at] ^= 0x01;
        await assert.rejects(decryptEnvelope(key, tampered.toBase64()), AuthenticationError);
      }
    },
  );
  await t.step("truncated or extended: authentication error", async () => {
    await assert.rejects(
      decryptEnvelope(key, bytes.subarray(0, -1).toBase64()),
      AuthenticationError,
    );
    const longer = new Uint8Array([...bytes, 0]);
    await assert.rejects(decryptEnvelope(key, longer.toBase64()), AuthenticationError);
  });
  await t.step("shorter than nonce + tag: input error", async () => {
    for (const size of [0, 1, 27]) {
      await assert.rejects(decryptEnvelope(key, bytes.subarray(0, size).toBase64()), (e: Error) => {
        assert.ok(e instanceof SecretsInputError, String(e));
        assert.match(e.message, size === 0 ? /too short: 0 bytes/ : /too short/);
        return true;
      });
    }
  });
  await t.step("not base64: input error", async () => {
    await assert.rejects(decryptEnvelope(key, "not base64!"), SecretsInputError);
    await assert.rejects(decryptEnvelope(key, envelope.slice(0, -1)), SecretsInputError);
  });
  await t.step("a key of the wrong size: input error", async () => {
    await assert.rejects(encryptEnvelope(new Uint8Array(16), plaintext), SecretsInputError);
  });
});

for (const peer of [php, node] as Peer[]) {
  Deno.test({
    name: `interoperability with ${peer.name} (openssl aes-256-gcm), both directions`,
    fn: async (t) => {
      const cases: [string, Uint8Array][] = [
        ["env file", text.encode("DB_PASSWORD=hunter22\nAPP_KEY=base64:abc/def+==\n")],
        ["empty", new Uint8Array()],
        ["binary 100 KiB", sample(100 * 1024)],
      ];
      for (const [name, plaintext] of cases) {
        await t.step(`${peer.name} encrypts, we decrypt: ${name}`, async () => {
          const envelope = await peer.encrypt(keyHex, plaintext);
          assert.deepEqual(await decryptEnvelope(key, envelope), plaintext);
        });
        await t.step(`we encrypt, ${peer.name} decrypts: ${name}`, async () => {
          const envelope = await encryptEnvelope(key, plaintext);
          assert.deepEqual(await peer.decrypt(keyHex, envelope), plaintext);
        });
      }
      await t.step(`${peer.name} rejects our envelope under another key`, async () => {
        const envelope = await encryptEnvelope(key, text.encode("A=secret"));
        assert.equal(await peer.decrypt(generateKeyHex(), envelope), undefined);
      });
      await t.step(`we reject ${peer.name}'s envelope with a flipped tag bit`, async () => {
        const raw = Uint8Array.fromBase64(await peer.encrypt(keyHex, text.encode("A=secret")));
        raw[20] ^= 0x80;
        await assert.rejects(decryptEnvelope(key, raw.toBase64()), AuthenticationError);
      });
    },
  });
}
