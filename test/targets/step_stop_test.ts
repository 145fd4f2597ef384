/**
 * Stopping a step on a node, as the node's shells run the stop: over a real sshd, a stop sent
 * for a step that then ended of itself (a Ctrl-C as it finished) must not stop the next step on
 * that node — the lock's release, the failure path's first step; and the kill scripts must work
 * under dash, the login shell of a deploy user made with `useradd` (`/bin/sh`), as under bash.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { stopOrphanScript } from "../../src/targets/ssh.ts";
import { killScript } from "../../src/targets/ssh_command.ts";
import { alive, eventually } from "../fixtures/helpers.ts";
import { withSshTarget } from "./fleet_helpers.ts";

Deno.test("a stop that lands after its step ended leaves the next step alone", async () => {
  await withSshTarget("step-stop-", async (target) => {
    for (let i = 0; i < 5; i++) {
      // Aborted as it prints, the step ends of itself before the stop's ssh has reached the node.
      const abort = new AbortController();
      await target.exec({
        script: "echo go; sleep 0.01",
        signal: abort.signal,
        onOutput: () => abort.abort(),
      });
      const next = await target.exec({ script: "sleep 0.5; echo next" });
      assert.deepEqual([next.code, next.stdout], [0, "next\n"], `round ${i}: ${next.stderr}`);
    }
    // A stop still reaches the step it is for.
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const stopped = await target.exec({ script: "sleep 30", signal: abort.signal });
    assert.deepEqual([stopped.aborted, stopped.code !== 0], [true, true]);
  });
});

/**
 * A `sleep 30` leading a process group of its own (setsid execs it in place), returned once its
 * group exists: spawn returns before `setsid` has run, and a kill of a group not made yet
 * reaches nothing (the test failed so on a loaded machine).
 */
async function groupLeader(): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("setsid", {
    args: ["sleep", "30"],
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  const leads = async () => {
    const stat = await Deno.readTextFile(`/proc/${child.pid}/stat`).catch(() => "");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) === child.pid;
  };
  assert.ok(await eventually(leads), "setsid made no group");
  return child;
}

async function runIn(shell: string, script: string): Promise<void> {
  const done = await new Deno.Command(shell, { args: ["-c", script] }).output();
  assert.equal(done.code, 0, new TextDecoder().decode(done.stderr));
}

Deno.test("the kill scripts stop a step's group under dash and bash", async (t) => {
  for (const shell of ["dash", "bash"]) {
    await t.step(shell, async () => {
      const dir = await Deno.makeTempDir({ prefix: "kill-script-" });
      const pidFile = join(dir, "step.pid");
      const step = await groupLeader();
      try {
        await Deno.writeTextFile(pidFile, `${step.pid} 3\n`);
        await runIn(shell, killScript(pidFile, "TERM", 2));
        assert.ok(await alive(step.pid), "a stop for step 2 stopped step 3");
        await runIn(shell, killScript(pidFile, "TERM", 3));
        assert.ok(await eventually(async () => !await alive(step.pid)), "step 3 not stopped");

        const orphan = await groupLeader();
        await Deno.writeTextFile(pidFile, `${orphan.pid} 9\n`);
        await runIn(shell, stopOrphanScript(pidFile));
        assert.ok(await eventually(async () => !await alive(orphan.pid)), "orphan not stopped");
        assert.equal(await Deno.stat(dir).then(() => "kept", () => "removed"), "removed");
        await orphan.status;
      } finally {
        try {
          step.kill("SIGKILL");
        } catch {
          // stopped by the script
        }
        await step.status;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    });
  }
});
