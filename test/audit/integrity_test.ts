// Line-level integrity rules added for issue 17: a complete last entry missing only its newline
// is kept, a re-encoded line is reported as such, and `user` comes from the uid, not the env.
import assert from "node:assert/strict";
import { appendAudit, auditPaths, readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { canonicalLine } from "../../src/audit/entry.ts";
import { appendMany, freshStateDir, join, lines, runDeno } from "./helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("a last entry missing only its newline is kept, not cut", async (t) => {
  for (const kind of ["a deploy entry", "a key.rotated entry"]) {
    await t.step(kind, async () => {
      const dir = await freshStateDir();
      await appendMany(dir, 3);
      if (kind === "a key.rotated entry") {
        const { rotateSigningKey } = await import("../../src/audit/mod.ts");
        await rotateSigningKey(dir);
      } else {
        await appendAudit(dir, { action: "deploy", to: "v4" });
      }
      const log = auditPaths(dir).log;
      const full = await Deno.readFile(log);
      await Deno.writeFile(log, full.subarray(0, full.length - 1)); // crash before the "\n"
      const e = await appendAudit(dir, { action: "deploy", to: "v5" });
      assert.equal(e.seq, 5, "the acknowledged entry 4 survived");
      const entries = await readAuditEntries(dir);
      assert.equal(entries.some((x) => x.action === "log.recovered"), false);
      const after = await Deno.readFile(log);
      assert.deepEqual(after.subarray(0, full.length), full);
      assert.equal((await verifyAuditLog(dir)).ok, true);
    });
  }

  await t.step("a complete-looking line that does not chain is still cut", async () => {
    const dir = await freshStateDir();
    await appendMany(dir, 3);
    const log = auditPaths(dir).log;
    const ls = lines(await Deno.readFile(log));
    // Entry 2 again, without newline, as a fake "entry 4": right syntax, wrong seq and prev.
    await Deno.writeFile(log, new Uint8Array([...join(ls), ...ls[1]]));
    const e = await appendAudit(dir, { action: "deploy", to: "v5" });
    assert.equal(e.seq, 5);
    const rec = (await readAuditEntries(dir)).find((x) => x.action === "log.recovered");
    assert.equal(rec?.cut_bytes, ls[1].length);
    assert.equal((await verifyAuditLog(dir)).ok, true);
  });
});

Deno.test("a line re-encoded with the same values is reported `re-encoded`", async () => {
  const dir = await freshStateDir();
  await appendMany(dir, 3);
  const log = auditPaths(dir).log;
  const ls = lines(await Deno.readFile(log));
  const e = JSON.parse(dec.decode(ls[2]));
  assert.equal(canonicalLine(e), dec.decode(ls[2]), "the writer's line is canonical");
  const { seq, ...rest } = e;
  for (
    const variant of [
      JSON.stringify({ ...rest, seq }),
      JSON.stringify(e, null, 1).replaceAll("\n", ""),
    ]
  ) {
    await Deno.writeFile(log, join([...ls.slice(0, 2), enc.encode(variant)]));
    const r = await verifyAuditLog(dir);
    assert.deepEqual([r.ok, r.firstBad?.line, r.firstBad?.reason], [false, 3, "re-encoded"]);
  }
});

Deno.test("`user` is the uid's login name; the environment cannot set it", async () => {
  const dir = await freshStateDir();
  const script = `import { appendAudit } from ${
    JSON.stringify(new URL("../../src/audit/mod.ts", import.meta.url).href)
  };
await appendAudit(Deno.args[0], { action: "deploy", to: "v1" });`;
  const path = `${dir}/../append.ts`;
  await Deno.writeTextFile(path, script);
  const idUn = dec.decode((await new Deno.Command("id", { args: ["-un"] }).output()).stdout).trim();
  const forged = { USER: "mallory", LOGNAME: "mallory", SUDO_USER: "mallory" };
  const r = await runDeno(path, [dir], forged);
  assert.equal(r.code, 0, r.stderr);
  const [e] = await readAuditEntries(dir);
  assert.equal(e.user, idUn);
  assert.equal(e.sudo_user, undefined, "SUDO_USER alone proves nothing");
  if (Deno.uid() === 0) {
    // Really root through sudo: sudo sets SUDO_UID and SUDO_USER to a real account.
    const r2 = await runDeno(path, [dir], { SUDO_USER: "daemon", SUDO_UID: "1" });
    assert.equal(r2.code, 0, r2.stderr);
    const last = (await readAuditEntries(dir)).at(-1)!;
    assert.deepEqual([last.user, last.sudo_user], ["root", "daemon"]);
    const r3 = await runDeno(path, [dir], { SUDO_USER: "mallory", SUDO_UID: "1" });
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal((await readAuditEntries(dir)).at(-1)!.sudo_user, undefined);
  }
  assert.equal((await verifyAuditLog(dir)).ok, true);
});
