// Group commit: appends made while another is being written go together (one lock, one write,
// one fdatasync), each entry still chained and signed, each caller answered only once its entry
// is on disk — proved with real processes, real files, SIGKILL and the independent verifier.
import assert from "node:assert/strict";
import { appendAudit, auditPaths, readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { denoConfig, denoScript, fixture, freshStateDir } from "./helpers.ts";
import { assertIndependentAgrees } from "./independent_helpers.ts";

/** Entries of `worker` in log order, by the index the worker gave them. */
async function indexesOf(dir: string, worker: number): Promise<number[]> {
  return (await readAuditEntries(dir)).filter((e) => e.worker === worker).map((e) => Number(e.i));
}

Deno.test("appends made together: each signed and chained, in the order they were made", async () => {
  const dir = await freshStateDir();
  const entries = await Promise.all(
    Array.from({ length: 300 }, (_, i) => appendAudit(dir, { action: "step", worker: 0, i })),
  );
  assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: 300 }, (_, i) => i + 1));
  assert.deepEqual(entries.map((e) => e.i), Array.from({ length: 300 }, (_, i) => i));
  const onDisk = await readAuditEntries(dir);
  assert.deepEqual(
    onDisk.map((e) => e.sig),
    entries.map((e) => e.sig),
    "what callers got is on disk",
  );
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  assert.equal(r.entries, 300);
  await assertIndependentAgrees(dir, r);
});

Deno.test("an entry refused in a batch fails its own caller only: the others are written", async () => {
  const dir = await freshStateDir();
  // Too long for a line (64 KiB), which only building the signed line can tell.
  const outcomes = await Promise.allSettled([
    appendAudit(dir, { action: "step", i: 0 }),
    appendAudit(dir, { action: "step", i: 1, message: "x".repeat(70_000) }),
    appendAudit(dir, { action: "step", i: 2 }),
  ]);
  assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /under 64 KiB/);
  assert.deepEqual((await readAuditEntries(dir)).map((e) => [e.seq, e.i]), [[1, 0], [2, 2]]);
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
});

Deno.test("50 appends in flight at a time share fdatasyncs: far fewer than one an entry", async () => {
  const dir = await freshStateDir();
  const trace = `${dir}/../strace.txt`;
  const n = 200;
  const out = await new Deno.Command("strace", {
    args: [
      ...["-f", "-qq", "-e", "trace=fdatasync,fsync", "-o", trace],
      ...[Deno.execPath(), "run", "-A", "--config", denoConfig],
      ...[fixture("batch_worker.ts"), dir, String(n), "0", "50"],
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const syncs = (await Deno.readTextFile(trace)).split("\n").filter((l) => l.includes("sync("));
  assert.ok(syncs.length <= n / 2, `${syncs.length} syncs for ${n} entries`);
  assert.deepEqual(await indexesOf(dir, 0), Array.from({ length: n }, (_, i) => i + 1));
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  await assertIndependentAgrees(dir, r);
});

Deno.test("three processes appending in batches at once stay one chain", async () => {
  const dir = await freshStateDir();
  const results = await Promise.all(
    [0, 1, 2].map((w) =>
      denoScript(fixture("batch_worker.ts"), [dir, "150", String(w), "20"], {
        stdout: "null",
        stderr: "piped",
      }).output()
    ),
  );
  for (const r of results) assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  const entries = await readAuditEntries(dir);
  assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: 450 }, (_, i) => i + 1));
  for (const w of [0, 1, 2]) {
    assert.deepEqual(
      await indexesOf(dir, w),
      Array.from({ length: 150 }, (_, i) => i + 1),
      `worker ${w}: every entry once, in the order it made them`,
    );
  }
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  await assertIndependentAgrees(dir, r);
});

Deno.test("SIGKILL during batched appends loses no acknowledged entry", async () => {
  const dir = await freshStateDir();
  for (let round = 0; round < 3; round++) {
    const child = denoScript(fixture("batch_worker.ts"), [dir, "100000", String(round), "32"], {
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Kill it once it has acknowledged some entries (more each round), mid-stream.
    const acked: number[] = [];
    let text = "";
    const decoder = new TextDecoder();
    let killed = false;
    for await (const chunk of child.stdout) {
      text += decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      text = lines.pop()!;
      for (const line of lines) acked.push(Number(line.slice("acked ".length)));
      if (!killed && acked.length >= 40 + 100 * round) {
        child.kill("SIGKILL");
        killed = true; // read on: whatever it printed before dying was acknowledged too
      }
    }
    assert.equal((await child.status).signal, "SIGKILL");

    const r = await verifyAuditLog(dir);
    if (!r.ok) assert.equal(r.firstBad?.reason, "torn last line", "only a torn tail, reported");
    const onDisk = new Set(await indexesOf(dir, round));
    const lost = acked.filter((i) => !onDisk.has(i));
    assert.deepEqual(lost, [], `round ${round}: acknowledged entries missing from the log`);
    // The next append cuts a torn tail (log.recovered) and the whole log verifies.
    await appendAudit(dir, { action: "incident", note: `after kill ${round}` });
    const after = await verifyAuditLog(dir);
    assert.equal(after.ok, true, JSON.stringify(after.firstBad));
    await assertIndependentAgrees(dir, after);
  }
});

Deno.test("a batch behind a key older than a day: evolved first, the whole batch signed by the new key", async () => {
  const dir = await freshStateDir();
  await appendAudit(dir, { action: "deploy", to: "v1" });
  const old = (await readAuditEntries(dir))[0].kid;
  const keyring = auditPaths(dir).keyring;
  const ring = JSON.parse(await Deno.readTextFile(keyring));
  ring.keys[old].created = new Date(Date.now() - 25 * 3600_000).toISOString();
  await Deno.writeTextFile(keyring, JSON.stringify(ring));
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => appendAudit(dir, { action: "step", worker: 0, i })),
  );
  const entries = await readAuditEntries(dir);
  assert.deepEqual(entries.map((e) => e.action), [
    "deploy",
    "key.rotated",
    ...Array(20).fill("step"),
  ]);
  const rotated = entries[1];
  assert.equal(rotated.kid, old, "the old key signs the introduction of the new one");
  assert.deepEqual(new Set(entries.slice(2).map((e) => e.kid)), new Set([rotated.new_kid]));
  const r = await verifyAuditLog(dir);
  assert.equal(r.ok, true, JSON.stringify(r.firstBad));
  await assertIndependentAgrees(dir, r);
});
