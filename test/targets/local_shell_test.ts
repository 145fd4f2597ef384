/**
 * The run's long-lived local shell (`local_shell.ts`, `local_frames.ts`): with bash, each step's
 * process is forked ahead of its frame and receives its script through a pipe. These tests prove
 * what that must not change — the script arrives byte for byte, the step holds no pipe of the
 * shell's and has the signal dispositions of any process the tool starts, and no process of the
 * shell's session outlives it, whether it is closed or killed under a step.
 */
import assert from "node:assert/strict";
import { LocalTarget } from "../../src/targets/local.ts";
import { OLD_BASH_GUARD } from "../../src/targets/local_frames.ts";
import { eventually } from "../fixtures/helpers.ts";

const MODES = [
  { name: "bash, job control", jobControl: true },
  { name: "/bin/sh, setsid", jobControl: false },
];

/** The pids of the processes in session `sid`. */
async function sessionMembers(sid: number): Promise<number[]> {
  const members: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && Number(fields[3]) === sid) members.push(Number(entry.name));
  }
  return members;
}

/** What `script` prints when the tool starts it as a process of its own, without a shell between. */
async function direct(script: string): Promise<string> {
  const output = await new Deno.Command("/bin/sh", { args: ["-c", script], stdin: "null" })
    .output();
  return new TextDecoder().decode(output.stdout);
}

Deno.test("local shell: the script reaches the step byte for byte", async (t) => {
  const script = [
    "  cat <<'EOF'",
    `  lead \\\\ back\\slash "double" 'single' $HOME \`tick\` \t tab`,
    "EOF",
    "printf '%s|' \\",
    "  continued",
    "",
    "",
  ].join("\n");
  const expected = await direct(script);
  for (const { name, jobControl } of MODES) {
    await t.step(name, async () => {
      const target = new LocalTarget({ session: true, jobControl });
      try {
        for (let i = 0; i < 3; i++) {
          const result = await target.exec({ script });
          assert.equal(result.code, 0, result.stderr);
          assert.equal(result.stdout, expected);
        }
      } finally {
        await target.close();
      }
    });
  }
});

Deno.test("local shell: a step holds no pipe of the shell's, and SIGPIPE is not ignored", async (t) => {
  // A glob, not `ls | …`: a pipeline's own pipes would show, or not, as its processes race.
  const fds = `for fd in /proc/$$/fd/*; do printf '%s ' "\${fd##*/}"; done`;
  const signals = "grep -E '^Sig(Ign|Blk)' /proc/$$/status";
  const expected = { fds: await direct(fds), signals: await direct(signals) };
  for (const { name, jobControl } of MODES) {
    await t.step(name, async () => {
      const target = new LocalTarget({ session: true, jobControl });
      try {
        await target.exec({ script: "true" });
        assert.equal((await target.exec({ script: fds })).stdout, expected.fds);
        const { stdout } = await target.exec({ script: signals });
        // With bash, the step's dispositions are those of a process the tool starts itself.
        // With /bin/sh, a step started with `&` ignores SIGINT and SIGQUIT (POSIX, for
        // background commands without job control); TERM still stops it.
        if (jobControl) assert.equal(stdout, expected.signals);
        const ignored = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(stdout)![1]}`);
        assert.equal(ignored & (1n << 12n), 0n, "SIGPIPE (13) is not ignored");
        const piped = await target.exec({ script: "yes | head -n 1" });
        assert.equal(piped.stdout, "y\n", "SIGPIPE ends `yes` as it would anywhere");
      } finally {
        await target.close();
      }
    });
  }
});

Deno.test("local shell: nothing of the shell's session outlives it, closed or killed", async (t) => {
  for (const { name, jobControl } of MODES) {
    await t.step(name, async () => {
      const target = new LocalTarget({ session: true, jobControl });
      const shell = Number((await target.exec({ script: "echo $PPID" })).stdout);
      assert.ok((await sessionMembers(shell)).includes(shell), "the shell leads its session");
      // Checked while closing: a process left holding the shell's stdout would hold close() up.
      const closing = target.close();
      assert.ok(
        await eventually(async () => (await sessionMembers(shell)).length === 0, 5000),
        `left behind: ${await sessionMembers(shell)}`,
      );
      await closing;

      const killed = new LocalTarget({ session: true, jobControl });
      try {
        const second = Number((await killed.exec({ script: "echo $PPID" })).stdout);
        const result = await killed.exec({ script: "kill -KILL $PPID" });
        assert.match(result.stderr, /the local shell exited/);
        assert.ok(
          await eventually(async () => (await sessionMembers(second)).length === 0, 5000),
          `left behind: ${await sessionMembers(second)}`,
        );
        assert.equal((await killed.exec({ script: "echo next" })).stdout, "next\n");
      } finally {
        await killed.close();
      }
    });
  }
});

Deno.test("local shell: an abort while the shell is still starting stops the step", async (t) => {
  for (const { name, jobControl } of MODES) {
    await t.step(name, async () => {
      const target = new LocalTarget({ session: true, jobControl, killGraceMs: 300 });
      try {
        const abort = new AbortController();
        const running = target.exec({ script: "sleep 3; echo ran", signal: abort.signal });
        abort.abort(); // the shell is not open yet: the first step opens it
        const result = await running;
        assert.equal(result.aborted, true);
        assert.notEqual(result.code, 0, "the step did not run to its end");
        assert.equal(result.stdout, "");
      } finally {
        await target.close();
      }
    });
  }
});

Deno.test("local shell: a bash older than 4 is driven the /bin/sh way", async () => {
  const decide = (version: string) =>
    direct(
      `BASH_VERSINFO=${version}; __protocol_jobs=jobs\n${OLD_BASH_GUARD}\necho "$__protocol_jobs"`,
    );
  assert.equal(await decide("3"), "setsid\n");
  assert.equal(await decide("5"), "jobs\n");
});

Deno.test("local shell: a step printing at once never garbles the pid line", async (t) => {
  // bash writes a marker line's leading newline apart from the rest: a pid line written while
  // the step already prints could lose its newline to the step's output, go unseen, and leave a
  // stop waiting for a pid. Each step here prints as soon as it starts, many times over.
  for (const { name, jobControl } of MODES) {
    await t.step(name, async () => {
      const target = new LocalTarget({ session: true, jobControl });
      try {
        for (let i = 0; i < 150; i++) {
          const result = await target.exec({ script: "printf x; printf y" });
          assert.equal(result.stdout, "xy", `step ${i}`);
        }
      } finally {
        await target.close();
      }
    });
  }
});
