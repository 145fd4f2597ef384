// Generated tamper cases against a log written by real appends. Every case must fail
// verification; where the reason is deterministic the line and reason are asserted too.
import assert from "node:assert/strict";
import { buildEntry, sha256Hex } from "../../src/audit/entry.ts";
import { newKeyPair, signerFromPem } from "../../src/audit/keys.ts";
import { appendAudit, auditPaths, verifyAuditLog, writeCheckpoint } from "../../src/audit/mod.ts";
import { loadSigner } from "../../src/audit/signing.ts";
import { historyLines } from "../../src/audit/lines.ts";
import { verifyHistory } from "../../src/audit/verify_core.ts";
import { laneJobFor } from "../../src/audit/parallel_sigs.ts";
import { checkChunks } from "../../src/audit/sig_lanes.ts";
import { parseCheckpoint } from "../../src/audit/checkpoint_core.ts";
import { readKeyring } from "../../src/audit/signing.ts";
import { keyForSeq } from "../../src/audit/keys.ts";
import { appendMany, freshStateDir, join, lines, prng } from "./helpers.ts";

const N = 30;
const dir = await freshStateDir();
await appendMany(dir, N);
const original = await Deno.readFile(auditPaths(dir).log);
const root = keyForSeq(await readKeyring(dir), 1)!;
const realSigner = await loadSigner(dir);
const forger = signerFromPem(newKeyPair().privatePem);
const enc = new TextEncoder();
let cases = 0;

// Every case is judged twice: by the full pass alone, and by the per-line verdicts plus the
// clean-history pass (what verifyAuditLog runs), which must fall back to the very same verdict.
function verify(bytes: Uint8Array) {
  cases++;
  const files = [{ name: "deployments.log", bytes }];
  const full = verifyHistory(files, root);
  const lines = historyLines(files);
  const lanes = laneJobFor(lines, root);
  checkChunks(lanes);
  assert.deepEqual(verifyHistory(files, root, { lanes, lines }), full);
  return full;
}

function forgedLine(seq: number, prevLine: Uint8Array, signer = forger, kid?: string): Uint8Array {
  const s = kid ? { kid, sign: signer.sign } : signer;
  const ctx = {
    seq,
    prev: sha256Hex(prevLine),
    ts: new Date().toISOString(),
    host: "evil",
    user: "mallory",
  };
  return enc.encode(buildEntry({ action: "deploy", repo: "/opt/app", to: "v666" }, ctx, s).line);
}

Deno.test("tamper detection", async (t) => {
  await t.step("the untouched log verifies", () => {
    const r = verify(original);
    assert.equal(r.ok, true, JSON.stringify(r.firstBad));
    assert.equal(r.entries, N);
  });

  await t.step("150 random single-byte edits anywhere are all detected", () => {
    const rand = prng(0xa11d17);
    for (let c = 0; c < 150; c++) {
      const pos = Math.floor(rand() * original.length);
      const bytes = original.slice();
      do bytes[pos] = Math.floor(rand() * 256); while (bytes[pos] === original[pos]);
      const r = verify(bytes);
      assert.equal(
        r.ok,
        false,
        `edit at byte ${pos} (${original[pos]} -> ${bytes[pos]}) went undetected`,
      );
      if (pos === original.length - 1) assert.equal(r.firstBad!.reason, "torn last line");
    }
  });

  await t.step(
    "every byte of one line, flipped, is detected (sig, prev, kid, seq included)",
    () => {
      const ls = lines(original);
      const k = 10;
      for (let b = 0; b < ls[k].length; b++) {
        const edited = ls.map((l) => l.slice());
        edited[k][b] ^= 0x01;
        const r = verify(join(edited));
        assert.equal(r.ok, false, `flip of byte ${b} in line ${k + 1} went undetected`);
        assert.equal(r.firstBad!.line <= k + 2, true);
      }
    },
  );

  await t.step("a deleted line (any but the last) is reported as deleted at its position", () => {
    const ls = lines(original);
    for (let k = 0; k < N - 1; k++) {
      const r = verify(join(ls.filter((_, i) => i !== k)));
      assert.equal(r.ok, false);
      assert.deepEqual(
        [r.firstBad!.line, r.firstBad!.reason],
        [k + 1, "deleted"],
        `deleting line ${k + 1}`,
      );
    }
  });

  await t.step("swapped adjacent lines are reported as reordered at the first swapped line", () => {
    const ls = lines(original);
    for (let k = 0; k < N - 1; k++) {
      const sw = [...ls];
      [sw[k], sw[k + 1]] = [sw[k + 1], sw[k]];
      const r = verify(join(sw));
      assert.deepEqual(
        [r.firstBad!.line, r.firstBad!.reason],
        [k + 1, "reordered"],
        `swapping ${k + 1}/${k + 2}`,
      );
    }
  });

  await t.step(
    "forged lines signed by another key, inserted in the chain, are reported as inserted",
    () => {
      const ls = lines(original);
      for (let k = 1; k < N; k++) {
        const forged = forgedLine(k + 1, ls[k - 1]);
        const r = verify(join([...ls.slice(0, k), forged, ...ls.slice(k)]));
        assert.deepEqual(
          [r.firstBad!.line, r.firstBad!.reason],
          [k + 1, "inserted"],
          `forged insert at ${k + 1}`,
        );
      }
    },
  );

  await t.step(
    "a forged line claiming the real kid is inserted; appended at the end it is a bad signature",
    () => {
      const ls = lines(original);
      const mid = forgedLine(6, ls[4], forger, realSigner.kid);
      let r = verify(join([...ls.slice(0, 5), mid, ...ls.slice(5)]));
      assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [6, "inserted"]);
      const end = forgedLine(N + 1, ls[N - 1], forger, realSigner.kid);
      r = verify(join([...ls, end]));
      assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [N + 1, "edited"]);
      const unknown = forgedLine(N + 1, ls[N - 1]);
      r = verify(join([...ls, unknown]));
      assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [N + 1, "unknown key"]);
    },
  );

  await t.step("a copy of an existing line re-inserted anywhere is reported as inserted", () => {
    const ls = lines(original);
    const rand = prng(7);
    for (let c = 0; c < 25; c++) {
      const src = Math.floor(rand() * N);
      const at = Math.floor(rand() * (N + 1));
      const r = verify(join([...ls.slice(0, at), ls[src], ...ls.slice(at)]));
      assert.equal(r.ok, false, `copy of line ${src + 1} at ${at + 1}`);
      assert.equal(
        r.firstBad!.reason,
        "inserted",
        `copy of line ${src + 1} at ${at + 1}: ${r.firstBad!.detail}`,
      );
      // Before its original the copy is out of place; right before it, the copy fits and the
      // original becomes the duplicate; after it, the copy is the duplicate.
      const expected = at === src ? at + 2 : at + 1;
      assert.equal(r.firstBad!.line, expected, `copy of line ${src + 1} at ${at + 1}`);
    }
  });

  await t.step("an empty line and a torn tail are detected", () => {
    const ls = lines(original);
    let r = verify(join([...ls.slice(0, 3), new Uint8Array(), ...ls.slice(3)]));
    assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [4, "inserted"]);
    r = verify(original.subarray(0, original.length - 40));
    assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [N, "torn last line"]);
  });

  console.log(`  ${cases} generated tamper cases`);
  assert.ok(cases >= 200, `only ${cases} cases`);
});

