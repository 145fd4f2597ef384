/**
 * The pure parts of targets, tested as data: selectors over the inventory, rollout batches and
 * when they stop, ssh command lines, the step framing and its marker parsing, lock scripts.
 */
import assert from "node:assert/strict";
import $ from "dax";
import { Inventory, UnknownTargetError } from "../../src/targets/inventory.ts";
import { planBatches, rolloutStops } from "../../src/runbook/rollout.ts";
import { normalizeStrategy } from "../../src/runbook/schema.ts";
import {
  clientArgv,
  frameHello,
  frameStep,
  REMOTE_SHELL,
  shellArgv,
  type SshSettings,
} from "../../src/targets/ssh_command.ts";
import { FramedShell } from "../../src/targets/framed_shell.ts";
import { MarkedStream } from "../../src/targets/marked_stream.ts";
import { acquireScript, parseLock, releaseScript } from "../../src/targets/lock.ts";

const node = (groups: string[]) => ({ host: "10.0.0.1", groups, vars: {} });
const inventory = new Inventory({
  "web-1": node(["web"]),
  "web-2": node(["web"]),
  "db-1": node(["db"]),
});
const names = (list: { name: string }[]) => list.map((n) => n.name);

Deno.test("selectors", async (t) => {
  await t.step("nodes, groups, lists, all and local", () => {
    assert.deepEqual(names(inventory.select("web")), ["web-1", "web-2"]);
    assert.deepEqual(names(inventory.select("db-1, web-2")), ["web-2", "db-1"]);
    assert.deepEqual(names(inventory.select("all")), ["web-1", "web-2", "db-1"]);
    assert.deepEqual(names(inventory.select("local,web-1")), ["local", "web-1"]);
  });
  await t.step("app: app.targets, else every node, else local", () => {
    assert.deepEqual(names(new Inventory({ a: node([]) }).select("app")), ["a"]);
    assert.deepEqual(names(new Inventory({ a: node(["x"]), b: node([]) }, "x").select("app")), [
      "a",
    ]);
    assert.deepEqual(names(new Inventory({}).select("app")), ["local"]);
    assert.deepEqual(names(new Inventory({}).select("all")), ["local"]);
  });
  await t.step("--limit narrows to nodes or groups", () => {
    assert.deepEqual(names(inventory.select("all", ["web"])), ["web-1", "web-2"]);
    assert.deepEqual(names(inventory.select("web", ["db-1"])), []);
  });
  await t.step("an unknown name says what is known", () => {
    assert.throws(
      () => inventory.select("web,cache"),
      (error: Error) =>
        error instanceof UnknownTargetError &&
        error.message ===
          'unknown target "cache"; known: local, all, app, web-1, web-2, db-1, db, web',
    );
  });
});

Deno.test("rollout batches", async (t) => {
  const nodes = inventory.select("all");
  const batches = (strategy: Parameters<typeof normalizeStrategy>[0]) =>
    planBatches(nodes, normalizeStrategy(strategy)).map(names);
  await t.step("serial: one at a time, stops at the first failure", () => {
    assert.deepEqual(batches("serial"), [["web-1"], ["web-2"], ["db-1"]]);
    assert.equal(rolloutStops(normalizeStrategy("serial"), 1, 3), true);
  });
  await t.step("rolling: batches of `batch`, stops past max_failed", () => {
    assert.deepEqual(batches({ kind: "rolling", batch: 2 }), [["web-1", "web-2"], ["db-1"]]);
    const strategy = normalizeStrategy({ kind: "rolling", batch: 2, max_failed: 1 });
    assert.equal(rolloutStops(strategy, 1, 3), false);
    assert.equal(rolloutStops(strategy, 2, 3), true);
  });
  await t.step("parallel: one batch, never stops early", () => {
    assert.deepEqual(batches("parallel"), [["web-1", "web-2", "db-1"]]);
    assert.equal(rolloutStops(normalizeStrategy("parallel"), 3, 3), false);
  });
});

