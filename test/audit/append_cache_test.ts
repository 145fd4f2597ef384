// One process appends many entries (every step of a run does): the signing key, the keyring and
// the password database are read once, not per entry, and a key evolution in the same process
// still signs and chains every entry right.
import assert from "node:assert/strict";
import {
  appendAudit,
  auditPaths,
  readAuditEntries,
  rotateSigningKey,
  verifyAuditLog,
} from "../../src/audit/mod.ts";
import { appendMany, denoConfig, fixture, freshStateDir } from "./helpers.ts";

Deno.test("entries stay signed and chained across key evolutions in one process", async () => {
  const dir = await freshStateDir();
  await appendMany(dir, 3);
  const first = (await readAuditEntries(dir)).at(-1)!.kid;
  // An explicit evolution (end of a run) ...
  const rotated = await rotateSigningKey(dir, "end of run");
  assert.equal(rotated.oldKid, first);
  await appendMany(dir, 3, 4);
  // ... and one the writer does itself for a key older than a day.
  const p = auditPaths(dir);
  const ring = JSON.parse(await Deno.readTextFile(p.keyring));
  ring.keys[rotated.kid].created = new Date(Date.now() - 25 * 3600_000).toISOString();
  await Deno.writeTextFile(p.keyring, JSON.stringify(ring));
  const after = await appendAudit(dir, { action: "deploy", to: "v7" });
  await appendMany(dir, 2, 8);

  const entries = await readAuditEntries(dir);
  const kids = entries.map((e) => e.kid);
  const third = entries.find((e) => e.action === "key.rotated" && e.old_kid === rotated.kid)!;
  assert.equal(third.reason, "key in use for 24 h");
  assert.equal(after.kid, third.new_kid);
  // Each key signs exactly its own range: up to and including the key.rotated it signs.
  assert.deepEqual(kids, [
    ...Array(4).fill(first),
    ...Array(4).fill(rotated.kid),
    ...Array(3).fill(third.new_kid),
  ]);
  assert.deepEqual(entries.map((e) => e.seq), entries.map((_, i) => i + 1));
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.deepEqual(r.keys, [first, rotated.kid, third.new_kid]);
  // The destroyed keys are gone from disk; only the current one is there.
  assert.equal(
    (await Array.fromAsync(Deno.readDir(dir))).filter((e) => e.name.endsWith(".key")).length,
    1,
  );
});

Deno.test("appending 2×20 entries across a key evolution opens the key, keyring and passwd a few times, not per entry", async () => {
  const dir = await freshStateDir();
  const trace = `${dir}/../strace.txt`;
  const n = 20;
  const out = await new Deno.Command("strace", {
    args: [
      "-f",
      "-qq",
      "-e",
      "trace=openat",
      "-o",
      trace,
      Deno.execPath(),
      "run",
      "-A",
      "--config",
      denoConfig,
      fixture("append_across_rotation.ts"),
      dir,
      String(n),
    ],
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const opens = (await Deno.readTextFile(trace)).split("\n");
  const count = (name: string) => opens.filter((l) => l.includes(`/${name}"`)).length;
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true);
  assert.equal(r.entries, 2 * n + 1);
  // The key: read once, then destroyed and read through the evolution. The keyring: read once,
  // then again after the evolution rewrote it. passwd: once for the user name.
  assert.ok(count("audit-signing.key") <= 3, `signing key opened ${count("audit-signing.key")}×`);
  assert.ok(count("audit-keyring.json") <= 3, `keyring opened ${count("audit-keyring.json")}×`);
  assert.ok(count("passwd") <= 1, `/etc/passwd opened ${count("passwd")}×`);
  assert.equal(count("deployments.log"), 2 * n + 1, "the log itself is opened per append");
});
