/**
 * An evidence pack is written on the deploy host, by the deploy user: a change dropped from
 * its population after the fact must not pass the pack's `verify`. With the tool at hand, the
 * script draws the population again from the pack's own copy of the log (every signature
 * checked, against the auditor's trust root when given) and compares it with the claims.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  cli,
  eventually,
  exists,
  fixture,
  listDir,
  ROOT,
  runArgs,
  tempWorld,
  today,
} from "../fixtures/helpers.ts";

const APPROVAL = fixture("projects", "approval");

/** `evidence:pack` of today's `hello` runs in `stateDir`, written to `out`. */
function packToday(stateDir: string, out: string) {
  return cli([
    "evidence:pack",
    `${today()}..${today()}`,
    ...["--out", out, "--runbooks", "hello", "--state-dir", stateDir],
    ...["--root", APPROVAL],
  ]);
}

async function verifyPack(out: string, env: Record<string, string> = {}) {
  const result = await new Deno.Command("sh", {
    args: [join(out, "verify")],
    env: { PROTOCOL_TOOL: ROOT, ...env },
  }).output();
  const text = new TextDecoder();
  return { code: result.code, said: text.decode(result.stdout) + text.decode(result.stderr) };
}

Deno.test("a change dropped from a pack's population fails its verify", async (t) => {
  const world = await tempWorld({ prefix: "pack-complete-" });
  try {
    for (let i = 0; i < 3; i++) {
      const ran = await cli(runArgs(APPROVAL, world, "hello"), {
        env: { MARKER_DIR: world.markers },
      });
      assert.equal(ran.code, 0, ran.stderr);
    }
    const out = join(world.dir, "pack");
    const packed = await packToday(world.stateDir, out);
    assert.equal(packed.code, 0, packed.stderr);

    await t.step("the untouched pack verifies, its population drawn again", async () => {
      const ok = await verifyPack(out);
      assert.equal(ok.code, 0, ok.said);
      assert.match(ok.said, /population: 3 change\(s\) and drill\(s\) drawn again from log\//);
    });

    await t.step(
      "with the auditor's trust root, a pack whose keyring was swapped fails",
      async () => {
        const root = join(world.dir, "root.json");
        await Deno.copyFile(join(world.stateDir, "audit-keyring.json"), root);
        const ok = await verifyPack(out, { PROTOCOL_PUBKEY: root });
        assert.equal(ok.code, 0, ok.said);
        const foreign = join(world.dir, "foreign");
        const made = await cli(["audit:keygen", "--state-dir", foreign, "--json"]);
        assert.equal(made.code, 0, made.stderr);
        const bad = await verifyPack(out, { PROTOCOL_PUBKEY: join(foreign, "audit-keyring.json") });
        assert.equal(bad.code, 1, bad.said);
      },
    );

    await t.step("a verify stopped mid-way (dash) leaves no temporary file", async () => {
      // dash runs no EXIT trap when a signal ends it: the script turns a stop into an exit.
      const tmp = join(world.dir, "verify-tmp"), bin = join(world.dir, "verify-bin");
      await Deno.mkdir(tmp);
      await Deno.mkdir(bin);
      const started = join(world.dir, "hashing");
      await Deno.writeTextFile(
        join(bin, "sha256sum"),
        `#!/bin/sh\n: > ${started}\nexec sleep 30\n`,
        {
          mode: 0o755,
        },
      );
      const verify = new Deno.Command("setsid", {
        args: ["dash", join(out, "verify")],
        env: { PATH: `${bin}:${Deno.env.get("PATH")}`, TMPDIR: tmp },
        stdout: "null",
        stderr: "null",
      }).spawn();
      assert.ok(await eventually(() => exists(started)), "verify never reached its hashing");
      assert.equal((await listDir(tmp)).length, 1, "its copy of the log exists meanwhile");
      Deno.kill(-verify.pid, "SIGTERM");
      await verify.status;
      assert.deepEqual(await listDir(tmp), [], "verify left its copy of the log behind");
    });

    await t.step("one change removed from population.csv, .json and claims.txt", async () => {
      const claims = (await Deno.readTextFile(join(out, "claims.txt"))).trimEnd().split("\n");
      const [seq, hash] = claims[1].split(" ");
      await Deno.writeTextFile(
        join(out, "claims.txt"),
        claims.filter((_, i) => i !== 1).join("\n") + "\n",
      );
      const csv = (await Deno.readTextFile(join(out, "population.csv"))).split("\r\n");
      await Deno.writeTextFile(
        join(out, "population.csv"),
        csv.filter((line) => !line.endsWith(`,${seq},${hash}`)).join("\r\n"),
      );
      const json = JSON.parse(await Deno.readTextFile(join(out, "population.json")));
      json.changes = json.changes.filter((c: { hash: string }) => c.hash !== hash);
      await Deno.writeTextFile(join(out, "population.json"), JSON.stringify(json, null, 2));
      const dropped = await verifyPack(out);
      assert.equal(dropped.code, 1, dropped.said);
      assert.match(dropped.said, new RegExp(`not claimed: ${seq} ${hash}`));
      assert.match(dropped.said, /FAILED/);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("a pack of a log that does not verify is written, and fails loudly", async () => {
  const world = await tempWorld({ prefix: "pack-tampered-" });
  try {
    const ran = await cli(runArgs(APPROVAL, world, "hello"), {
      env: { MARKER_DIR: world.markers },
    });
    assert.equal(ran.code, 0, ran.stderr);
    const log = join(world.stateDir, "deployments.log");
    const lines = (await Deno.readTextFile(log)).split("\n");
    lines[1] = lines[1].replace('"status":"', '"status":"x');
    await Deno.writeTextFile(log, lines.join("\n"));
    const out = join(world.dir, "pack");
    const packed = await packToday(world.stateDir, out);
    assert.equal(packed.code, 1, packed.stdout + packed.stderr);
    assert.match(packed.stderr, /the audit log does NOT verify: \S*deployments\.log:2: edited/);
    assert.match(await Deno.readTextFile(join(out, "index.html")), /Audit log does NOT verify/);
  } finally {
    await world.cleanup();
  }
});
