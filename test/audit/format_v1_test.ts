// Logs written before format v2 keep verifying after the upgrade, and the independent verifier
// (fixtures/verify_audit.py) agrees on every verdict here. The fixture in
// fixtures/v1-log was written by the code of commit 4608974 (its README says how): two files,
// a key rotation, hostile values and fields in the caller's (unsorted) order.
import assert from "node:assert/strict";
import { type AuditEntry, buildEntry, sha256Hex } from "../../src/audit/entry.ts";
import { v1SignedBytes } from "../../src/audit/legacy_v1.ts";
import {
  appendAudit,
  auditPaths,
  readAuditEntries,
  verifyAuditLog,
  writeCheckpoint,
} from "../../src/audit/mod.ts";
import { currentKey, lastLine, v1StateDir } from "./helpers.ts";
import { assertIndependentAgrees } from "./independent_helpers.ts";

const enc = new TextEncoder();

// What an attacker holding the current key could write: an entry in the old v1 form.
async function forgedV1Line(dir: string, fields: Record<string, string>): Promise<string> {
  const signer = await currentKey(dir);
  const prevLine = await lastLine(dir);
  const last = JSON.parse(prevLine);
  const unsigned = {
    seq: last.seq + 1,
    ts: new Date().toISOString(),
    host: "evil",
    user: "mallory",
    ...fields,
    status: "success",
    prev: sha256Hex(prevLine),
    kid: signer.kid,
  };
  const sig = signer.sign(v1SignedBytes({ ...unsigned, sig: "" } as unknown as AuditEntry));
  return JSON.stringify({ ...unsigned, sig });
}

Deno.test("a v1 log verifies unchanged", async () => {
  const dir = await v1StateDir();
  const r = await verifyAuditLog(dir);
  await assertIndependentAgrees(dir, r);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.entries, 9);
  assert.equal(r.files.length, 2);
  assert.equal(r.keys.length, 2);
  assert.equal((await readAuditEntries(dir)).length, 9);
});

Deno.test("the first new append closes the v1 history with format.upgraded", async () => {
  const dir = await v1StateDir();
  await appendAudit(dir, { action: "deploy", repo: "/opt/app", to: "v2.0.0" });
  await appendAudit(dir, { action: "rollback", repo: "/opt/app", to: "v1.2.0" });
  const entries = await readAuditEntries(dir);
  assert.deepEqual(
    entries.slice(9).map((e) => [e.seq, e.action]),
    [[10, "format.upgraded"], [11, "deploy"], [12, "rollback"]],
  );
  assert.equal(entries[9].from_format, 1);
  assert.equal(entries[9].to_format, 2);
  let r = await verifyAuditLog(dir);
  await assertIndependentAgrees(dir, r);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.entries, 12);
  // The end of a run (key evolved, checkpoint over the mixed history) keeps it verifiable.
  const cp = await writeCheckpoint(dir, { rotate: true });
  r = await verifyAuditLog(dir, { checkpointFiles: [cp.path] });
  await assertIndependentAgrees(dir, r, [cp.path]);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.checkpoints.length, 1);
  assert.equal(
    (await readAuditEntries(dir)).filter((e) => e.action === "format.upgraded").length,
    1,
  );
});

Deno.test("a v1 entry after the upgrade fails, even signed by the current key", async (t) => {
  for (
    const [name, fields] of [
      ["fields in the old unsorted order", { action: "deploy", to: "v666", repo: "/opt/app" }],
      // Sorted fields: byte-for-byte the v2 layout, only the signing input tells them apart.
      ["fields in sorted order", { action: "deploy", repo: "/opt/app", to: "v666" }],
    ] as const
  ) {
    await t.step(name, async () => {
      const dir = await v1StateDir();
      await appendAudit(dir, { action: "deploy", repo: "/opt/app", to: "v2.0.0" });
      const line = await forgedV1Line(dir, fields);
      await Deno.writeTextFile(auditPaths(dir).log, line + "\n", { append: true });
      const r = await verifyAuditLog(dir);
      await assertIndependentAgrees(dir, r);
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.reason, "downgraded", JSON.stringify(r.firstBad));
      assert.equal(r.firstBad?.line, 6);
      assert.equal(r.entries, 11);
    });
  }
});

