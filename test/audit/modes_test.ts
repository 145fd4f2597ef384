// Private files stay private even when the process umask would allow anything.
import assert from "node:assert/strict";
import { auditPaths } from "../../src/audit/mod.ts";
import { denoConfig, denoScript, fixture } from "./helpers.ts";

Deno.test("under umask 000: state dir 0700; log, key, keyring, lock and checkpoint 0600", async () => {
  const dir = `${await Deno.makeTempDir({ prefix: "audit-test-" })}/state`;
  // A child under `umask 000` so this test does not loosen the umask of the test runner itself.
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      'umask 000 && exec "$0" run -A --config "$1" "$2" "$3"',
      Deno.execPath(),
      denoConfig,
      fixture("umask_writer.ts"),
      dir,
    ],
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const p = auditPaths(dir);
  const mode = async (path: string) => (await Deno.stat(path)).mode! & 0o777;
  assert.equal(await mode(dir), 0o700);
  assert.equal(await mode(p.checkpoints), 0o700);
  for (const f of [p.log, p.key, p.keyring, p.lock]) assert.equal(await mode(f), 0o600, f);
  for await (const e of Deno.readDir(p.checkpoints)) {
    assert.equal(await mode(`${p.checkpoints}/${e.name}`), 0o600);
  }
});

Deno.test("a log loosened by hand is tightened back to 0600 by the next append", async () => {
  const dir = `${await Deno.makeTempDir({ prefix: "audit-test-" })}/state`;
  const run = () => denoScript(fixture("umask_writer.ts"), [dir]).output();
  assert.equal((await run()).code, 0);
  await Deno.chmod(auditPaths(dir).log, 0o644);
  const { appendAudit } = await import("../../src/audit/mod.ts");
  await appendAudit(dir, { action: "config" });
  assert.equal((await Deno.stat(auditPaths(dir).log)).mode! & 0o777, 0o600);
});
