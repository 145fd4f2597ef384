/**
 * Gates with `min_wait` ("Monitor for 15 minutes"), driven through a real terminal: `script`
 * gives the CLI a pty, and the test types into it like a person. A gate cannot be confirmed
 * before its wait has passed since the step before it ended (the terminal counts down, and
 * keys typed meanwhile do not answer it); Ctrl-C during the wait interrupts the run like any
 * SIGINT; `--yes` acknowledges it early, and the run record, the audit log, the evidence
 * checklist and the auditor's population all say so. A bad duration is refused with
 * file:line:col before anything runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord, StepRecord } from "../../src/state/runs.ts";
import { askHuman } from "../../src/runbook/execute.ts";
import { readAuditEntries } from "../../src/audit/mod.ts";
import {
  cleanEnv,
  cli,
  DENO_CONFIG,
  fixture,
  MAIN,
  runArgs,
  runRecords,
  tempWorld,
  todaysPopulation,
} from "../fixtures/helpers.ts";
import { shellJoin } from "../../src/shell/quote.ts";

const ROOT = fixture("projects", "flow");

/** The CLI in a pseudo-terminal (util-linux `script`), typed into and read as it runs. */
function inTerminal(args: string[], env: Record<string, string>) {
  const argv = [Deno.execPath(), "run", "-A", "--quiet", "--config", DENO_CONFIG, MAIN, ...args];
  const child = new Deno.Command("script", {
    args: ["-qfec", `stty cols 160 rows 40; exec ${shellJoin(argv)}`, "/dev/null"],
    env: cleanEnv(env),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let screen = "";
  const waiters: { pattern: RegExp; from: number; resolve: (at: number) => void }[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      screen += decoder.decode(chunk, { stream: true });
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(screen.slice(waiter.from))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(Date.now());
        }
      }
    }
  })();
  const stderr = new Response(child.stderr).text();
  return {
    get screen() {
      return screen;
    },
    /** Resolves (with the time) once `pattern` shows after what was on screen so far. */
    shows(pattern: RegExp): Promise<number> {
      const from = screen.length;
      return new Promise((resolve, reject) => {
        waiters.push({ pattern, from, resolve });
        setTimeout(() => reject(new Error(`never showed ${pattern}:\n${screen}`)), 30_000);
      });
    },
    /** Types `keys` one at a time, as a keyboard sends them. */
    async type(...keys: string[]) {
      for (const key of keys) {
        await writer.write(new TextEncoder().encode(key));
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    },
    async exit(): Promise<number> {
      const status = await child.status;
      await reading;
      await writer.close().catch(() => {});
      await stderr;
      return status.code;
    },
  };
}

const stepOf = (record: RunRecord, number: string): StepRecord =>
  record.steps.find((step) => step.number === number)!;

