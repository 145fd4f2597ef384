/**
 * What a node prints cannot drive the operator's terminal: a step printing a clipboard write
 * (OSC 52), cursor moves, line erases, a `\r` that paints `✔` over its failure and a bidi
 * override is shown with those controls as visible escapes, in a real terminal (a pty, with
 * the tool's colours on) as in a pipe; the run record keeps the bytes as printed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunRecord } from "../../src/state/runs.ts";
import { shellJoin } from "../../src/shell/quote.ts";
import { cleanEnv, cli, DENO_CONFIG, MAIN, runArgs, tempWorld } from "../fixtures/helpers.ts";

/** What the hostile step prints: each a way to take over the terminal. */
const HOSTILE = [
  "\x1b]52;c;cm0gLXJmIH4=\x07", // OSC 52: sets the operator's clipboard
  "\x1b[1A\x1b[2K", // up a line, erase it: rewrites an earlier progress line
  "\x1b]0;owned\x07", // the window title
  "\x1b[8m", // conceal what follows
  "\u202e", // right-to-left override
];

/** Everything of HOSTILE found in `text`. */
const found = (text: string) => HOSTILE.filter((sequence) => text.includes(sequence));

/** Runs the CLI with `args` in a pseudo-terminal (`script`); what the terminal showed. */
async function inTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; screen: string }> {
  const argv = [Deno.execPath(), "run", "-A", "--quiet", "--config", DENO_CONFIG, MAIN, ...args];
  const output = await new Deno.Command("script", {
    args: ["-qfec", `stty cols 160 rows 40; exec ${shellJoin(argv)}`, "/dev/null"],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, screen: new TextDecoder().decode(output.stdout) };
}

Deno.test("a node's control characters reach the terminal as visible escapes", async (t) => {
  const world = await tempWorld({ prefix: "terminal-output-" });
  const root = join(world.dir, "project");
  await Deno.mkdir(join(root, "runbooks"), { recursive: true });
  const printf = HOSTILE.join("").replaceAll("\x1b", "\\033").replaceAll("\x07", "\\007")
    .replaceAll("\u202e", "\\342\\200\\256");
  await Deno.writeTextFile(
    join(root, "runbooks", "hostile.yaml"),
    [
      "id: hostile",
      "title: A node that prints terminal controls",
      "when: A test prints hostile output",
      "steps:",
      "  - name: Fail, then pretend it passed",
      "    run: |",
      `      printf '${printf}'`,
      "      printf 'deploy FAILED\\r\\342\\234\\224 deploy ok   \\n'",
      "      exit 1",
      "",
    ].join("\n"),
  );
  const args = runArgs(root, world, "hostile");
  try {
    await t.step("in a pipe: shown as escapes; the record keeps the bytes", async () => {
      const result = await cli([...args, "--json"], { env: { MARKER_DIR: world.markers } });
      assert.equal(result.code, 1, result.stderr);
      assert.deepEqual(found(result.stderr), []);
      assert.match(result.stderr, /deploy FAILED\\r✔ deploy ok/);
      assert.match(result.stderr, /\\x1b\]52;c;cm0gLXJmIH4=\\x07/);
      assert.match(result.stderr, /\\u202e/);
      const record = JSON.parse(result.stdout) as RunRecord;
      const tail = record.steps[0].tail!.join("\n");
      assert.deepEqual(found(tail), HOSTILE, "the record keeps what the node printed");
      assert.ok(tail.includes("deploy FAILED\r✔ deploy ok"));
    });

    await t.step("in a terminal, colours on: only the tool's own colours", async () => {
      const env = cleanEnv({ MARKER_DIR: world.markers });
      delete env.NO_COLOR;
      const { code, screen } = await inTerminal(args, env);
      assert.equal(code, 1, screen);
      assert.ok(screen.includes("\x1b[31m"), `no colour: the terminal was not one:\n${screen}`);
      assert.deepEqual(found(screen), []);
      // The pty ends lines with \r\n; no other \r gets through.
      assert.equal(/\r(?!\n)/.test(screen), false, JSON.stringify(screen));
      assert.match(screen, /deploy FAILED\\r✔ deploy ok/);
    });
  } finally {
    await world.cleanup();
  }
});

Deno.test("every command's lines reach a terminal with a node's controls as escapes", async () => {
  // docker:logs prints what the app logged on the node: text anyone who reaches the app can
  // put there (a request path with escapes in it), not the run's progress printer.
  const world = await tempWorld({ prefix: "terminal-logs-" });
  try {
    const printf = HOSTILE.join("").replaceAll("\x1b", "\\033").replaceAll("\x07", "\\007")
      .replaceAll("\u202e", "\\342\\200\\256");
    const config = await Deno.readTextFile(world.config);
    await Deno.writeTextFile(world.config, config + `  logs: 'printf "${printf}GET /\\n"'\n`);
    await Deno.mkdir(join(world.dir, "app", "current"), { recursive: true });
    const args = ["docker:logs", "--config", world.config];
    const inPipe = await cli(args);
    assert.equal(inPipe.code, 0, inPipe.stderr);
    assert.deepEqual(found(inPipe.stdout), HOSTILE, "a pipe gets the bytes as logged");
    const { code, screen } = await inTerminal(args, cleanEnv());
    assert.equal(code, 0, screen);
    assert.deepEqual(found(screen), []);
    assert.match(screen, /\\x1b\]52;c;cm0gLXJmIH4=\\x07/);
    assert.match(screen, /GET \//);
  } finally {
    await world.cleanup();
  }
});
