// Forward security against the deploy user: the key evolves at the end of every run and after
// 24 h, the old private key is destroyed, and an attacker holding every file on the host (the
// current key included) cannot rewrite an entry signed before the current key came into use.
import assert from "node:assert/strict";
import { type AuditEntry, buildEntry, sha256Hex } from "../../src/audit/entry.ts";
import {
  appendAudit,
  auditPaths,
  readAuditEntries,
  verifyAuditLog,
  writeCheckpoint,
} from "../../src/audit/mod.ts";
import { readKeyring } from "../../src/audit/signing.ts";
import { appendMany, currentKey, freshStateDir, join, lines } from "./helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Private keys that have been retired, as their PEM text was on disk (for the scan below). */
const retiredPems: string[] = [];

/** Three "runs", each sealed with a key evolution, like `deno task sop:deploy` does. */
async function threeRuns(): Promise<string> {
  const dir = await freshStateDir();
  for (let run = 0; run < 3; run++) {
    await appendMany(dir, 4, run * 10);
    retiredPems.push(await Deno.readTextFile(auditPaths(dir).key));
    await writeCheckpoint(dir, { rotate: true });
  }
  await appendMany(dir, 2, 100);
  return dir;
}

/**
 * The attack: take every file, apply `edit` to the entries, then re-sign and re-chain every
 * entry from the first changed one with the current key (the only private key on the host).
 */
async function rewriteWithCurrentKey(
  dir: string,
  edit: (entries: AuditEntry[]) => { entries: AuditEntry[]; from: number },
): Promise<void> {
  const p = auditPaths(dir);
  const key = await currentKey(dir);
  const original = lines(await Deno.readFile(p.log)).map((l) => JSON.parse(dec.decode(l)));
  const { entries, from } = edit(original);
  const out = lines(await Deno.readFile(p.log)).slice(0, from);
  let prev = from === 0 ? entries[0].prev : sha256Hex(out[from - 1]);
  for (let i = from; i < entries.length; i++) {
    const { seq: _s, ts, prev: _p, kid: _k, sig: _g, ...fields } = entries[i];
    const { line } = buildEntry(
      fields as AuditEntry,
      { seq: i + 1, prev, ts, host: String(fields.host), user: String(fields.user) },
      key,
    );
    out.push(enc.encode(line));
    prev = sha256Hex(line);
  }
  await Deno.writeFile(p.log, join(out));
}

Deno.test("forward-secure keys", async (t) => {
  await t.step("each run ends with key.rotated; old private keys are destroyed", async () => {
    const dir = await threeRuns();
    const entries = await readAuditEntries(dir);
    const rotations = entries.filter((e) => e.action === "key.rotated");
    assert.equal(rotations.length, 3);
    assert.ok(rotations.every((e) => e.reason === "end of run"));
    const ring = await readKeyring(dir);
    assert.equal(Object.keys(ring.keys).length, 4);
    const current = Object.entries(ring.keys).filter(([, k]) => k.to_seq === null);
    assert.equal(current.length, 1);
    // Only the current private key exists anywhere in the state directory, mode 0600.
    assert.equal((await currentKey(dir)).kid, current[0][0]);
    assert.equal((await Deno.stat(auditPaths(dir).key)).mode! & 0o777, 0o600);
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.filter((n) => n.includes(".key")), ["audit-signing.key"]);
    // No retired key's bytes are left in any file of the state directory.
    const bodies = retiredPems.map((pem) => pem.split("\n")[1]);
    for (const path of await filesUnder(dir)) {
      const text = new TextDecoder().decode(await Deno.readFile(path));
      for (const body of bodies) assert.ok(!text.includes(body), `${path} holds a retired key`);
    }
    assert.equal((await verifyAuditLog(dir)).ok, true);
  });

  await t.step(
    "editing an old entry and re-signing the tail with the current key fails verification",
    async () => {
      const dir = await threeRuns();
      await rewriteWithCurrentKey(dir, (es) => {
        es[1] = { ...es[1], to: "v666" };
        return { entries: es, from: 1 };
      });
      const r = await verifyAuditLog(dir);
      assert.equal(r.ok, false);
      assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [2, "unknown key"]);
    },
  );

  await t.step("deleting an old entry and re-chaining the tail fails too", async () => {
    const dir = await threeRuns();
    await rewriteWithCurrentKey(dir, (es) => ({ entries: es.filter((_, i) => i !== 2), from: 2 }));
    const r = await verifyAuditLog(dir);
    assert.equal(r.ok, false);
    assert.equal(r.firstBad!.line, 3);
  });

  await t.step(
    "…also when the attacker extends the current key's range in the keyring to seq 1",
    async () => {
      const dir = await threeRuns();
      await rewriteWithCurrentKey(dir, (es) => {
        es[5] = { ...es[5], to: "v666" };
        return { entries: es, from: 5 };
      });
      const p = auditPaths(dir);
      const ring = JSON.parse(await Deno.readTextFile(p.keyring));
      for (const k of Object.values(ring.keys) as { from_seq: number; to_seq: number | null }[]) {
        if (k.to_seq === null) k.from_seq = 1;
      }
      await Deno.writeTextFile(p.keyring, JSON.stringify(ring));
      // The keyring only supplies the trust root (seq 1); later keys come from the chain.
      const r = await verifyAuditLog(dir);
      assert.equal(r.ok, false);
      assert.equal(r.firstBad!.line, 6);
    },
  );

  await t.step("a key in use for more than 24 h is evolved before the next append", async () => {
    const dir = await freshStateDir();
    await appendMany(dir, 2);
    const p = auditPaths(dir);
    const ring = JSON.parse(await Deno.readTextFile(p.keyring));
    for (const k of Object.values(ring.keys) as { created: string }[]) {
      k.created = new Date(Date.now() - 25 * 3600_000).toISOString();
    }
    await Deno.writeTextFile(p.keyring, JSON.stringify(ring));
    const e = await appendAudit(dir, { action: "deploy", to: "v3" });
    assert.equal(e.seq, 4);
    const entries = await readAuditEntries(dir);
    assert.equal(entries[2].action, "key.rotated");
    assert.equal(entries[2].reason, "key in use for 24 h");
    assert.equal(e.kid, entries[2].new_kid);
    assert.equal((await verifyAuditLog(dir)).ok, true);
  });

  await t.step(
    "a crash after the old key was destroyed is finished by the next append",
    async () => {
      const dir = await freshStateDir();
      await appendMany(dir, 2);
      const { announceNextKey, loadSigner } = await import("../../src/audit/signing.ts");
      const { openLogForAppend, withAuditLock } = await import("../../src/audit/writer.ts");
      const next = await withAuditLock(dir, async () => {
        const log = await openLogForAppend(dir);
        try {
          return await announceNextKey(dir, log, await loadSigner(dir), "end of run");
        } finally {
          log.close();
        }
      });
      await Deno.remove(auditPaths(dir).key); // destroyed; the staged key not yet installed
      const e = await appendAudit(dir, { action: "deploy", to: "v3" });
      assert.equal(e.kid, next.signer.kid);
      assert.equal((await currentKey(dir)).kid, e.kid);
      assert.equal((await verifyAuditLog(dir)).ok, true);
    },
  );
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await filesUnder(path));
    else if (e.isFile) out.push(path);
  }
  return out;
}
