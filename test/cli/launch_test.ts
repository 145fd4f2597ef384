/**
 * `deno task …` runs the CLI from a bundle (`src/cli/launch.ts`): the bundle must never be older
 * than the sources, must find the project as the sources do, and the audit's signature worker
 * must start from it. Each test works on a copy of the tool in a temporary directory, so the
 * bundles it builds and the source it edits are its own.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { newLaneJob } from "../../src/audit/sig_lanes.ts";

const TOOL = fileURLToPath(new URL("../../", import.meta.url));

/** A copy of the tool (sources, deno.json, deno.lock; node_modules linked) with one runbook. */
async function toolCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "launch-" });
  const copy = await new Deno.Command("cp", {
    args: ["-r", `${TOOL}src`, `${TOOL}deno.json`, `${TOOL}deno.lock`, dir],
  }).output();
  assert.ok(copy.success, new TextDecoder().decode(copy.stderr));
  await Deno.symlink(`${TOOL}node_modules`, `${dir}/node_modules`);
  await Deno.mkdir(`${dir}/runbooks`);
  await Deno.writeTextFile(
    `${dir}/runbooks/only-here.yaml`,
    "id: only-here\ntitle: Only in the copy\nwhen: testing the launcher\nsteps:\n" +
      "  - name: nothing\n    run: 'true'\n",
  );
  return dir;
}

/** Runs the copy's launcher with `args` (and `env` besides this one's) from the copy's directory. */
async function launch(tool: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${tool}/src/cli/launch.ts`, ...args],
    cwd: tool,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

/** Where this Deno keeps its caches (npm packages, compiled modules). */
async function denoDir(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout)).denoDir;
}

async function bundles(tool: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(`${tool}/.bundle`)) {
    if (!entry.name.startsWith(".")) names.push(entry.name);
  }
  return names.sort();
}

Deno.test("launch: the CLI runs from a bundle of the current sources", async (t) => {
  const tool = await toolCopy();
  try {
    let help = "";
    await t.step("built once, then reused", async () => {
      const first = await launch(tool, ["--help"]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /bundling the CLI/);
      assert.match(first.stdout, /^ {2}run +run a runbook against the targets/m);
      assert.equal((await bundles(tool)).length, 1);
      const again = await launch(tool, ["--help"]);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stderr, /bundling/, "the same sources reuse their bundle");
      assert.equal(again.stdout, first.stdout);
      help = first.stdout;
    });

    await t.step("a chunk of npm code only links no source map (Deno would read it)", async () => {
      const [bundle] = await bundles(tool);
      const dir = `${tool}/.bundle/${bundle}`;
      let thirdParty = 0, ours = 0;
      for await (const entry of Deno.readDir(dir)) {
        if (!entry.name.endsWith(".js.map")) continue;
        const { sources } = JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`));
        if (sources.length === 0) continue;
        const linked = (await Deno.readTextFile(`${dir}/${entry.name.slice(0, -4)}`))
          .includes("//# sourceMappingURL=");
        if (sources.every((s: string) => s.includes("node_modules/"))) {
          thirdParty++;
          assert.ok(!linked, `${entry.name} holds npm code only`);
        } else {
          ours++;
          assert.ok(linked, `${entry.name} maps sources of ours`);
        }
      }
      assert.ok(thirdParty > 0 && ours > 0, `${thirdParty} npm-only maps, ${ours} others`);
    });

    await t.step("it finds the project, and the audit's signature worker starts", async () => {
      // No --root: the project is where the tool is, found from the bundle as from src/.
      const list = await launch(tool, ["list"]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^only-here +/m);
      const [bundle] = await bundles(tool);
      const worker = new Worker(new URL(`file://${tool}/.bundle/${bundle}/sig_worker.ts`), {
        type: "module",
      });
      try {
        const answer = new Promise<unknown>((resolve, reject) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.onerror = (event) => {
            event.preventDefault();
            reject(new Error(event.message));
          };
        });
        worker.postMessage(newLaneJob(new Uint8Array(0), new Int32Array(0), []));
        assert.equal(await answer, "done");
      } finally {
        worker.terminate();
      }
    });

    await t.step("a changed source is bundled before it runs", async () => {
      // An edit of the same length, so the size alone would not tell it: the fingerprint does.
      const commands = `${tool}/src/cli/commands.ts`;
      const text = await Deno.readTextFile(commands);
      const edited = text.replaceAll("run a runbook against", "run a RUNBOOK against");
      assert.notEqual(edited, text);
      await Deno.writeTextFile(commands, edited);
      const changed = await launch(tool, ["--help"]);
      assert.equal(changed.code, 0, changed.stderr);
      assert.match(changed.stderr, /bundling the CLI/);
      assert.match(changed.stdout, /run a RUNBOOK against/, "the edited source runs");
      assert.notEqual(changed.stdout, help);
      assert.equal((await bundles(tool)).length, 2, "the older bundle stays, for runs using it");
    });

    await t.step("a bug's stack trace names the source file, not the bundle", async () => {
      const validate = `${tool}/src/cli/validate.ts`;
      const text = await Deno.readTextFile(validate);
      const list = 'program.command("list")';
      const planted = text.replace(
        /(program\.command\("list"\)[^]*?\.action\(async \([^)]*\) => \{)/,
        '$1\n      throw new Error("planted bug");',
      );
      assert.notEqual(planted, text, `${list}'s action is where the bug is planted`);
      await Deno.writeTextFile(validate, planted);
      try {
        const crash = await launch(tool, ["list"]);
        assert.notEqual(crash.code, 0);
        assert.match(crash.stderr, /planted bug/);
        assert.match(crash.stderr, /src\/cli\/validate\.ts:\d+:\d+/, crash.stderr);
        // Frames in npm code (commander's) may name their chunk: its map is not linked.
        for (const [, chunk] of crash.stderr.matchAll(/\.bundle\/(\w+\/[\w-]+\.js)/g)) {
          const map = JSON.parse(await Deno.readTextFile(`${tool}/.bundle/${chunk}.map`));
          assert.ok(
            map.sources.every((s: string) => s.includes("node_modules/")),
            `a frame names ${chunk}, a chunk of the tool's own code:\n${crash.stderr}`,
          );
        }
      } finally {
        await Deno.writeTextFile(validate, text);
      }
    });
  } finally {
    await Deno.remove(tool, { recursive: true });
  }
});