Deno.test("ssh command lines", async (t) => {
  const settings: SshSettings = { hostKeys: "strict", connectTimeout: 7 };
  const endpoint = { name: "web-1", host: "10.0.0.1", port: 2222, user: "deploy", identity: "/k" };
  await t.step(
    "batch mode, timeouts, strict host keys, port, key; the shell's ssh is the master",
    () => {
      const argv = shellArgv(endpoint, settings, "/tmp/ctl");
      for (
        const option of [
          "BatchMode=yes",
          "ConnectTimeout=7",
          "StrictHostKeyChecking=yes",
          "ControlMaster=yes",
          "ControlPath=/tmp/ctl/web-1.sock",
          "ControlPersist=no",
          "IdentitiesOnly=yes",
        ]
      ) assert.ok(argv.includes(option), `${option} in ${argv.join(" ")}`);
      assert.deepEqual(argv.slice(-2), ["deploy@10.0.0.1", REMOTE_SHELL]);
      assert.ok(argv.join(" ").includes("-p 2222 -i /k"));
    },
  );
  await t.step("accept-new only when asked; clients ride the master", () => {
    const argv = clientArgv(endpoint, { ...settings, hostKeys: "accept-new" }, "/tmp/ctl", "true");
    assert.ok(argv.includes("StrictHostKeyChecking=accept-new"));
    assert.ok(argv.includes("ControlMaster=no"));
    assert.equal(argv.at(-1), "true");
  });
});

Deno.test("step framing", async (t) => {
  await t.step("a framed step runs in sh exactly as the script says", async () => {
    const script = `printf '%s|' "$A" 'it'"'"'s'; cd /; exit 4`;
    // Each shell the way a session finds it: bash with job control, /bin/sh (dash) with setsid.
    for (const [shell, group] of [["bash", "jobs"], ["/bin/sh", "setsid"]] as const) {
      const child = new Deno.Command(shell, {
        args: ["-s"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const framed = new FramedShell(child.stdin.getWriter());
      const pumped = Promise.all([
        framed.pump(child.stdout, "stdout"),
        framed.pump(child.stderr, "stderr"),
      ]);
      const hello = await framed.exchange(frameHello(framed.marker));
      const [ready, found, dir] = hello.status!.split(" ");
      assert.deepEqual([ready, found, hello.stdout, hello.stderr], ["ready", group, "", ""]);
      const pidFile = `${dir}/step.pid`;
      const frame = frameStep({ script, env: { A: `x'y $z` } }, pidFile);
      // One call of the function the hello defined: no launch, wait or marker spelled out.
      assert.ok(frame.startsWith("__protocol_step '") && !frame.includes(framed.marker), frame);
      for (let i = 0; i < 2; i++) {
        const end = await framed.run({ script }, frame, () => {});
        assert.deepEqual([end.status, end.stdout, end.stderr], ["4", `x'y $z|it's|`, ""], shell);
        assert.equal(await Deno.readTextFile(pidFile), "", "a finished step leaves no pid to kill");
      }
      await framed.writer.write(new TextEncoder().encode(`rm -rf '${dir}'; exit 0\n`));
      await framed.writer.close();
      assert.equal((await child.status).code, 0);
      await pumped;
      assert.equal(framed.drainStderr(), "", `${shell}: nothing but markers on stderr`);
    }
  });
  await t.step("markers split anywhere across pieces are still found", () => {
    const marker = "__m";
    const text = "line one\nno newline\n__m 0\nnext\n\n__m 1\n";
    for (let cut = 0; cut <= text.length; cut++) {
      const out: string[] = [];
      const stream = new MarkedStream(marker, (piece) => out.push(piece));
      const ends = [...stream.push(text.slice(0, cut)), ...stream.push(text.slice(cut))];
      assert.deepEqual(ends, ["0", "1"], `cut at ${cut}`);
      assert.equal(out.join(""), "line one\nno newlinenext\n", `cut at ${cut}`);
    }
  });
});

Deno.test("lock scripts", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "lock-" });
  const path = `${dir}/app dir/.protocol.lock`;
  const info = {
    run: "r1",
    runbook: "deploy",
    operator: "o'neil",
    host: "h",
    since: "2026-01-01T00:00:00Z",
  };
  try {
    await t.step("the first acquire wins, the second sees the holder", async () => {
      const first = await $`sh -c ${acquireScript(path, info)}`.noThrow().quiet();
      assert.equal(first.code, 0);
      const second = await $`sh -c ${acquireScript(path, { ...info, run: "r2" })}`.noThrow().stdout(
        "piped",
      );
      assert.equal(second.code, 3);
      assert.deepEqual(parseLock(second.stdout), info);
    });
    await t.step("only the holder's release removes the lock", async () => {
      await $`sh -c ${releaseScript(path, "r2")}`.quiet();
      assert.deepEqual(parseLock(await Deno.readTextFile(path)), info);
      await $`sh -c ${releaseScript(path, "r1")}`.quiet();
      await assert.rejects(() => Deno.stat(path), Deno.errors.NotFound);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
