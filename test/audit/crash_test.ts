// A writer killed mid-append, and the torn-tail rule: verify reports the torn line; the next
// append cuts it, records log.recovered (sha256 + length of the cut bytes), then writes.
import assert from "node:assert/strict";
import { sha256Hex } from "../../src/audit/entry.ts";
import { appendAudit, auditPaths, readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { appendMany, denoScript, fixture, freshStateDir } from "./helpers.ts";

Deno.test("torn tail, written deterministically, is reported then recovered", async () => {
  const dir = await freshStateDir();
  await appendMany(dir, 5);
  const log = auditPaths(dir).log;
  const before = await Deno.readFile(log);
  const partial = new TextEncoder().encode(
    '{"seq":6,"ts":"2024-01-15T10:30:01.000Z","host":"web1","us',
  );
  await Deno.writeFile(log, partial, { append: true });

  const torn = await verifyAuditLog(dir);
  assert.equal(torn.ok, false);
  assert.deepEqual([torn.firstBad!.line, torn.firstBad!.reason], [6, "torn last line"]);
  assert.equal(torn.entries, 5);

  const e = await appendAudit(dir, { action: "deploy", repo: "/opt/app", to: "v6" });
  assert.equal(e.seq, 7, "seq 6 is the log.recovered entry");
  const after = await Deno.readFile(log);
  assert.deepEqual(after.subarray(0, before.length), before, "complete lines are untouched");
  const entries = await readAuditEntries(dir);
  const rec = entries.find((x) => x.action === "log.recovered")!;
  assert.equal(rec.seq, 6);
  assert.equal(rec.cut_bytes, partial.length);
  assert.equal(rec.cut_sha256, sha256Hex(partial));
  assert.equal(rec.cut_offset, before.length);
  const ok = await verifyAuditLog(dir);
  assert.equal(ok.ok, true, JSON.stringify(ok.firstBad));
  assert.equal(ok.entries, 7);
});

Deno.test("a file that is only a torn line recovers to seq 1", async () => {
  const dir = await freshStateDir();
  await Deno.writeTextFile(auditPaths(dir).log, '{"seq":1,"ts"');
  assert.equal((await verifyAuditLog(dir)).firstBad?.reason, "torn last line");
  const e = await appendAudit(dir, { action: "config" });
  assert.equal(e.seq, 2);
  assert.equal((await verifyAuditLog(dir)).ok, true);
});

Deno.test("SIGKILL in the middle of a stream of appends leaves at most a torn last line", async () => {
  const dir = await freshStateDir();
  const log = auditPaths(dir).log;
  for (let round = 0; round < 3; round++) {
    const child = denoScript(fixture("append_worker.ts"), [dir, "100000", String(round)], {
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // "started": the writer is mid-stream
    await new Promise((r) => setTimeout(r, 50 + round * 40));
    child.kill("SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel();
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");

    const bytes = await Deno.readFile(log);
    const r = await verifyAuditLog(dir);
    if (bytes.at(-1) === 10) {
      assert.equal(r.ok, true, JSON.stringify(r.firstBad));
    } else {
      assert.equal(r.firstBad?.reason, "torn last line", "a partial line is never a silent pass");
    }
    const e = await appendAudit(dir, { action: "incident", note: `after kill ${round}` });
    const after = await verifyAuditLog(dir);
    assert.equal(after.ok, true, JSON.stringify(after.firstBad));
    assert.equal(after.entries, e.seq);
  }
});

Deno.test("the tail reader copes with lines and torn tails longer than its first read", async () => {
  const dir = await freshStateDir();
  await appendAudit(dir, { action: "config", note: "x".repeat(40_000) });
  await appendAudit(dir, { action: "config", note: "y".repeat(60_000) });
  await Deno.writeTextFile(auditPaths(dir).log, '{"seq":3,"note":"' + "z".repeat(30_000), {
    append: true,
  });
  const e = await appendAudit(dir, { action: "config" });
  assert.equal(e.seq, 4);
  const entries = await readAuditEntries(dir);
  assert.equal(entries[2].cut_bytes, 30_017);
  assert.equal((await verifyAuditLog(dir)).ok, true);
});
