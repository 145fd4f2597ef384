// A verifier written from the README alone (Python, `cryptography`) agrees with audit:verify on a
// log with key evolutions, hostile field values and checkpoints, and on tampered copies.
import assert from "node:assert/strict";
import { appendAudit, auditPaths, verifyAuditLog, writeCheckpoint } from "../../src/audit/mod.ts";
import { freshStateDir, join, lines } from "./helpers.ts";
import { python, rootBase64 } from "./independent_helpers.ts";

Deno.test("an independent verifier agrees", async () => {
  const dir = await freshStateDir();
  const root = await rootBase64(dir);
  const hostile = [
    'quote " back \\ ] bracket',
    "new\nline\ttab\u0001",
    "ünïcødé ✓ \u2028",
    "x".repeat(3000),
  ];
  const cps: string[] = [];
  for (let run = 0; run < 3; run++) {
    for (const [i, v] of hostile.entries()) {
      await appendAudit(dir, {
        action: "deploy",
        to: `v${run}.${i}`,
        note: v,
        count: i * 1.5,
        ok: i % 2 === 0,
      });
    }
    cps.push((await writeCheckpoint(dir, { rotate: true, out: `${dir}/../cp${run}.txt` })).path);
  }
  const log = auditPaths(dir).log;
  const ok = await python([root, log, ...cps.flatMap((c) => ["-c", c])]);
  assert.equal(ok.code, 0, ok.out);
  const ours = await verifyAuditLog(dir, { checkpointFiles: cps });
  assert.equal(ok.out.trim(), `ok ${ours.entries}`);

  const full = await Deno.readFile(log);
  const ls = lines(full);
  const tampered: [string, Uint8Array][] = [
    [
      "edited",
      join(
        ls.map((l, i) =>
          i === 3
            ? new TextEncoder().encode(new TextDecoder().decode(l).replace('"v0.3"', '"v0.9"'))
            : l
        ),
      ),
    ],
    ["deleted", join(ls.filter((_, i) => i !== 5))],
    ["truncated", join(ls.slice(0, ls.length - 1))],
  ];
  for (const [what, bytes] of tampered) {
    await Deno.writeFile(log, bytes);
    const theirs = await python([root, log, ...cps.flatMap((c) => ["-c", c])]);
    const mine = await verifyAuditLog(dir, { checkpointFiles: cps });
    assert.equal(theirs.code, 1, `${what}: ${theirs.out}`);
    assert.equal(mine.ok, false, what);
  }
  await Deno.writeFile(log, full);
});
