// A verifier written from the README alone (Python, `cryptography`) agrees with audit:verify on a
// log with key evolutions, hostile field values and checkpoints, and on tampered copies.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { appendAudit, auditPaths, verifyAuditLog, writeCheckpoint } from "../../src/audit/mod.ts";
import { readKeyring } from "../../src/audit/signing.ts";
import { keyForSeq } from "../../src/audit/keys.ts";
import { fixture, freshStateDir, join, lines } from "./helpers.ts";

async function python(args: string[]): Promise<{ code: number; out: string }> {
  // Debian's python3 with its python3-cryptography (test/system-packages.txt), not whatever
  // python3 comes first on PATH: a fresh machine has no other.
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [fixture("verify_audit.py"), ...args],
  })
    .output();
  return {
    code: r.code,
    out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr),
  };
}

Deno.test("an independent verifier agrees", async () => {
  const dir = await freshStateDir();
  const root = Buffer.from(keyForSeq(await readKeyring(dir), 1)!.publicKeyRaw).toString("base64");
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
  const ok = await python([root, log, ...cps]);
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
    const theirs = await python([root, log, ...cps]);
    const mine = await verifyAuditLog(dir, { checkpointFiles: cps });
    assert.equal(theirs.code, 1, `${what}: ${theirs.out}`);
    assert.equal(mine.ok, false, what);
  }
  await Deno.writeFile(log, full);
});
