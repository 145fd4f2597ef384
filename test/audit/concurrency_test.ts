// Real processes racing on one log: the lock must serialize them completely.
import assert from "node:assert/strict";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { denoScript, fixture, freshStateDir } from "./helpers.ts";

Deno.test("8 processes x 200 appends: every entry present once, chain and signatures valid", async () => {
  const dir = await freshStateDir();
  const procs = Array.from(
    { length: 8 },
    (_, w) =>
      denoScript(fixture("append_worker.ts"), [dir, "200", String(w)], {
        stdout: "null",
        stderr: "piped",
      }).output(),
  );
  const results = await Promise.all(procs);
  for (const r of results) assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));

  const entries = await readAuditEntries(dir);
  assert.equal(entries.length, 1600);
  assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: 1600 }, (_, i) => i + 1));
  for (let w = 0; w < 8; w++) {
    const mine = entries.filter((e) => e.worker === w).map((e) => e.i);
    assert.deepEqual(
      mine,
      Array.from({ length: 200 }, (_, i) => i + 1),
      `worker ${w} entries in order, once each`,
    );
  }
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.entries, 1600);
});
