import assert from "node:assert/strict";
import { eventually } from "../fixtures/helpers.ts";
import { mustRun, ProcessFailedError, runProcess, startProcess } from "../../src/proc/mod.ts";

Deno.test("proc: output, stdin, cwd and environment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await runProcess(["sh", "-c", 'cat; echo "$X" >&2; pwd; exit 3'], {
      stdin: "in\n",
      env: { X: "from-env" },
      cwd: dir,
    });
    assert.equal(result.code, 3);
    assert.equal(result.stdout, `in\n${await Deno.realPath(dir)}\n`);
    assert.equal(result.stderr, "from-env\n");
    assert.equal(result.timedOut, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proc: a timeout ends the process and says so", async () => {
  const started = performance.now();
  const result = await runProcess(["sleep", "30"], { timeoutMs: 200 });
  assert.equal(result.timedOut, true);
  assert.notEqual(result.code, 0);
  assert.ok(performance.now() - started < 20_000, "the process was not ended");
});

Deno.test("proc: an abort signal ends the process", async () => {
  const controller = new AbortController();
  const running = runProcess(["sleep", "30"], { signal: controller.signal });
  controller.abort();
  const result = await running;
  assert.equal(result.aborted, true);
  assert.notEqual(result.code, 0);
});

Deno.test("proc: mustRun refuses a failure with the command and its stderr", async () => {
  await assert.rejects(
    () => mustRun(["sh", "-c", "echo broken >&2; exit 4"]),
    (error) =>
      error instanceof ProcessFailedError && error.exitCode === 1 &&
      /`sh -c echo broken >&2; exit 4` failed \(exit 4\):\nbroken/.test(error.message),
  );
});

Deno.test("proc: a started process runs until the caller ends it", async () => {
  const child = startProcess(["sleep", "30"]);
  const cmdline = () => Deno.readTextFile(`/proc/${child.pid}/cmdline`).catch(() => "");
  assert.ok(await eventually(async () => /(^|\/)sleep\0/.test(await cmdline())));
  child.kill("SIGTERM");
  assert.equal((await child.status).success, false);
});