Deno.test("after v1 entries, a v2 entry other than format.upgraded fails", async () => {
  // A forger with the current key skipping the marker to reopen v1 later.
  const dir = await v1StateDir();
  const signer = await currentKey(dir);
  const prevLine = await lastLine(dir);
  const ctx = {
    seq: 10,
    prev: sha256Hex(prevLine),
    ts: new Date().toISOString(),
    host: "evil",
    user: "mallory",
  };
  const { line } = buildEntry({ action: "deploy", to: "v666" }, ctx, signer);
  await Deno.writeTextFile(auditPaths(dir).log, line + "\n", { append: true });
  const r = await verifyAuditLog(dir);
  await assertIndependentAgrees(dir, r);
  assert.equal(r.firstBad?.reason, "downgraded", JSON.stringify(r.firstBad));
  assert.equal(r.entries, 9);
});

Deno.test("a tampered v1 entry fails, before and after the upgrade", async (t) => {
  for (const upgraded of [false, true]) {
    await t.step(upgraded ? "upgraded log" : "v1 log", async () => {
      const dir = await v1StateDir();
      if (upgraded) await appendAudit(dir, { action: "deploy", to: "v2.0.0" });
      const file = `${dir}/deployments.log.1`;
      const text = await Deno.readTextFile(file);
      assert.ok(text.includes('"to":"v1.2.0"'));
      await Deno.writeFile(file, enc.encode(text.replace('"to":"v1.2.0"', '"to":"v9.9.9"')));
      const r = await verifyAuditLog(dir);
      await assertIndependentAgrees(dir, r);
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.reason, "edited", JSON.stringify(r.firstBad));
      assert.equal(r.firstBad?.line, 1);
      assert.match(r.firstBad!.file, /deployments\.log\.1$/);
    });
  }
  await t.step(
    "the last v1 line re-signed by nobody: a reordered copy is not v1-signed",
    async () => {
      // Reordering a v1 line's fields keeps its JCS signature valid, but the next line's prev
      // pins its bytes: after the upgrade no v1 line can be re-encoded unnoticed.
      const dir = await v1StateDir();
      await appendAudit(dir, { action: "deploy", to: "v2.0.0" });
      const log = auditPaths(dir).log;
      const text = await Deno.readTextFile(log);
      const swapped = text.replace(
        '"runbook":"deploy","run_id":"r1"',
        '"run_id":"r1","runbook":"deploy"',
      );
      assert.notEqual(swapped, text);
      await Deno.writeTextFile(log, swapped);
      const r = await verifyAuditLog(dir);
      await assertIndependentAgrees(dir, r);
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.line, 3, JSON.stringify(r.firstBad));
    },
  );
});

Deno.test("a complete last v1 line missing only its newline is kept by the next append", async () => {
  const dir = await v1StateDir();
  const log = auditPaths(dir).log;
  const text = await Deno.readTextFile(log);
  await Deno.writeTextFile(log, text.slice(0, -1)); // the old writer died before its "\n"
  assert.equal((await verifyAuditLog(dir)).firstBad?.reason, "torn last line");
  await appendAudit(dir, { action: "deploy", repo: "/opt/app", to: "v2.0.0" });
  const after = await Deno.readTextFile(log);
  assert.ok(after.startsWith(text), "the v1 line and its bytes are kept, newline added");
  const entries = await readAuditEntries(dir);
  assert.deepEqual(
    entries.slice(8).map((e) => [e.seq, e.action]),
    [[9, "run"], [10, "format.upgraded"], [11, "deploy"]],
  );
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.entries, 11);
  await assertIndependentAgrees(dir, r);
});

Deno.test("after the upgrade, a torn v1 line is cut, never completed", async () => {
  const dir = await v1StateDir();
  await appendAudit(dir, { action: "deploy", repo: "/opt/app", to: "v2.0.0" });
  const forged = await forgedV1Line(dir, { action: "deploy", to: "v666" });
  await Deno.writeTextFile(auditPaths(dir).log, forged, { append: true }); // no newline
  await appendAudit(dir, { action: "rollback", repo: "/opt/app", to: "v1.2.0" });
  const entries = await readAuditEntries(dir);
  assert.deepEqual(
    entries.slice(11).map((e) => e.action),
    ["log.recovered", "rollback"],
  );
  assert.equal(entries.some((e) => e.to === "v666"), false);
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  await assertIndependentAgrees(dir, r);
});
