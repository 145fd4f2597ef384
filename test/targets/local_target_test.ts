/**
 * The local target keeps its guarantees whether steps stream into one long-lived shell (a run's
 * targets: `session`) or each get a process: exit codes and output kept apart, environment and
 * directory as quoted data, nothing of one step leaking into the next, a timeout, an abort and
 * a Ctrl-C stopping the step's whole process group.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalTarget } from "../../src/targets/local.ts";
import { frameStep } from "../../src/targets/ssh_command.ts";
import { shellQuote } from "../../src/shell/quote.ts";
import { alive, eventually } from "../fixtures/helpers.ts";

const INTERRUPT = fileURLToPath(new URL("./fixtures/local_interrupt.ts", import.meta.url));

/**
 * Runs `body` with a target of each kind, closing it after: the session shell with bash's job
 * control, the session shell as on a machine without bash (`/bin/sh` and `setsid`), and a
 * process per step.
 */
async function eachMode(
  t: Deno.TestContext,
  body: (target: LocalTarget, session: boolean) => Promise<void>,
) {
  const modes = [
    { name: "in the session shell (bash, job control)", session: true, jobControl: true },
    { name: "in the session shell (/bin/sh, setsid)", session: true, jobControl: false },
    { name: "in a process of its own", session: false, jobControl: false },
  ];
  for (const { name, session, jobControl } of modes) {
    await t.step(name, async () => {
      const target = new LocalTarget({ session, jobControl, killGraceMs: 300 });
      try {
        await body(target, session);
      } finally {
        await target.close();
      }
    });
  }
}

const pidIn = async (dir: string, name: string) =>
  Number((await Deno.readTextFile(join(dir, name))).trim());

Deno.test("local target: exit code, stdout and stderr apart, lines as they come", async (t) => {
  await eachMode(t, async (target) => {
    const lines: string[] = [];
    const result = await target.exec({
      script: "echo out; echo err >&2; printf 'no newline'; exit 3",
      onOutput: (line, stream) => lines.push(`${stream}:${line}`),
    });
    assert.equal(result.code, 3);
    assert.equal(result.stdout, "out\nno newline");
    assert.equal(result.stderr, "err\n");
    assert.deepEqual(lines.sort(), ["stderr:err", "stdout:no newline", "stdout:out"]);
    assert.equal(result.timedOut, false);
    assert.equal(result.aborted, false);
  });
});

