/**
 * The runbook commands: `run`, `plan`, `checklist`, `validate`, `list`, `schema`, `init`.
 *
 * Exit codes: 0 success, 1 the runbook failed (after its failure path ran), 2 invalid input
 * (runbook, parameters, configuration), 130 interrupted.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerRunbookCommands } from "./runbook.ts";
 * const program = new Command();
 * registerRunbookCommands(program);
 * await program.parseAsync(["plan", "deploy", "v1.2.0"], { from: "user" });
 * ```
 * @module
 */
import { Command, Option } from "commander";
import $ from "dax";
import { join, relative } from "node:path";
import {
  type Config,
  CONFIG_FILE,
  configTemplate,
  findConfig,
  loadConfig,
  requireConfig,
} from "../config/mod.ts";
import { describeRunbook, formatChecklist, formatPlan } from "../runbook/describe.ts";
import type { Confirmer } from "../runbook/execute.ts";
import { listRunbooks, loadRunbook, validateFile } from "../runbook/load.ts";
import { bindParameters } from "../runbook/params.ts";
import { exitCodeOf, humanItems } from "../runbook/run.ts";
import { runRollout } from "../runbook/fleet.ts";
import {
  describeRollout,
  formatRolloutPlan,
  selectNodes,
  targetProblems,
} from "../runbook/rollout.ts";
import { InvalidRunbookError, type LoadedRunbook } from "../runbook/load.ts";
import { type InventoryNode, LOCAL_NODE } from "../targets/inventory.ts";
import { TargetPool } from "../targets/pool.ts";
import { jsonSchemas } from "../runbook/schema.ts";
import { formatProblem } from "../runbook/source.ts";
import { ensureStateDir, resolveStateDir } from "../state/mod.ts";
import { ProgressPrinter } from "./progress.ts";
import { auditJournal, requireAuditKey, sealRun } from "./journal.ts";
import { projectRoot, UsageError } from "./common.ts";
import { printRunEvidence } from "../evidence/print.ts";

/** Problems that only say a capability is not built yet. */
const PENDING = /does not have yet/;

