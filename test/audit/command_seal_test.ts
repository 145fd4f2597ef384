// Every command that writes audit entries ends sealed, not only `run`: here `secrets:setup`
// (local, no sshd needed). The key evolves, a checkpoint is kept and published, and neither the
// key left on the host afterwards nor a copy of the key stolen before the command can rewrite
// what the command recorded without failing verify.
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildEntry, GENESIS_PREV, sha256Hex } from "../../src/audit/entry.ts";
import { type KeySigner, signerFromPem } from "../../src/audit/keys.ts";
import { auditPaths, readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import { cli, listDir, tempWorld } from "../fixtures/helpers.ts";
import { startHttpWitness } from "./witness_helpers.ts";

const enc = new TextEncoder();

// Rewrites the log from entry `fromSeq` on: the entry gets `edit` merged in, and it and every
// later entry are re-signed by `signer` and re-chained, as a forger holding that key would.
async function rewriteFrom(
  stateDir: string,
  fromSeq: number,
  edit: Record<string, string>,
  signer: KeySigner,
): Promise<void> {
  const path = auditPaths(stateDir).log;
  const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
  const at = lines.findIndex((l) => JSON.parse(l).seq === fromSeq);
  assert.ok(at >= 0);
  let prev = at > 0 ? sha256Hex(lines[at - 1]) : GENESIS_PREV;
  for (let i = at; i < lines.length; i++) {
    const { seq, ts, host, user, prev: _p, kid: _k, sig: _s, ...fields } = JSON.parse(lines[i]);
    const changed = i === at ? { ...fields, ...edit } : fields;
    lines[i] = buildEntry(changed, { seq, ts, host, user, prev }, signer).line;
    prev = sha256Hex(lines[i]);
  }
  await Deno.writeFile(path, enc.encode(lines.join("\n") + "\n"));
}

Deno.test("a command that writes audit entries ends sealed", async (t) => {
  const world = await tempWorld({ prefix: "audit-cmd-seal-" });
  const w = await startHttpWitness(world.dir);
  try {
    const origin = "test.example/cmd-seal";
    await Deno.writeTextFile(
      world.config,
      `${await Deno.readTextFile(world.config)}audit:\n  origin: ${origin}\n  witness:\n` +
        `    http: ${w.url}\n`,
    );
    const keyFile = auditPaths(world.stateDir).key;
    const stolen = signerFromPem(await Deno.readTextFile(keyFile)); // copied before the command
    const r = await cli(["secrets:setup", "--state-dir", world.stateDir], {
      env: { PROTOCOL_CONFIG: world.config },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /audit checkpoint: \d+ entries \(.*\), .*; published to http /);
    const entries = await readAuditEntries(world.stateDir);
    const secrets = entries.find((e) => e.action === "secrets")!;
    const settings = { origin, witness: { http: w.url, branch: "unused" } };

    await t.step("the key evolved and the checkpoint is kept and published", async () => {
      const after = signerFromPem(await Deno.readTextFile(keyFile));
      assert.notEqual(after.kid, stolen.kid);
      assert.deepEqual(entries.slice(-1).map((e) => [e.action, e.old_kid, e.new_kid]), [
        ["key.rotated", stolen.kid, after.kid],
      ]);
      assert.equal(secrets.kid, stolen.kid);
      assert.equal((await listDir(join(world.stateDir, "checkpoints"))).length, 1);
      const held = await (await fetch(`${w.url}/checkpoints?origin=${origin}`)).json();
      assert.equal(held.checkpoints.length, 1);
      const v = await verifyAuditLog(world.stateDir, { witness: settings });
      assert.equal(v.ok, true, JSON.stringify(v.firstBad));
      assert.equal(v.checkpoints.length, 1);
    });

    await t.step("the key left on the host cannot re-sign what the command wrote", async () => {
      const copy = join(world.dir, "forged-now");
      await Deno.mkdir(copy);
      for (const f of await listDir(world.stateDir)) {
        if (f.includes(".")) await Deno.copyFile(join(world.stateDir, f), join(copy, f));
      }
      await rewriteFrom(
        copy,
        secrets.seq,
        { operation: "nothing" },
        signerFromPem(
          await Deno.readTextFile(keyFile),
        ),
      );
      const v = await verifyAuditLog(copy);
      assert.equal(v.ok, false);
      assert.equal(v.firstBad?.reason, "unknown key", JSON.stringify(v.firstBad));
    });

    await t.step("a key stolen before the command: the witness pins its entries", async () => {
      await rewriteFrom(world.stateDir, secrets.seq, { operation: "nothing" }, stolen);
      await Deno.remove(join(world.stateDir, "checkpoints"), { recursive: true });
      const v = await verifyAuditLog(world.stateDir, { witness: settings });
      assert.equal(v.ok, false);
      assert.equal(v.firstBad?.reason, "rewritten since the checkpoint");
    });
  } finally {
    await w.stop();
    await world.cleanup();
  }
});