Deno.test("local target: environment and directory are data, never shell syntax", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "local-target-" });
  try {
    await eachMode(t, async (target) => {
      const value = `it's $(touch ${dir}/pwned) "quoted"`;
      const result = await target.exec({
        script: 'printf %s "$V"; pwd',
        env: { V: value },
        cwd: dir,
      });
      assert.equal(result.stdout, `${value}${await Deno.realPath(dir)}\n`);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local target: a step's cd, variables, set -e, exit and stdin stay its own", async (t) => {
  await eachMode(t, async (target) => {
    const first = await target.exec({
      script: "cd /; X=1; export Y=2; set -e; false; echo unreached",
    });
    assert.equal(first.code, 1);
    assert.equal(first.stdout, "");
    const reader = await target.exec({ script: "cat; echo read-to-end" });
    assert.equal(reader.stdout, "read-to-end\n", "a step's stdin is empty, not the next step");
    const next = await target.exec({ script: 'pwd; echo "${X:-unset} ${Y:-unset}"' });
    assert.equal(next.stdout, `${Deno.cwd()}\nunset unset\n`);
    const given = await target.exec({ script: "cat", stdin: new TextEncoder().encode("input") });
    assert.equal(given.stdout, "input");
  });
});

Deno.test("local target: a timeout stops the step's whole process group", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "local-timeout-" });
  try {
    await eachMode(t, async (target) => {
      const result = await target.exec({
        script: "sleep 60 & echo $! > child.pid; echo $$ > shell.pid; wait",
        cwd: dir,
        timeoutMs: 500,
      });
      assert.equal(result.timedOut, true);
      assert.equal(result.code, 143, result.stderr);
      for (const name of ["shell.pid", "child.pid"]) {
        const pid = await pidIn(dir, name);
        assert.ok(await eventually(async () => !await alive(pid), 5000), `${name} ${pid} lives`);
      }
      const after = await target.exec({ script: "echo next" });
      assert.equal(after.stdout, "next\n");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local target: an abort stops the group; one that ignores TERM gets KILL", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "local-abort-" });
  try {
    await eachMode(t, async (target, session) => {
      await Deno.remove(join(dir, "ready")).catch(() => {});
      const abort = new AbortController();
      // A step that ignores TERM is killed after the grace period, however it runs.
      const running = target.exec({
        script:
          "trap '' TERM; sleep 60 & echo $! > child.pid; echo $$ > shell.pid; : > ready; wait",
        cwd: dir,
        signal: abort.signal,
      });
      assert.ok(
        await eventually(() => Deno.stat(join(dir, "ready")).then(() => true, () => false)),
      );
      abort.abort();
      const result = await running;
      assert.equal(result.aborted, true);
      // 143 in a process of its own: the process runner reports the TERM it passed on.
      assert.equal(result.code, session ? 137 : 143, result.stderr);
      for (const name of ["shell.pid", "child.pid"]) {
        const pid = await pidIn(dir, name);
        assert.ok(await eventually(async () => !await alive(pid), 5000), `${name} ${pid} lives`);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local target: Ctrl-C to the tool's process group stops the step, not the shell", async () => {
  const dir = await Deno.makeTempDir({ prefix: "local-ctrl-c-" });
  try {
    // setsid: the program leads its own process group, as a shell's foreground job does.
    const child = new Deno.Command("setsid", {
      args: [Deno.execPath(), "run", "-A", INTERRUPT, dir],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const ready = await eventually(() =>
      Deno.stat(join(dir, "ready")).then(() => true, () => false)
    );
    if (!ready) child.kill("SIGKILL");
    assert.ok(ready, "the step never started");
    Deno.kill(-child.pid, "SIGINT");
    const output = await child.output();
    const text = new TextDecoder().decode(output.stdout);
    assert.ok(output.success, new TextDecoder().decode(output.stderr));
    const { step, after } = JSON.parse(text);
    assert.equal(step.aborted, true);
    assert.equal(step.code, 143);
    assert.equal(after.stdout, "still here\n", "the shell outlives the Ctrl-C");
    for (const name of ["shell.pid", "child.pid"]) {
      const pid = await pidIn(dir, name);
      assert.ok(await eventually(async () => !await alive(pid), 5000), `${name} ${pid} lives`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("local target: a step that kills itself or the shell is reported; the next one runs", async () => {
  const target = new LocalTarget({ session: true });
  try {
    const killed = await target.exec({ script: "kill -KILL $$" });
    assert.equal(killed.code, 137);
    const shellGone = await target.exec({ script: "echo partial; kill -KILL $PPID; sleep 1" });
    assert.equal(shellGone.code, 255);
    assert.match(shellGone.stderr, /the local shell exited/);
    const next = await target.exec({ script: "echo fine" });
    assert.equal(next.stdout, "fine\n");
  } finally {
    await target.close();
  }
});

Deno.test("local target: steps started together all run, each with its own output", async () => {
  const target = new LocalTarget({ session: true });
  try {
    const results = await Promise.all(
      [1, 2, 3].map((n) => target.exec({ script: `sleep 0.1; echo ${n}; exit ${n}` })),
    );
    assert.deepEqual(results.map((r) => [r.code, r.stdout]), [[1, "1\n"], [2, "2\n"], [3, "3\n"]]);
  } finally {
    await target.close();
  }
});

Deno.test("local target: a step's frame is one call with its script quoted once", () => {
  const step = { script: "echo 'a b'", env: { N: "v" }, cwd: "/tmp/x y" };
  const script = [
    `echo "$$" > '/run/p.pid'`,
    "cd -- '/tmp/x y' || exit 1",
    "export N='v'",
    "echo 'a b'",
  ].join("\n");
  assert.equal(frameStep(step, "/run/p.pid"), `__protocol_step ${shellQuote(script)}\n`);
});

Deno.test("local target: with bash, a step leads a process group of its own, no setsid", async () => {
  const target = new LocalTarget({ session: true });
  try {
    const result = await target.exec({ script: "ps -o pid=,pgid=,sid= -p $$" });
    const [pid, pgid, sid] = result.stdout.trim().split(/\s+/);
    assert.equal(pgid, pid, `its own group: ${result.stdout}`);
    assert.notEqual(sid, pid, `the shell's session, so no setsid ran: ${result.stdout}`);
  } finally {
    await target.close();
  }
});
