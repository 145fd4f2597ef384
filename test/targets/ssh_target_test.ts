/**
 * The SSH target against a real sshd: what a step sees and what comes back, step isolation in
 * the shared remote shell, timeouts that kill the remote process group, a dropped connection,
 * and host key checking.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SshConnectError, SshTarget } from "../../src/targets/ssh.ts";
import type { SshSettings } from "../../src/targets/ssh_command.ts";
import { alive, eventually } from "../fixtures/helpers.ts";
import { startSshNodes } from "../fixtures/sshd.ts";

Deno.test("SshTarget over a real sshd", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ssh-target-" });
  const fleet = await startSshNodes(dir, 1);
  const settings: SshSettings = {
    hostKeys: "strict",
    knownHosts: fleet.knownHosts,
    connectTimeout: 5,
  };
  const endpoint = {
    name: "web-1",
    host: "127.0.0.1",
    port: fleet.nodes[0].port,
    user: fleet.user,
    identity: fleet.identity,
  };
  const controlDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "ctl-" });
  const target = new SshTarget(endpoint, { settings, controlDir });
  try {
    await t.step(
      "stdout and stderr come back apart, byte for byte, with the exit code",
      async () => {
        const result = await target.exec({
          script: "printf 'out'; printf 'err\\n\\n' >&2; exit 7",
        });
        assert.deepEqual([result.code, result.stdout, result.stderr], [7, "out", "err\n\n"]);
      },
    );

    await t.step("cwd and env arrive as given; values are never re-split", async () => {
      const value = `a'b "c" $HOME ; \`id\` \\ *`;
      const result = await target.exec({
        script: 'pwd; printf "%s" "$VALUE"',
        cwd: dir,
        env: { VALUE: value },
      });
      assert.equal(result.stdout, `${dir}\n${value}`);
    });

    await t.step("cd, exit, set -e and variables do not leak into the next step", async () => {
      await target.exec({ script: "cd /; X=leaked; set -e; exit 3" });
      const result = await target.exec({ script: 'pwd; echo "x=${X:-}"; false; echo after' });
      assert.equal(result.code, 0);
      assert.notEqual(result.stdout.split("\n")[0], "/");
      assert.match(result.stdout, /x=\nafter/);
    });

    await t.step("a step reading stdin gets end-of-file, not the next step", async () => {
      const result = await target.exec({ script: "cat; echo done" });
      assert.equal(result.stdout, "done\n");
      assert.equal((await target.exec({ script: "echo next" })).stdout, "next\n");
    });

    await t.step("output that looks like framing is passed through", async () => {
      const result = await target.exec({ script: "printf '\\n__protocol_x 0\\n'" });
      assert.equal(result.stdout, "\n__protocol_x 0\n");
    });

    await t.step("a timeout kills the step's whole process group on the node", async () => {
      const pidFile = join(dir, "child.pid");
      const result = await target.exec({
        script: `sleep 30 & echo $! > ${pidFile}; wait`,
        timeoutMs: 500,
      });
      assert.equal(result.timedOut, true);
      const pid = Number(await Deno.readTextFile(pidFile));
      assert.ok(await eventually(async () => !await alive(pid), 10_000), "the child survived");
      assert.equal((await target.exec({ script: "echo alive" })).stdout, "alive\n");
    });

    await t.step("an aborted step stops and reports aborted", async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const result = await target.exec({ script: "sleep 30", signal: controller.signal });
      assert.equal(result.aborted, true);
      assert.notEqual(result.code, 0);
    });

    await t.step("an abort while connecting: the step never runs", async () => {
      // A target of its own, not connected yet: its first step opens the connection.
      const fresh = new SshTarget(endpoint, { settings, controlDir });
      const ran = join(dir, "ran-after-abort");
      try {
        const abort = new AbortController();
        const running = fresh.exec({ script: `touch '${ran}'; sleep 3`, signal: abort.signal });
        // Past the step's first check (it runs once the target's queue lets it, a microtask
        // later), while ssh is still connecting.
        for (let i = 0; i < 3; i++) await Promise.resolve();
        abort.abort();
        const result = await running;
        assert.equal(result.aborted, true);
        assert.notEqual(result.code, 0, `the step ran to its end: ${result.stderr}`);
        // The connection stays usable, and the aborted step left nothing behind.
        assert.equal((await fresh.exec({ script: "echo next" })).stdout, "next\n");
        assert.equal(await Deno.stat(ran).then(() => "ran", () => "never ran"), "never ran");
      } finally {
        await fresh.close();
      }
    });

    await t.step(
      "a step given input (its own ssh) is stopped on the node by abort or timeout",
      async () => {
        const input = new TextEncoder().encode("some input\n");
        const ran = join(dir, "input-step-ran");
        // Had the step not been stopped on the node, it would touch `ran` two seconds later.
        const script = `cat >/dev/null; sleep 2; touch '${ran}'`;
        const abort = new AbortController();
        setTimeout(() => abort.abort(), 500);
        const stopped = await target.exec({ script, stdin: input, signal: abort.signal });
        assert.deepEqual([stopped.aborted, stopped.code !== 0], [true, true]);
        const late = await target.exec({ script, stdin: input, timeoutMs: 500 });
        assert.deepEqual([late.timedOut, late.code !== 0], [true, true]);
        await new Promise((resolve) => setTimeout(resolve, 2500));
        assert.equal(await Deno.stat(ran).then(() => "ran", () => "stopped"), "stopped");
        assert.equal((await target.exec({ script: "cat", stdin: input })).stdout, "some input\n");
      },
    );

    await t.step("20 steps stream through one connection", async () => {
      const started = performance.now();
      for (let i = 0; i < 20; i++) assert.equal((await target.exec({ script: "true" })).code, 0);
      // Not a timing assertion: a generous bound that only a new connection per step would miss.
      assert.ok(performance.now() - started < 15_000);
    });

    await t.step(
      "a step leads its own process group, by bash's job control (no setsid)",
      async () => {
        const result = await target.exec({ script: "ps -o pid=,pgid=,sid= -p $$" });
        const [pid, pgid, sid] = result.stdout.trim().split(/\s+/);
        assert.equal(pgid, pid, `its own group: ${result.stdout}`);
        assert.notEqual(sid, pid, `the shell's session, so no setsid ran: ${result.stdout}`);
      },
    );

    await t.step("a connection dropped mid-step fails the step, naming the node", async () => {
      const running = target.exec({ script: "sleep 30" });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await fleet.dropConnections("web-1");
      const result = await running;
      assert.equal(result.code, 255);
      assert.match(result.stderr, /ssh: connection to web-1 lost during the step/);
      const after = await target.exec({ script: "true" });
      assert.equal(after.code, 255);
      assert.match(after.stderr, /web-1: connection lost earlier in this run/);
    });

    await t.step("an unknown host key is refused under strict checking", async () => {
      const emptyKnownHosts = join(dir, "empty_known_hosts");
      await Deno.writeTextFile(emptyKnownHosts, "");
      const strict = new SshTarget(endpoint, {
        settings: { ...settings, knownHosts: emptyKnownHosts },
        controlDir,
      });
      await assert.rejects(
        () => strict.connect(),
        (error: Error) =>
          error instanceof SshConnectError &&
          /web-1: cannot connect: .*Host key verification failed/.test(error.message),
      );
      const accepting = new SshTarget(endpoint, {
        settings: { ...settings, knownHosts: emptyKnownHosts, hostKeys: "accept-new" },
        controlDir,
      });
      assert.equal((await accepting.exec({ script: "echo hi" })).stdout, "hi\n");
      await accepting.close();
      assert.match(await Deno.readTextFile(emptyKnownHosts), /ssh-ed25519/);
    });
  } finally {
    await target.close();
    await fleet.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(controlDir, { recursive: true }).catch(() => {});
  }
});
