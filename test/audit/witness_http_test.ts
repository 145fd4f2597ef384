// The HTTP witness end to end: the real `witness:serve` command, checkpoints published at the
// end of each run, verify against everything the witness holds, and the attacks it stops.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  appendAudit,
  auditPaths,
  readAuditEntries,
  verifyAuditLog,
  writeCheckpoint,
} from "../../src/audit/mod.ts";
import { makeCheckpoint, parseCheckpoint } from "../../src/audit/checkpoint_core.ts";
import { consistencyProof, leafHash, treeRoot } from "../../src/audit/merkle.ts";
import { addCheckpointBody } from "../../src/audit/witness/http.ts";
import { appendMany, currentKey, freshStateDir, join, lines } from "./helpers.ts";
import { startHttpWitness } from "./witness_helpers.ts";

const ORIGIN = "test.example/protocol-audit";

Deno.test("HTTP witness", async (t) => {
  const dir = await freshStateDir();
  const w = await startHttpWitness(`${dir}/..`);
  const settings = { origin: ORIGIN, witness: { http: w.url, branch: "audit-checkpoints" } };
  try {
    await t.step("every sealed run is published; verify checks all of them", async () => {
      await appendMany(dir, 5);
      const a = await writeCheckpoint(dir, { rotate: true, witness: settings });
      assert.deepEqual(a.published.map((p) => p.ok), [true]);
      await appendMany(dir, 3, 10);
      const b = await writeCheckpoint(dir, { rotate: true, witness: settings });
      assert.deepEqual(b.published.map((p) => p.ok), [true]);
      const held = await (await fetch(`${w.url}/checkpoints?origin=${ORIGIN}`)).json();
      assert.deepEqual(held.checkpoints, [a.text, b.text]);
      const r = await verifyAuditLog(dir, { witness: settings });
      assert.equal(r.ok, true, JSON.stringify(r.firstBad));
      assert.deepEqual(r.checkpoints.map((c) => c.size), [a.size, b.size]);
    });

    const log = auditPaths(dir).log;
    const sealed = await Deno.readFile(log);

    await t.step("truncation fails against the witness (and nowhere else)", async () => {
      const ls = lines(sealed);
      await Deno.writeFile(log, join(ls.slice(0, ls.length - 2)));
      assert.equal((await verifyAuditLog(dir)).ok, true, "invisible without the witness");
      const r = await verifyAuditLog(dir, { witness: settings });
      assert.equal(r.firstBad?.reason, "shorter than the checkpoint");
      await assert.rejects(
        () => writeCheckpoint(dir, { witness: settings }),
        /refusing to sign a checkpoint over a log that does not verify/,
      );
      await Deno.writeFile(log, sealed);
    });

    await t.step(
      "truncate-and-continue with the current key fails against the witness",
      async () => {
        await appendMany(dir, 4, 20);
        // An on-demand checkpoint mid-window: the current key signed it and still exists.
        const cp = await writeCheckpoint(dir, { witness: settings });
        assert.deepEqual(cp.published.map((p) => p.ok), [true]);
        const before = lines(await Deno.readFile(log));
        await Deno.writeFile(log, join(before.slice(0, before.length - 2)));
        for (let i = 0; i < 3; i++) await appendAudit(dir, { action: "deploy", to: `evil${i}` });
        assert.equal((await verifyAuditLog(dir)).ok, true, "the forged tail is valid on its own");
        const r = await verifyAuditLog(dir, { witness: settings });
        assert.equal(r.firstBad?.reason, "rewritten since the checkpoint");
        await assert.rejects(() => writeCheckpoint(dir, { witness: settings }), /refusing/);
        // The attacker signs a checkpoint himself and submits it: the witness refuses it.
        const bytes = lines(await Deno.readFile(log));
        const leaves = bytes.map(leafHash);
        const key = await currentKey(dir);
        const forged = makeCheckpoint(ORIGIN, leaves.length, treeRoot(leaves, leaves.length), key);
        const res = await fetch(`${w.url}/add-checkpoint`, {
          method: "POST",
          body: addCheckpointBody(
            cp.size,
            consistencyProof(leaves, cp.size, leaves.length),
            forged,
          ),
        });
        assert.equal(res.status, 422, await res.text());
        await Deno.writeFile(log, join(before));
        assert.equal((await verifyAuditLog(dir, { witness: settings })).ok, true);
      },
    );

    await t.step("the witness speaks tlog-witness: 409 with its size, 422, 400", async () => {
      const held = (await (await fetch(`${w.url}/checkpoints?origin=${ORIGIN}`)).json())
        .checkpoints as string[];
      const latest = parseCheckpoint(held.at(-1)!);
      const stale = await fetch(`${w.url}/add-checkpoint`, {
        method: "POST",
        body: addCheckpointBody(0, [], held.at(-1)!),
      });
      assert.equal(stale.status, 409);
      assert.equal(stale.headers.get("content-type"), "text/x.tlog.size");
      assert.equal(await stale.text(), `${latest.size}\n`);
      const sameSizeOtherRoot = held.at(-1)!.replace(
        Buffer.from(latest.root).toString("base64"),
        Buffer.alloc(32, 7).toString("base64"),
      );
      const r422 = await fetch(`${w.url}/add-checkpoint`, {
        method: "POST",
        body: addCheckpointBody(latest.size, [], sameSizeOtherRoot),
      });
      assert.equal(r422.status, 422, await r422.text());
      const r400 = await fetch(`${w.url}/add-checkpoint`, { method: "POST", body: "hello" });
      assert.equal(r400.status, 400);
      await r400.body?.cancel();
    });
  } finally {
    await w.stop();
  }

  await t.step("an unreachable witness: retried, reported, recorded; never fatal", async () => {
    const down = { origin: ORIGIN, witness: { http: w.url, branch: "audit-checkpoints" } };
    const r = await writeCheckpoint(dir, { rotate: true, witness: down, retryDelayMs: 10 });
    assert.equal(r.published.length, 1);
    assert.deepEqual([r.published[0].ok, r.published[0].attempts], [false, 3]);
    const last = (await readAuditEntries(dir)).at(-1)!;
    assert.equal(last.action, "checkpoint.unpublished");
    assert.equal(last.status, "failure");
    assert.equal((await verifyAuditLog(dir)).ok, true);
    await assert.rejects(() => verifyAuditLog(dir, { witness: down }), /cannot read the witness/);
  });
});
