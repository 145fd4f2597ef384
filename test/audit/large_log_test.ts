// Large histories take the worker-thread signature path; it must judge exactly like the
// sequential one.
import assert from "node:assert/strict";
import { buildEntry, GENESIS_PREV, sha256Hex } from "../../src/audit/entry.ts";
import { auditPaths, rotateSigningKey, verifyAuditLog } from "../../src/audit/mod.ts";
import { checkLinesInParallel, startLaneWorkers } from "../../src/audit/parallel_sigs.ts";
import { cleanHistory } from "../../src/audit/fast_verify.ts";
import { SIGNED } from "../../src/audit/sig_lanes.ts";
import { loadSigner, readKeyring } from "../../src/audit/signing.ts";
import { keyForSeq } from "../../src/audit/keys.ts";
import { historyLines } from "../../src/audit/lines.ts";
import { verifyHistory } from "../../src/audit/verify_core.ts";
import { freshStateDir, join, lines } from "./helpers.ts";

Deno.test("a 5,000-entry log with a key rotation verifies through worker threads; an edit is still caught", async () => {
  const dir = await freshStateDir();
  const signer = await loadSigner(dir);
  const enc = new TextEncoder();
  const out: string[] = [];
  let prev = GENESIS_PREV;
  for (let seq = 1; seq <= 4999; seq++) {
    const { line } = buildEntry({ action: "step", step: `s${seq}` }, {
      seq,
      prev,
      ts: "2024-01-15T10:30:01.000Z",
      host: "h",
      user: "u",
    }, signer);
    out.push(line + "\n");
    prev = sha256Hex(line);
  }
  const log = auditPaths(dir).log;
  await Deno.writeTextFile(log, out.join(""));
  await rotateSigningKey(dir); // seq 5000, so later entries need the key learned from the chain
  const { appendAudit } = await import("../../src/audit/mod.ts");
  await appendAudit(dir, { action: "deploy", to: "v2" });

  const bytes = await Deno.readFile(log);
  const root = keyForSeq(await readKeyring(dir), 1)!;
  const files = [{ name: log, bytes }];
  const history = historyLines(files);
  const lanes = await checkLinesInParallel(history, root, startLaneWorkers({ count: 2 }));
  assert.equal(
    lanes.flags.filter((f) => f & SIGNED).length,
    5001,
    "every line verified, rotated key included",
  );
  assert.equal(cleanHistory(history, root, lanes)?.entries, 5001, "the clean-history pass took it");

  const ok = await verifyAuditLog(dir);
  assert.equal(ok.ok, true, JSON.stringify(ok.firstBad));
  assert.equal(ok.entries, 5001);

  const ls = lines(bytes);
  ls[4320] = enc.encode(new TextDecoder().decode(ls[4320]).replace('"s4321"', '"s9999"'));
  await Deno.writeFile(log, join(ls));
  const bad = await verifyAuditLog(dir);
  assert.deepEqual([bad.firstBad?.line, bad.firstBad?.reason], [4321, "edited"]);
  const sequential = verifyHistory([{ name: log, bytes: join(ls) }], root);
  assert.deepEqual(bad.firstBad, sequential.firstBad);
});
