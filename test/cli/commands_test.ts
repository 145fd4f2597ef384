/**
 * The command registry (`src/cli/commands.ts`) and the command modules agree: every command a
 * module registers has its entry, every entry's module registers it, and the summary `--help`
 * lists is the beginning of the command's own description. And a command loads no other
 * command's module: `--help` imports none of them.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { COMMANDS } from "../../src/cli/commands.ts";
import { requestedCommand } from "../../src/cli/main.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const noMain = () => Promise.resolve(0);

Deno.test("commands: each entry's module registers it, with a description its summary begins", async () => {
  const registered = new Map<string, string>();
  for (const register of new Set(await Promise.all(Object.values(COMMANDS).map((e) => e.load())))) {
    const program = new Command();
    register(program, noMain);
    for (const command of program.commands) {
      assert.ok(!registered.has(command.name()), `${command.name()} is registered twice`);
      registered.set(command.name(), command.description());
    }
  }
  assert.deepEqual([...registered.keys()].sort(), Object.keys(COMMANDS).sort());
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const program = new Command();
    (await entry.load())(program, noMain);
    const command = program.commands.find((c) => c.name() === name);
    assert.ok(command, `${name}: its module does not register it`);
    assert.ok(
      command.description().toLowerCase().startsWith(entry.summary.toLowerCase()),
      `${name}: summary "${entry.summary}" does not begin "${command.description()}"`,
    );
  }
});

Deno.test("commands: the command asked for, through help too", () => {
  assert.equal(requestedCommand(["run", "deploy", "v1.2.0", "--yes"]), "run");
  assert.equal(requestedCommand(["help", "audit:verify"]), "audit:verify");
  assert.equal(requestedCommand(["--help"]), undefined);
  assert.equal(requestedCommand(["runz"]), undefined);
  assert.equal(requestedCommand(["constructor"]), undefined);
});

/**
 * What loading `file` loads before any of its code runs: local modules and npm packages reached
 * through static imports (type-only and dynamic `import()` ones left out), from `deno info`.
 */
async function staticClosure(file: string): Promise<{ local: string[]; npm: string[] }> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", file],
  }).output();
  assert.ok(success, `deno info ${file}`);
  type Dependency = { code?: { specifier: string }; isDynamic?: boolean };
  const info: { roots: string[]; modules: { specifier: string; dependencies?: Dependency[] }[] } =
    JSON.parse(new TextDecoder().decode(stdout));
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const local = new Set<string>(), npm = new Set<string>();
  const visit = (specifier: string) => {
    if (local.has(specifier)) return;
    local.add(specifier);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      const target = dependency.code?.specifier;
      if (!target || dependency.isDynamic || target.startsWith("node:")) continue;
      if (target.startsWith("npm:")) npm.add(target.replace(/@[^@/]*$/, ""));
      else visit(target);
    }
  };
  visit(info.roots[0]);
  const src = new URL("../../src/", import.meta.url).href;
  return { local: [...local].map((s) => s.replace(src, "")).sort(), npm: [...npm].sort() };
}

Deno.test("commands: start-up loads the registry, the console guard and commander, no command module", async () => {
  const { local, npm } = await staticClosure(MAIN);
  // terminal_text.ts: the console guard every command's output passes, with the one list of
  // characters unsafe on a terminal (source/printable.ts); neither imports anything more.
  assert.deepEqual(local, [
    "cli/commands.ts",
    "cli/main.ts",
    "cli/terminal_text.ts",
    "source/printable.ts",
  ]);
  assert.deepEqual(npm, ["npm:commander"]);
});

Deno.test("commands: --help lists every command", async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--help"],
    env: { NO_COLOR: "1" },
  }).output();
  assert.ok(success);
  const help = new TextDecoder().decode(stdout);
  for (const name of Object.keys(COMMANDS)) {
    assert.match(help, new RegExp(`^  ${name.replace(/[:]/g, "\\:")} `, "m"), name);
  }
});

Deno.test("commands: `run` loads dax with its first step, not at start-up", async () => {
  const { npm } = await staticClosure(new URL("../../src/cli/run.ts", import.meta.url).pathname);
  assert.ok(!npm.includes("npm:dax-sh"), `run.ts loads dax at start-up: ${npm.join(", ")}`);
});

Deno.test("commands: `run` loads a step kind's engine when such a step runs, not at start-up", async () => {
  const { local } = await staticClosure(new URL("../../src/cli/run.ts", import.meta.url).pathname);
  const engines = local.filter((file) =>
    /^(policy|shadow|secrets|drill|evidence)\//.test(file) &&
    // What every run uses stays: a shadow operand's grammar (validation), the key file's
    // path and cipher (a `secrets:` step's checks), the masker of decrypted values.
    ![
      "shadow/operation.ts",
      "secrets/key_file.ts",
      "secrets/cipher.ts",
      "secrets/errors.ts",
      "secrets/masking.ts",
    ].includes(file)
  );
  assert.deepEqual(engines, [], `run.ts loads step kinds' engines at start-up`);
});

Deno.test("commands: `run` parses YAML with yaml's ES module build, not its CommonJS one", async () => {
  const { npm } = await staticClosure(new URL("../../src/cli/run.ts", import.meta.url).pathname);
  assert.ok(!npm.includes("npm:yaml"), `run.ts loads yaml's CommonJS build: ${npm.join(", ")}`);
});