Deno.test("launch: where no bundle can be written, the CLI runs from the sources and says so once", async () => {
  const tool = await toolCopy();
  // `#` and `?` in the path: a URL built from it would name another file (said every start).
  const cache = `${await Deno.makeTempDir({ prefix: "launch-cache-" })}/a#1?b`;
  await Deno.mkdir(cache);
  try {
    // A file where the bundles' directory would be: as a read-only install, nothing can be built.
    await Deno.writeTextFile(`${tool}/.bundle`, "not a directory\n");
    // The note goes to the user's cache directory: this test's own (Deno's stays where it is).
    const env = { XDG_CACHE_HOME: cache, DENO_DIR: await denoDir() };
    const listed = await launch(tool, ["list"], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, /cannot bundle the CLI here, running from src\/ instead/);
    assert.doesNotMatch(listed.stderr, /bundling the CLI/, "nothing is announced that cannot be");
    assert.match(listed.stdout, /^only-here +/m);
    // Every later start of the same sources runs from src/ without a word.
    for (let i = 0; i < 2; i++) {
      const again = await launch(tool, ["list"], env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stderr, "", "said once per state of the sources");
      assert.equal(again.stdout, listed.stdout);
    }
    // Changed sources are another state: said once more.
    await Deno.writeTextFile(`${tool}/src/cli/commands.ts`, "\n", { append: true });
    assert.match((await launch(tool, ["list"], env)).stderr, /cannot bundle the CLI here/);
  } finally {
    await Deno.remove(tool, { recursive: true });
    await Deno.remove(cache.slice(0, cache.lastIndexOf("/")), { recursive: true });
  }
});
