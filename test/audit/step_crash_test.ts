// The CLI killed (SIGKILL: no cleanup at all) in the middle of a rollout over real sshd nodes:
// every step its progress had reported done has its signed entry in the audit log, and the log
// verifies (ours and the independent verifier), at worst after the documented torn-tail cut.
import assert from "node:assert/strict";
import { join } from "node:path";
import { appendAudit, generateSigningKey, readAuditEntries } from "../../src/audit/mod.ts";
import { verifyAuditLog } from "../../src/audit/mod.ts";
import { ensureStateDir } from "../../src/state/mod.ts";
import { sshBlock } from "../fixtures/fleet.ts";
import { cleanEnv, cli, DENO_CONFIG, MAIN } from "../fixtures/helpers.ts";
import { startSshNodes } from "../fixtures/sshd.ts";
import { writeStepsProject } from "../fixtures/steps_runbook.ts";
import { assertIndependentAgrees } from "./independent_helpers.ts";

const NODES = 4;
const STEPS = 30;

Deno.test("SIGKILL mid-rollout: every step reported done has its entry on disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "step-crash-" });
  const ssh = await startSshNodes(dir, NODES);
  try {
    const root = await writeStepsProject(dir, {
      id: "many",
      count: STEPS,
      run: "sleep 0.02",
      concurrency: NODES,
    });
    const q = JSON.stringify;
    const config = join(dir, "protocol.yaml");
    await Deno.writeTextFile(
      config,
      [
        "app: { name: crash, repo: /nonexistent, dir: /tmp/crash-app, start: 'true', " +
        "stop: 'true', health: 'http://127.0.0.1:9/' }",
        'approval: { mode: "off", reason: "a crash test: rollouts under test, not approvals" }',
        ...sshBlock(ssh),
        "nodes:",
        ...ssh.nodes.map((node) =>
          `  ${node.name}: { host: 127.0.0.1, port: ${node.port}, app: { dir: ${
            q(join(dir, node.name))
          } } }`
        ),
        "",
      ].join("\n"),
    );
    const stateDir = await ensureStateDir(join(dir, "state"));
    await generateSigningKey(stateDir);

    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", DENO_CONFIG, MAIN, "run", "many", "--yes"]
        .concat(["--root", root, "--config", config, "--state-dir", stateDir]),
      env: cleanEnv(),
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Progress: `[web-1]   7 step 7` when a step starts, `[web-1]      ✔ success 0.0s` when done.
    const running = new Map<string, string>();
    const reported: string[] = [];
    let killed = false;
    for await (const line of linesOf(child.stderr)) {
      const started = line.match(/^\[(\S+)\]\s+(\d+) step \d+$/);
      if (started) running.set(started[1], started[2]);
      const done = line.match(/^\[(\S+)\]\s+✔ success/);
      if (done) reported.push(`${done[1]} ${running.get(done[1])}`);
      if (!killed && reported.length >= NODES * 3) {
        child.kill("SIGKILL");
        killed = true; // read on: what it printed before it died was reported too
      }
    }
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL", "the run ended before it could be killed");

    const before = await verifyAuditLog(stateDir);
    if (!before.ok) assert.equal(before.firstBad?.reason, "torn last line");
    const logged = new Set(
      (await readAuditEntries(stateDir)).filter((e) => e.action === "step").map((e) =>
        `${String(e.run).split("@")[1]} ${e.step}`
      ),
    );
    assert.deepEqual(reported.filter((step) => !logged.has(step)), [], "reported, not logged");
    assert.ok(reported.length < NODES * STEPS, "killed mid-run");

    // A torn tail (if the kill cut a write) is cut by the next append, recorded, and then
    // `audit:verify` and the independent verifier pass.
    if (!before.ok) await appendAudit(stateDir, { action: "incident", note: "after the crash" });
    const verify = await cli(["audit:verify", "--state-dir", stateDir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    await assertIndependentAgrees(stateDir, await verifyAuditLog(stateDir));
  } finally {
    await ssh.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

/** The lines of a byte stream as they come. */
async function* linesOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    yield* lines;
  }
  if (rest) yield rest;
}