Deno.test("checkpoint detects truncation and rewrites", async (t) => {
  const cpDir = await freshStateDir();
  await appendMany(cpDir, 12);
  const { path: cpPath, size } = await writeCheckpoint(cpDir);
  assert.equal(size, 12);
  const log = auditPaths(cpDir).log;
  const full = await Deno.readFile(log);

  await t.step(
    "the intact log passes with the checkpoint, also after further appends",
    async () => {
      await appendMany(cpDir, 2, 100);
      const r = await verifyAuditLog(cpDir, { checkpointFiles: [cpPath] });
      assert.equal(r.ok, true, JSON.stringify(r.firstBad));
      assert.deepEqual(r.checkpoints.map((c) => c.size), [12]);
      await Deno.writeFile(log, full);
    },
  );

  await t.step("cutting 1..5 lines off the end is 'shorter than the checkpoint'", async () => {
    const ls = lines(full);
    for (let cut = 1; cut <= 5; cut++) {
      await Deno.writeFile(log, join(ls.slice(0, ls.length - cut)));
      const plain = await verifyAuditLog(cpDir);
      assert.equal(plain.ok, true, "a clean truncation is invisible without a checkpoint");
      const r = await verifyAuditLog(cpDir, { checkpointFiles: [cpPath] });
      cases++;
      assert.equal(r.ok, false);
      assert.equal(r.firstBad!.reason, "shorter than the checkpoint");
    }
  });

  await t.step(
    "re-signing the history from an earlier point is 'rewritten since the checkpoint'",
    async () => {
      const ls = lines(full);
      for (const from of [3, 8, 11]) {
        await Deno.writeFile(log, join(ls.slice(0, from)));
        // An attacker holding the real key appends a different history of the same length.
        for (let i = from; i < 12; i++) {
          await appendAudit(cpDir, {
            action: "deploy",
            repo: "/opt/app",
            to: `x${i}`,
          });
        }
        const plain = await verifyAuditLog(cpDir);
        assert.equal(plain.ok, true, "a re-signed history is valid on its own");
        const r = await verifyAuditLog(cpDir, { checkpointFiles: [cpPath] });
        cases++;
        assert.deepEqual([r.firstBad!.line, r.firstBad!.reason], [
          12,
          "rewritten since the checkpoint",
        ]);
      }
    },
  );

  await t.step("a checkpoint with a forged signature is bad input", async () => {
    await Deno.writeFile(log, full);
    const forgedPath = `${cpPath}.forged`;
    const text = await Deno.readTextFile(cpPath);
    await Deno.writeTextFile(forgedPath, text.replace(/\n12\n/, "\n13\n"));
    assert.equal(parseCheckpoint(await Deno.readTextFile(forgedPath)).size, 13);
    await assert.rejects(
      () => verifyAuditLog(cpDir, { checkpointFiles: [forgedPath] }),
      /signature does not verify/,
    );
  });
});
