/**
 * Ctrl-C before the run has started: while the approval gate waits on the release tag's
 * `git ls-remote` (a slow remote), after the local shell was already started ahead of the
 * run. Nothing of the run may be left behind — no temporary directory, no shell — and the
 * command exits 130 with nothing run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  alive,
  cli,
  eventually,
  exists,
  interruptCli,
  listDir,
  runArgs,
  spawnCli,
  tempWorld,
} from "../fixtures/helpers.ts";

/** Processes whose environment holds `needle` (the test's own TMPDIR marks the CLI's children). */
async function processesWith(needle: string): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const environ = await Deno.readTextFile(`/proc/${entry.name}/environ`).catch(() => "");
    if (environ.split("\0").includes(needle) && await alive(Number(entry.name))) {
      found.push(Number(entry.name));
    }
  }
  return found;
}

Deno.test("SIGINT during the approval gate leaves nothing behind and exits 130", async () => {
  const world = await tempWorld({ prefix: "interrupt-gate-" });
  // A remote that accepts the connection and never says a word: ls-remote waits on it.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  const root = join(world.dir, "project");
  const tmp = join(world.dir, "tmp");
  await Deno.mkdir(join(root, "runbooks"), { recursive: true });
  await Deno.mkdir(tmp);
  await Deno.writeTextFile(
    join(root, "runbooks", "fix.yaml"),
    [
      "id: fix",
      "title: A fix that may run as an emergency",
      "when: A test interrupts the approval gate",
      "approval: { required: 1, by: approver, not_operator: true }",
      "emergency: true",
      "parameters:",
      "  version: { type: string, required: true, positional: true }",
      "steps:",
      "  - name: Leave a marker",
      '    run: touch "$MARKER_DIR/fix"',
      "",
    ].join("\n"),
  );
  const config = (await Deno.readTextFile(world.config)).replace(
    /^ {2}repo: .*$/m,
    `  repo: "ssh://git@127.0.0.1:${(silent.addr as Deno.NetAddr).port}/app.git"`,
  );
  await Deno.writeTextFile(world.config, config);
  const env = {
    PROTOCOL_IDENTITY_DIR: join(world.dir, "home"),
    MARKER_DIR: world.markers,
    TMPDIR: tmp,
    GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=no " +
      `-o UserKnownHostsFile=${join(world.dir, "known_hosts")}`,
  };
  const made = await cli(["identity:keygen", "--name", "op@example.com"], { env });
  assert.equal(made.code, 0, made.stderr);
  const { child, result } = spawnCli(
    runArgs(root, world, "fix", "v1.2.0", "--emergency", "checkout returns 500", "--yes"),
    { env },
  );
  try {
    const waiting = await eventually(() => held.length > 0, 20_000);
    if (!waiting) console.log(await result);
    assert.ok(waiting, "the gate never asked the remote for the tag");
    // The local shell was started ahead of the run, before the gate.
    const shell = await eventually(async () => (await listDir(tmp)).length > 0, 10_000);
    assert.ok(shell, "the local shell was not started ahead of the run");
    const finished = await interruptCli({ child, result });
    assert.equal(finished.code, 130, finished.stderr);
    assert.equal(await exists(join(world.markers, "fix")), false, "the step ran");
    // The connection the gate opened is let go, then nothing of the run may remain.
    for (const conn of held) conn.close();
    const clean = await eventually(async () => (await listDir(tmp)).length === 0, 5_000);
    assert.ok(clean, `left in TMPDIR: ${(await listDir(tmp)).join(", ")}`);
    const left = await eventually(async () => (await processesWith(`TMPDIR=${tmp}`)).length === 0);
    assert.ok(left, `processes left: ${await processesWith(`TMPDIR=${tmp}`)}`);
  } finally {
    for (const conn of held) {
      try {
        conn.close();
      } catch {
        // closed above
      }
    }
    silent.close();
    await accepting.catch(() => {});
    await world.cleanup();
  }
});