Deno.test("min_wait at a terminal: shown counting down, not confirmable early, Ctrl-C aborts", async (t) => {
  const world = await tempWorld({ prefix: "min-wait-tty-" });
  const env = { MARKER_DIR: world.markers };
  const args = runArgs(ROOT, world, "wait");
  try {
    await t.step(
      "keys typed during the wait do not answer; the prompt comes after it",
      async () => {
        const term = inTerminal(args, env);
        const waiting = term.shows(
          /Watched the change for 2 seconds\?: min_wait 2s, can be confirmed in 0:0\d/,
        );
        const prompted = term.shows(/Watched the change for 2 seconds\? \(y\/N\)/);
        const countdown = await waiting;
        await term.type("y", "\r");
        const asked = await prompted;
        assert.ok(asked - countdown >= 1_000, "the prompt came before the wait was over");
        const monitor = term.shows(/Monitor for 2 seconds \(y\/N\)/);
        await term.type("y", "\r");
        await monitor;
        await term.type("y", "\r");
        assert.equal(await term.exit(), 0, term.screen);

        const [record] = await runRecords(world.stateDir);
        assert.equal(record.status, "success");
        for (const number of ["2", "A1"]) {
          const gate = stepOf(record, number);
          assert.equal(gate.status, "confirmed", JSON.stringify(gate));
          assert.equal(gate.min_wait_ms, 2_000);
          assert.ok(gate.waited_ms! >= 2_000, `${number} answered after ${gate.waited_ms} ms`);
          assert.equal(gate.early, undefined);
        }
        const entries = await readAuditEntries(world.stateDir);
        const gate = entries.find((e) => e.action === "step" && e.step === "2");
        assert.equal(gate?.status, "confirmed");
        assert.equal(gate?.min_wait_ms, 2_000);
        assert.ok(Number(gate?.waited_ms) >= 2_000);
      },
    );

    /** Ctrl-C once the terminal shows `prompt`: exit 130, the run and gate 2 `aborted`. */
    const ctrlCAt = async (prompt: RegExp) => {
      const before = new Set((await runRecords(world.stateDir)).map((r) => r.id));
      const term = inTerminal(args, env);
      await term.shows(prompt);
      await term.type("\x03");
      assert.equal(await term.exit(), 130, term.screen);
      const record = (await runRecords(world.stateDir)).find((r) => !before.has(r.id))!;
      assert.equal(record.status, "aborted");
      assert.equal(record.interruption?.what, "SIGINT");
      assert.equal(stepOf(record, "2").status, "aborted");
      return record;
    };

    await t.step("Ctrl-C during the wait interrupts the run (exit 130, aborted)", async () => {
      const record = await ctrlCAt(/can be confirmed in 0:0\d \(Ctrl-C aborts\)/);
      assert.equal(stepOf(record, "A1"), undefined, "the after item was asked");
    });

    await t.step("Ctrl-C at the prompt (a raw terminal) interrupts it the same way", async () => {
      await ctrlCAt(/Watched the change for 2 seconds\? \(y\/N\)/);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("min_wait with --yes: acknowledged early, and every record says so", async (t) => {
  const world = await tempWorld({ prefix: "min-wait-yes-" });
  try {
    const ran = await cli(runArgs(ROOT, world, "wait", "--yes", "--json"), {
      env: { MARKER_DIR: world.markers },
    });
    assert.equal(ran.code, 0, ran.stderr);
    const record = JSON.parse(ran.stdout) as RunRecord;

    await t.step("the run record and the progress output", () => {
      for (const number of ["2", "A1"]) {
        const gate = stepOf(record, number);
        assert.equal(gate.status, "acknowledged");
        assert.equal(gate.early, true);
        assert.equal(gate.min_wait_ms, 2_000);
        assert.ok(gate.waited_ms! < 2_000);
      }
      assert.match(
        ran.stderr,
        /acknowledged \(--yes\) \(acknowledged early: [\d.]+s after the step before it, min_wait 2s\)/,
      );
    });

    await t.step("the audit entries", async () => {
      const entries = await readAuditEntries(world.stateDir);
      const gates = entries.filter((e) => e.action === "step" && e.early === true);
      assert.deepEqual(gates.map((e) => e.step), ["2", "A1"]);
    });

    await t.step("the evidence checklist (md and html)", async () => {
      const evidence = (format: string) =>
        cli([
          "checklist",
          "wait",
          "--run",
          record.id,
          "--format",
          format,
          "--state-dir",
          world.stateDir,
        ]);
      const md = await evidence("md");
      assert.equal(md.code, 0, md.stderr);
      assert.match(
        md.stdout,
        /Human items: 0 confirmed at a terminal, 2 acknowledged \(--yes\), 2 of them early/,
      );
      assert.match(
        md.stdout,
        /Monitor for 2 seconds .*\*\*acknowledged early: [\d.]+s after the step before it, min_wait 2s\*\*/,
      );
      const html = (await evidence("html")).stdout;
      assert.match(html, /<td class="early">acknowledged<br><small>acknowledged early: /);
      assert.match(html, /2 acknowledged \(--yes\), 2 of them early \(before their min_wait\)/);
    });

    await t.step("the auditor's population", async () => {
      const population = (format: string) =>
        todaysPopulation(world.stateDir, "wait", "--format", format);
      const json = JSON.parse((await population("json")).stdout);
      assert.deepEqual(json.changes[0].early_gates, [
        "2 Watch the change",
        "A1 Monitor for 2 seconds",
      ]);
      const md = (await population("md")).stdout;
      assert.match(md, /1 with a gate acknowledged before its min_wait/);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("the engine refuses a confirmation that comes before min_wait, whoever sends it", async () => {
  const since = new Date();
  const outcome = await askHuman("Monitored?", () => Promise.resolve("confirmed"), {
    since,
    minWaitMs: 60_000,
    minWait: "1m",
    target: "local",
  });
  assert.equal(outcome.status, "failure");
  assert.match(
    outcome.error!,
    /^confirmed [\d.]+s after the step before it, before its min_wait of 1m had passed: Monitored\?$/,
  );
  assert.equal(outcome.gate?.min_wait_ms, 60_000);
});

Deno.test("a bad min_wait is refused with file:line:col before anything runs", async () => {
  const root = await Deno.makeTempDir({ prefix: "min-wait-bad-" });
  try {
    await Deno.mkdir(join(root, "runbooks"));
    await Deno.writeTextFile(
      join(root, "runbooks", "x.yaml"),
      [
        "id: x",
        "title: X",
        "when: never",
        "checklist:",
        "  after:",
        "    - { item: Monitor, min_wait: 15 minutes }",
        "    - { item: Monitor, min_wiat: 15m }",
        "steps:",
        "  - name: a",
        '    run: "true"',
        "    min_wait: 2s",
        "  - name: b",
        '    confirm: "ok?"',
        "    min_wait: soon",
        "",
      ].join("\n"),
    );
    const result = await cli(["validate", "--root", root]);
    assert.equal(result.code, 2, result.stderr);
    const lines = (result.stdout + result.stderr).split("\n");
    for (
      const expected of [
        'runbooks/x.yaml:6:34: checklist.after[0].min_wait: expected a duration such as "30s", "5m", "1h" or "250ms"',
        "runbooks/x.yaml:7:24: checklist.after[1].min_wiat: unknown key `min_wiat` (did you mean `min_wait`?)",
        "runbooks/x.yaml:11:15: steps[0].min_wait: `min_wait` goes with `confirm` (a gate a person confirms)",
        'runbooks/x.yaml:14:15: steps[1].min_wait: expected a duration such as "30s", "5m", "1h" or "250ms"',
      ]
    ) assert.ok(lines.includes(expected), `missing ${expected} in\n${lines.join("\n")}`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
