/**
 * The commands about the project's files rather than a run: `validate` (every runbook and
 * task, or the ones given), `list`, `schema` (JSON Schemas for editors) and `init` (a
 * commented configuration to start from).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerProjectCommands } from "./validate.ts";
 * const program = new Command();
 * registerProjectCommands(program);
 * program.commands.map((command) => command.name()); // ["validate", "list", "schema", "init"]
 * ```
 * @module
 */
import { projectRoot } from "../config/root.ts";
import { UsageError } from "../errors.ts";
import { type Command, Option } from "commander";
import { join, relative, resolve } from "node:path";
import { CONFIG_FILE, configTemplate } from "../config/mod.ts";
import {
  displayPath,
  listRunbooks,
  loadRunbook,
  validateFile,
  yamlFilesUnder,
} from "../runbook/load.ts";
import { jsonSchemas } from "../runbook/schema.ts";
import { formatProblem, printable } from "../source/mod.ts";

/** Adds `validate`, `list`, `schema` and `init` to `program`. */
export function registerProjectCommands(program: Command): void {
  program.command("validate [files...]")
    .description("check every runbook and task file (or the ones given); exit 2 on problems")
    .option("--json", "print problems as JSON")
    .addOption(new Option("--root <dir>").hideHelp())
    .action(async (files: string[], options: { json?: boolean; root?: string }) => {
      const root = projectRoot(options.root);
      const targets = files.length ? await givenFiles(root, files) : await allFiles(root);
      const results = [];
      for (const file of targets) results.push({ file, problems: await validateFile(root, file) });
      const problems = results.flatMap((result) => result.problems);
      if (options.json) console.log(JSON.stringify(results, null, 2));
      else {
        for (const result of results) {
          if (result.problems.length === 0) console.log(`ok   ${printable(result.file)}`);
          for (const problem of result.problems) console.log(formatProblem(problem));
        }
        console.log(
          `\n${results.length} file(s) checked, ${problems.length} problem(s) in ${
            results.filter((r) => r.problems.length).length
          } file(s)`,
        );
      }
      if (problems.length) Deno.exitCode = 2;
    });

  program.command("list")
    .description("list the runbooks with their SOP number and when to use them")
    .addOption(new Option("--root <dir>").hideHelp())
    .option("--json", "print as JSON")
    .action(async (options: { root?: string; json?: boolean }) => {
      const root = projectRoot(options.root);
      const rows = [];
      for (const id of await listRunbooks(root)) {
        try {
          const { runbook } = await loadRunbook(root, id);
          rows.push({
            id,
            sop: runbook.sop,
            title: runbook.title,
            when: runbook.when,
            valid: true,
          });
        } catch {
          rows.push({ id, valid: false, title: "(invalid: see `deno task validate`)" });
        }
      }
      if (options.json) return console.log(JSON.stringify(rows, null, 2));
      for (const row of rows) console.log(`${row.id.padEnd(20)} ${row.title}`);
    });

  program.command("schema")
    .description("write the JSON Schemas of runbooks and tasks to schema/ (for editors)")
    .option("--check", "fail if the committed schema files are out of date")
    .addOption(new Option("--root <dir>").hideHelp())
    .action(async (options: { check?: boolean; root?: string }) => {
      const root = projectRoot(options.root);
      const schemas = jsonSchemas();
      for (const [name, schema] of Object.entries(schemas)) {
        const path = join(root, "schema", `${name}.schema.json`);
        const text = JSON.stringify(schema, null, 2) + "\n";
        if (options.check) {
          const current = await Deno.readTextFile(path).catch(() => "");
          if (current !== text) {
            console.error(`${relative(root, path)} is out of date: run \`deno task schema\``);
            Deno.exitCode = 1;
          }
          continue;
        }
        await Deno.mkdir(join(root, "schema"), { recursive: true });
        await Deno.writeTextFile(path, text);
        console.log(`wrote ${relative(root, path)}`);
      }
    });

  program.command("init")
    .description(`write a commented ${CONFIG_FILE} to start from`)
    .option("--force", "overwrite an existing file")
    .action(async (options: { force?: boolean }) => {
      const path = join(Deno.env.get("INIT_CWD") ?? Deno.cwd(), CONFIG_FILE);
      if (!options.force && await Deno.stat(path).then(() => true, () => false)) {
        throw new UsageError(`${path} exists; pass --force to overwrite it`);
      }
      await Deno.writeTextFile(path, configTemplate());
      console.log(`wrote ${path}: edit app.repo, app.dir, start/stop and the health URL`);
    });
}

async function allFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const dir of ["runbooks", "tasks"]) {
    try {
      for await (const entry of Deno.readDir(join(root, dir))) {
        if (entry.isFile && /\.ya?ml$/.test(entry.name)) files.push(`${dir}/${entry.name}`);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return files.sort();
}

/**
 * The files `validate` was given, resolved against where the user ran it (absolute paths stay
 * as they are); a directory stands for the runbooks and tasks under it.
 */
async function givenFiles(root: string, given: string[]): Promise<string[]> {
  const cwd = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  const files: string[] = [];
  for (const name of given) {
    const path = resolve(cwd, name);
    const info = await Deno.stat(path).catch(() => undefined);
    if (info?.isDirectory) files.push(...await yamlFilesUnder(path));
    else files.push(path);
  }
  return files.map((path) => displayPath(root, path));
}
