// Key rotation (learned through the chain) and log rotation (one history across files).
import assert from "node:assert/strict";
import { buildEntry, sha256Hex } from "../../src/audit/entry.ts";
import { signerFromPem } from "../../src/audit/keys.ts";
import {
  appendAudit,
  auditPaths,
  readAuditEntries,
  rotateLog,
  rotateSigningKey,
  verifyAuditLog,
} from "../../src/audit/mod.ts";
import { readKeyring } from "../../src/audit/signing.ts";
import { appendMany, freshStateDir, lines } from "./helpers.ts";

Deno.test("key rotation", async (t) => {
  const dir = await freshStateDir();
  await appendMany(dir, 3);
  const oldPem = await Deno.readTextFile(auditPaths(dir).key);
  const rot = await rotateSigningKey(dir);
  await appendMany(dir, 3, 10);

  await t.step("entries before and after rotation verify; both keys are reported", async () => {
    const r = await verifyAuditLog(dir);
    assert.equal(r.ok, true, JSON.stringify(r.firstBad));
    assert.equal(r.entries, 7);
    assert.deepEqual(r.keys, [rot.oldKid, rot.kid]);
    const entries = await readAuditEntries(dir);
    const ev = entries[3];
    assert.equal(ev.action, "key.rotated");
    assert.equal(ev.kid, rot.oldKid, "the rotation entry is signed by the old key");
    assert.equal(ev.new_kid, rot.kid);
    assert.ok(entries.slice(4).every((e) => e.kid === rot.kid));
  });

  await t.step("the keyring records each key's seq range", async () => {
    const ring = await readKeyring(dir);
    assert.equal(ring.keys[rot.oldKid].from_seq, 1);
    assert.equal(ring.keys[rot.oldKid].to_seq, 4);
    assert.equal(ring.keys[rot.kid].from_seq, 5);
    assert.equal(ring.keys[rot.kid].to_seq, null);
  });

  await t.step(
    "an entry signed by the old key after the rotation fails as unknown key",
    async () => {
      const log = auditPaths(dir).log;
      const ls = lines(await Deno.readFile(log));
      const old = signerFromPem(oldPem);
      const ctx = {
        seq: 8,
        prev: sha256Hex(ls.at(-1)!),
        ts: new Date().toISOString(),
        host: "h",
        user: "mallory",
      };
      await Deno.writeTextFile(
        log,
        buildEntry({ action: "deploy", to: "evil" }, ctx, old).line + "\n",
        { append: true },
      );
      const r = await verifyAuditLog(dir);
      assert.equal(r.ok, false);
      assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [8, "unknown key"]);
      assert.match(r.firstBad!.detail, /retired at seq 4/);
    },
  );

  await t.step("appending with a key the chain does not expect is refused", async () => {
    const d2 = await freshStateDir();
    await appendMany(d2, 2);
    await Deno.writeTextFile(auditPaths(d2).key, oldPem);
    await assert.rejects(
      () => appendAudit(d2, { action: "deploy" }),
      /not the key the log expects/,
    );
  });

  await t.step(
    "a rotation that crashed after its key.rotated entry is finished by the next append",
    async () => {
      const d3 = await freshStateDir();
      await appendMany(d3, 2);
      const p = auditPaths(d3);
      const before = await Deno.readTextFile(p.key);
      const r = await rotateSigningKey(d3);
      // Simulate the crash: the old key is back in place and the new one is still staged.
      await Deno.writeTextFile(p.pendingKey, await Deno.readTextFile(p.key));
      await Deno.writeTextFile(p.key, before);
      const e = await appendAudit(d3, { action: "deploy" });
      assert.equal(e.kid, r.kid);
      assert.equal((await verifyAuditLog(d3)).ok, true);
    },
  );

  await t.step("keygen refuses to overwrite, pointing at audit:rotate-key", async () => {
    const { generateSigningKey } = await import("../../src/audit/mod.ts");
    await assert.rejects(() => generateSigningKey(dir), /audit:rotate-key/);
  });
});

Deno.test("log rotation", async (t) => {
  const dir = await freshStateDir();
  await appendMany(dir, 4);
  const r1 = await rotateLog(dir);
  await appendMany(dir, 3, 10);
  const r2 = await rotateLog(dir);
  await appendMany(dir, 2, 20);

  await t.step("rotated files continue seq and prev; all files verify as one history", async () => {
    assert.equal(r1!.seq, 5);
    assert.equal(r2!.seq, 9);
    assert.match(r1!.rotatedTo, /deployments\.log\.1$/);
    assert.match(r2!.rotatedTo, /deployments\.log\.2$/);
    const r = await verifyAuditLog(dir);
    assert.equal(r.ok, true, JSON.stringify(r.firstBad));
    assert.equal(r.entries, 11);
    assert.equal(r.files.length, 3);
    const first = lines(await Deno.readFile(auditPaths(dir).log))[0];
    assert.equal(JSON.parse(new TextDecoder().decode(first)).action, "log.rotated");
  });

  await t.step("deleting a rotated file in the middle is detected as deleted", async () => {
    const saved = await Deno.readFile(r2!.rotatedTo);
    await Deno.remove(r1!.rotatedTo.replace(/\.1$/, ".2"));
    const r = await verifyAuditLog(dir);
    assert.equal(r.ok, false);
    assert.equal(r.firstBad!.reason, "deleted");
    assert.equal(r.firstBad!.line, 1);
    assert.equal(r.firstBad!.file, auditPaths(dir).log);
    await Deno.writeFile(r2!.rotatedTo, saved, { mode: 0o600 });
  });

  await t.step("deleting the oldest file is detected too", async () => {
    await Deno.rename(r1!.rotatedTo, `${r1!.rotatedTo}.bak`);
    const r = await verifyAuditLog(dir);
    assert.deepEqual([r.firstBad?.line, r.firstBad?.reason], [1, "deleted"]);
    await Deno.rename(`${r1!.rotatedTo}.bak`, r1!.rotatedTo);
    assert.equal((await verifyAuditLog(dir)).ok, true);
  });

  await t.step(
    "a crash between rename and the new file's first entry still continues the chain",
    async () => {
      const p = auditPaths(dir);
      await Deno.rename(p.log, `${p.log}.3`);
      const e = await appendAudit(dir, { action: "deploy" });
      assert.equal(e.seq, 12);
      assert.equal((await verifyAuditLog(dir)).ok, true);
    },
  );

  await t.step("rotating an empty log is a no-op", async () => {
    const d = await freshStateDir();
    assert.equal(await rotateLog(d), null);
  });
});