interface CommonOptions {
  root?: string;
  config?: string;
  stateDir?: string;
  param: string[];
  limit?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function common(command: Command): Command {
  return command
    .option("-p, --param <key=value>", "set a parameter (repeatable)", collect, [])
    .option("--config <file>", `project configuration (default: ./${CONFIG_FILE})`)
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option(
      "--limit <nodes>",
      "only these nodes or groups of the runbook's targets (comma-separated)",
    )
    .addOption(
      new Option("--root <dir>", "project directory holding runbooks/ and tasks/").hideHelp(),
    );
}

/** Loads the runbook and binds its parameters from positional and `-p` arguments. */
async function prepare(name: string, args: string[], options: CommonOptions) {
  const root = projectRoot(options.root);
  const loaded = await loadRunbook(root, name);
  const named: Record<string, string> = {};
  for (const pair of options.param) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`-p expects key=value, got "${pair}"`);
    named[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const params = bindParameters(loaded.runbook.parameters, args, named);
  return { root, loaded, params };
}

async function optionalConfig(options: CommonOptions): Promise<Config | undefined> {
  const path = await findConfig(options);
  return path ? await loadConfig(path) : undefined;
}

/**
 * The nodes a runbook will run on, checked against the inventory before anything runs: an
 * `on:` naming no node or group is reported where it is written, like any other mistake.
 */
async function nodesFor(
  root: string,
  loaded: LoadedRunbook,
  pool: TargetPool,
  limit?: string,
): Promise<InventoryNode[]> {
  const problems = targetProblems(loaded, pool.inventory);
  const failurePath = loaded.runbook.on_failure?.runbook;
  if (failurePath) {
    problems.push(...targetProblems(await loadRunbook(root, failurePath), pool.inventory));
  }
  if (problems.length) throw new InvalidRunbookError(problems);
  return selectNodes(loaded, pool.inventory, limit?.split(","));
}

/** Prints the plan of a run: per node and batch when it runs on nodes. */
async function printPlan(
  root: string,
  loaded: LoadedRunbook,
  params: Record<string, string | number | boolean>,
  options: CommonOptions & { json?: boolean },
): Promise<void> {
  const config = await optionalConfig(options);
  const nodes = config
    ? await nodesFor(root, loaded, new TargetPool(config), options.limit)
    : [LOCAL_NODE];
  if (nodes.length === 1 && nodes[0] === LOCAL_NODE) {
    const description = describeRunbook(loaded, params, config);
    console.log(options.json ? JSON.stringify(description, null, 2) : formatPlan(description));
    return;
  }
  const rollout = describeRollout(loaded, params, config, nodes);
  console.log(options.json ? JSON.stringify(rollout, null, 2) : formatRolloutPlan(rollout));
}

/** Adds the runbook commands to `program`. */
export function registerRunbookCommands(program: Command): void {
  common(program.command("run <runbook> [args...]"))
    .description("run a runbook against the targets of the project configuration")
    .option("--dry-run", "print the plan instead of running anything")
    .option("-y, --yes", "acknowledge the human checklist items (recorded as acknowledged)")
    .option("--json", "print the run record as JSON on stdout (progress stays on stderr)")
    .option(
      "--force-unlock <reason>",
      "remove a node's deploy lock left by a run that is gone, first (the reason is audited)",
    )
    .option("--accept-new-host-keys", "record the host key of a node seen for the first time")
    .addHelpText(
      "after",
      "\nExamples:\n  deno task sop:deploy v1.2.0\n  deno task sop:deploy v1.2.0 --limit web-2\n" +
        "  deno task run rollback -p version=v1.1.0 --yes",
    )
    .action(async (
      name: string,
      args: string[],
      options: CommonOptions & {
        dryRun?: boolean;
        yes?: boolean;
        json?: boolean;
        forceUnlock?: string;
        acceptNewHostKeys?: boolean;
      },
    ) => {
      const { root, loaded, params } = await prepare(name, args, options);
      if (options.dryRun) return await printPlan(root, loaded, params, options);
      if (options.forceUnlock !== undefined && !options.forceUnlock.trim()) {
        throw new UsageError(
          '--force-unlock needs a reason, as in --force-unlock "run 123 crashed"',
        );
      }
      const config = await requireConfig(options);
      const pool = new TargetPool(config, { acceptNewHostKeys: options.acceptNewHostKeys });
      const nodes = await nodesFor(root, loaded, pool, options.limit);
      const stateDir = await ensureStateDir(resolveStateDir(options));
      await requireAuditKey(stateDir);
      const confirm = confirmer(humanItems(loaded), options.yes ?? false);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
      signals.forEach((signal) => Deno.addSignalListener(signal, interrupt));
      const write = (line: string) => console.error(line);
      const several = nodes.length > 1 || nodes[0] !== LOCAL_NODE;
      try {
        const printer = new ProgressPrinter(write);
        const record = await runRollout(loaded, {
          root,
          params,
          config,
          stateDir,
          pool,
          nodes,
          forceUnlock: options.forceUnlock,
          confirm: confirm && onceEach(confirm),
          signal: controller.signal,
          observer: printer,
          observerFor: (node) => several ? new ProgressPrinter(write, node.name) : printer,
          rollout: printer,
          journal: auditJournal(stateDir),
        });
        // Every run ends sealed: key evolved, checkpoint signed and sent to the witnesses.
        const sealed = await sealRun(stateDir, config);
        if (options.json) console.log(JSON.stringify(record, null, 2));
        const code = exitCodeOf(record);
        Deno.exitCode = code === 0 && !sealed ? 1 : code;
      } finally {
        signals.forEach((signal) => Deno.removeSignalListener(signal, interrupt));
        await pool.close();
      }
    });

  common(program.command("plan <runbook> [args...]"))
    .description(
      "print every command a run would execute, per node and batch, without running anything",
    )
    .option("--json", "print the plan as JSON")
    .action(async (name: string, args: string[], options: CommonOptions & { json?: boolean }) => {
      const { root, loaded, params } = await prepare(name, args, options);
      await printPlan(root, loaded, params, options);
    });

  common(program.command("checklist <runbook> [args...]"))
    .description("print the change-ticket checklist generated from a runbook")
    .addOption(
      new Option("--format <format>", "output format (html: with --run)").choices([
        "md",
        "text",
        "json",
        "html",
      ]).default("md"),
    )
    .option("--run <id>", "the evidence of a finished run: items ticked, audit seq and hash")
    .action(async (
      name: string,
      args: string[],
      options: CommonOptions & { format: string; run?: string },
    ) => {
      if (options.run !== undefined || options.format === "html") {
        Deno.exitCode = await printRunEvidence(name, options);
        return;
      }
      const { loaded, params } = await prepare(name, args, options);
      const description = describeRunbook(loaded, params, await optionalConfig(options));
      Deno.stdout.writeSync(
        new TextEncoder().encode(formatChecklist(description, options.format as "md")),
      );
    });

  program.command("validate [files...]")
    .description("check every runbook and task file (or the ones given); exit 2 on problems")
    .option("--json", "print problems as JSON")
    .addOption(new Option("--root <dir>").hideHelp())
    .action(async (files: string[], options: { json?: boolean; root?: string }) => {
      const root = projectRoot(options.root);
      const targets = files.length
        ? files.map((f) => relative(root, join(Deno.env.get("INIT_CWD") ?? Deno.cwd(), f)))
        : await allFiles(root);
      const results = [];
      for (const file of targets) results.push({ file, problems: await validateFile(root, file) });
      const problems = results.flatMap((result) => result.problems);
      if (options.json) console.log(JSON.stringify(results, null, 2));
      else {
        for (const result of results) {
          if (result.problems.length === 0) console.log(`ok   ${result.file}`);
          for (const problem of result.problems) console.log(formatProblem(problem));
        }
        console.log(
          `\n${results.length} file(s) checked, ${problems.length} problem(s) in ${
            results.filter((r) => r.problems.length).length
          } file(s)`,
        );
        const waiting = results.filter((r) =>
          r.problems.length && r.problems.every((p) => PENDING.test(p.message))
        );
        if (waiting.length) {
          console.log(
            `${waiting.map((r) => r.file).join(", ")}: written as the SOP says, these wait for ` +
              `capabilities this version does not have yet; they cannot run until those land.`,
          );
        }
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
 * Asks each question once per run, one at a time: a rollout over ten nodes asks "deployment
 * window confirmed?" once, and parallel nodes never prompt over each other.
 */
function onceEach(confirm: Confirmer): Confirmer {
  const answers = new Map<string, ReturnType<Confirmer>>();
  let queue: Promise<unknown> = Promise.resolve();
  return (question) => {
    let answer = answers.get(question);
    if (!answer) {
      answer = queue.then(() => confirm(question));
      queue = answer.catch(() => undefined);
      answers.set(question, answer);
    }
    return answer;
  };
}

/**
 * How human items get answered: `--yes` acknowledges them; a terminal asks; otherwise the run
 * is refused before anything runs, naming the items.
 */
function confirmer(items: string[], yes: boolean): Confirmer | undefined {
  if (yes) return () => Promise.resolve("acknowledged");
  const interactive = Deno.stdin.isTerminal() && !Deno.env.get("CI");
  if (interactive) {
    return async (question) =>
      await $.confirm({ message: question, default: false }) ? "confirmed" : "declined";
  }
  if (items.length) {
    throw new UsageError(
      `this runbook has ${items.length} item(s) a human must confirm, and there is no terminal ` +
        `to ask:\n${items.map((item) => `  - ${item}`).join("\n")}\n` +
        `Run it from a terminal, or pass --yes to acknowledge them (recorded in the run record).`,
    );
  }
  return undefined;
}
