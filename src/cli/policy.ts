/**
 * The policy commands: `security:audit`, `soc2:check`, `security:trojansearch`,
 * `security:changedfiles` (the shipped policies) and `policy NAME|FILE` (any policy file).
 *
 * Exit codes: 0 nothing blocking; 1 a fail-level check failed or could not be evaluated
 * (`--strict`: warn-level too); 2 bad input (policy or waivers file, parameter, target, flag).
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { registerPolicyCommands } from "./policy.ts";
 * const program = new Command();
 * registerPolicyCommands(program);
 * await program.parseAsync(["soc2:check", "--format", "json"], { from: "user" });
 * ```
 * @module
 */
import { projectRoot } from "../config/root.ts";
import { UsageError } from "../errors.ts";
import { stateDirOn } from "../targets/files.ts";
import { policyEntry, policyRan } from "../audit/actions.ts";
import { Command, Option } from "commander";
import { join, relative } from "node:path";
import { CONFIG_FILE, findConfig, loadConfig } from "../config/mod.ts";
import { appendAudit, hasSigningKey } from "../audit/mod.ts";
import { formatProblem } from "../source/mod.ts";
import { resolveStateDir } from "../state/mod.ts";
import {
  evaluatePolicy,
  exitCodeOf,
  formatReport,
  InvalidPolicyError,
  loadPolicy,
  loadWaivers,
  PolicyParamError,
  type PolicyReport,
  REPORT_FORMATS,
  type ReportFormat,
  resolvePolicyTarget,
  type Waiver,
} from "../policy/mod.ts";
import { policyJsonSchemas } from "../policy/schema.ts";

/** The shipped policies and the commands that run them. */
export const POLICY_COMMANDS = {
  "security:audit": [
    "security-audit",
    "the security audit: code, permissions, dependencies, processes, compose, recent changes",
  ],
  "soc2:check": ["soc2", "the SOC 2 readiness checks"],
  "security:trojansearch": [
    "trojansearch",
    "scan recently changed files for trojan/webshell patterns, scored per file",
  ],
  "security:changedfiles": [
    "changed-files",
    "list files modified in the last N days (-p days=N, default 15)",
  ],
} as const;

