/**
 * Output a step's leftover processes print after the step ended belongs to no later step: a
 * background `(sleep; echo late) &` in one step, then steps that print, on the local shell (bash
 * with job control, and /bin/sh with setsid) and on a node over a real sshd. And a process a step
 * left holding its output does not hold up the end of the run (the target's close).
 */
import assert from "node:assert/strict";
import { LocalTarget } from "../../src/targets/local.ts";
import type { Target } from "../../src/targets/target.ts";
import { withSshTarget } from "./fleet_helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Steps whose leftovers print during the next step, between steps, and without end. */
async function leftoversPrintLate(target: Target & { close(): Promise<void> }) {
  const first = await target.exec({
    script: "echo one; (sleep 0.3; echo late; echo late-err >&2) &",
  });
  assert.deepEqual([first.code, first.stdout, first.stderr], [0, "one\n", ""]);
  // The leftover prints while this step runs.
  const second = await target.exec({ script: "sleep 0.8; echo two" });
  assert.deepEqual([second.stdout, second.stderr], ["two\n", ""]);

  // The leftover prints after this quick step ended, before the next one starts.
  await target.exec({ script: "(sleep 0.2; echo late; printf '\\n' >&2) &" });
  assert.equal((await target.exec({ script: "echo quick" })).stdout, "quick\n");
  await sleep(500);
  const third = await target.exec({ script: "echo three; echo err >&2" });
  assert.deepEqual([third.stdout, third.stderr], ["three\n", "err\n"]);

  // A leftover that never stops printing.
  await target.exec({ script: "(while :; do echo spam; echo spam >&2; sleep 0.02; done) &" });
  await sleep(200);
  const fourth = await target.exec({ script: "sleep 0.3; echo four" });
  assert.deepEqual([fourth.stdout, fourth.stderr], ["four\n", ""]);
  const fifth = await target.exec({ script: "echo five" });
  assert.deepEqual([fifth.stdout, fifth.stderr], ["five\n", ""]);

  // A step that kills the shell's relays (`killall cat`, say) fails no later step.
  const killer = await target.exec({ script: "kill $(pgrep -P $PPID -x cat)" });
  assert.equal(killer.code, 0, killer.stderr);
  const after = await target.exec({ script: "echo after; echo err >&2" });
  assert.deepEqual([after.code, after.stdout, after.stderr], [0, "after\n", "err\n"]);

  // Left holding the step's output for 60 s, it must not hold the close up that long.
  await target.exec({ script: "(sleep 60; echo never) &" });
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    target.close().then(() => true),
    new Promise<false>((resolve) => watchdog = setTimeout(() => resolve(false), 20_000)),
  ]);
  clearTimeout(watchdog);
  assert.ok(closed, "close() waited for the step's leftover process");
}

Deno.test("late output of a step's leftovers: local shell", async (t) => {
  for (const jobControl of [true, false]) {
    await t.step(jobControl ? "bash, job control" : "/bin/sh, setsid", async () => {
      const target = new LocalTarget({ session: true, jobControl });
      try {
        await leftoversPrintLate(target);
      } finally {
        await target.close();
      }
    });
  }
});

Deno.test("late output of a step's leftovers: a node over SSH", async () => {
  await withSshTarget("late-output-", leftoversPrintLate);
});