interface PolicyOptions {
  target: string;
  format: ReportFormat;
  strict?: boolean;
  waivers?: string;
  config?: string;
  stateDir?: string;
  param: string[];
  check?: string;
  root?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function options(command: Command): Command {
  return command
    .option("--target <node>", "where to gather facts (local)", "local")
    .addOption(
      new Option("--format <format>", "report format").choices(REPORT_FORMATS).default("text"),
    )
    .option("--strict", "warn-level findings fail too (exit 1)")
    .option("--waivers <file>", "waivers file (default: policies/waivers.yaml when present)")
    .option("-p, --param <key=value>", "set a policy parameter (repeatable)", collect, [])
    .option("--check <id>", "evaluate only this check")
    .option("--config <file>", `project configuration (default: ./${CONFIG_FILE})`)
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .addOption(new Option("--root <dir>", "project directory holding policies/").hideHelp());
}

/** Registers the policy commands on the program. */
export function registerPolicyCommands(program: Command): void {
  for (const [name, [policy, description]] of Object.entries(POLICY_COMMANDS)) {
    options(program.command(name).description(`run ${description}`))
      .action((opts: PolicyOptions) => runPolicyCommand(policy, opts));
  }
  options(program.command("policy").argument("<policy>", "a name in policies/ or a file path"))
    .description("run any policy file")
    .action((policy: string, opts: PolicyOptions) => runPolicyCommand(policy, opts));
  program.command("policy:schema")
    .description("write the JSON Schemas of policy and waivers files to schema/ (for editors)")
    .option("--check", "fail if the committed schema files are out of date")
    .addOption(new Option("--root <dir>").hideHelp())
    .action((opts: { check?: boolean; root?: string }) => writeSchemas(opts));
}

/** Writes (or with `check`, compares) schema/policy.schema.json and schema/waivers.schema.json. */
async function writeSchemas(opts: { check?: boolean; root?: string }): Promise<void> {
  const root = projectRoot(opts.root);
  for (const [name, schema] of Object.entries(policyJsonSchemas())) {
    const path = join(root, "schema", `${name}.schema.json`);
    const text = JSON.stringify(schema, null, 2) + "\n";
    if (opts.check) {
      if (await Deno.readTextFile(path).catch(() => "") !== text) {
        console.error(`${relative(root, path)} is out of date: run \`deno task policy:schema\``);
        Deno.exitCode = 1;
      }
      continue;
    }
    await Deno.mkdir(join(root, "schema"), { recursive: true });
    await Deno.writeTextFile(path, text);
    console.log(`wrote ${relative(root, path)}`);
  }
}

function parseParams(pairs: string[]): Record<string, string> {
  return Object.fromEntries(pairs.map((pair) => {
    const i = pair.indexOf("=");
    if (i < 1) throw new UsageError(`expected -p key=value, got ${JSON.stringify(pair)}`);
    return [pair.slice(0, i), pair.slice(i + 1)];
  }));
}

async function readWaivers(root: string, file: string | undefined): Promise<Waiver[]> {
  const path = file ?? join(root, "policies", "waivers.yaml");
  if (!file && !await Deno.stat(path).then(() => true, () => false)) return [];
  return await loadWaivers(path);
}

async function runPolicyCommand(name: string, opts: PolicyOptions): Promise<void> {
  const root = projectRoot(opts.root);
  const configPath = await findConfig(opts);
  const { target, config, close } = await resolvePolicyTarget(
    opts.target,
    configPath ? await loadConfig(configPath) : undefined,
  );
  const stateDir = resolveStateDir(opts);
  let report: PolicyReport;
  try {
    const policy = await loadPolicy(name, root);
    if (opts.check && !policy.checks.some((c) => c.id === opts.check)) {
      throw new UsageError(
        `no check ${opts.check} in ${policy.id}; checks: ${
          policy.checks.map((c) => c.id).join(", ")
        }`,
      );
    }
    const waivers = await readWaivers(root, opts.waivers);
    report = await evaluatePolicy(policy, target, {
      stateDir: await stateDirOn(target, config?.nodes[target.name]?.state_dir, stateDir),
      auditStateDir: stateDir,
      config,
      params: parseParams(opts.param),
      waivers,
      only: opts.check,
    });
  } catch (error) {
    if (error instanceof InvalidPolicyError) {
      for (const problem of error.problems) console.error(formatProblem(problem));
      throw new UsageError(
        `${error.message.split("\n")[0].replace(/:$/, "")}; nothing was checked`,
      );
    }
    if (error instanceof PolicyParamError) throw new UsageError(error.message);
    throw error;
  } finally {
    await close();
  }
  const code = exitCodeOf(report, opts.strict);
  const baseDir = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  console.log(formatReport(report, opts.format, { strict: opts.strict, baseDir }));
  await recordInAudit(stateDir, report, code, opts.check);
  Deno.exitCode = code;
}

/** One signed entry per evaluation; without a signing key, a note rather than a failure. */
async function recordInAudit(
  stateDir: string,
  report: PolicyReport,
  code: number,
  only?: string,
) {
  if (!hasSigningKey(stateDir)) {
    console.error(
      `note: no audit signing key in ${stateDir}; this check was not recorded in the audit log ` +
        "(create one with `deno task audit:keygen`)",
    );
    return;
  }
  // Exactly what ran: `soc2/key-permissions` for one check, so it never counts as all of SOC 2.
  const policy = policyRan(report.policy.id, only ? [only] : []);
  await appendAudit(
    stateDir,
    policyEntry({ policy, target: report.target }, report.summary, code, report.results),
  );
}
