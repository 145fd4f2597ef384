/**
 * The command line: `deno task <command>` runs `src/cli/main.ts <command>`.
 *
 * Exit codes: 0 success; 1 a runbook, check or verification failed; 2 invalid input
 * (runbook, parameters, configuration, flags); 130 interrupted.
 *
 * Only the module of the command that runs is imported (see `commands.ts`): start-up pays for
 * that command's dependencies and no other's.
 *
 * @example
 * ```sh
 * deno run -A src/cli/main.ts plan deploy v1.2.0
 * ```
 * @module
 */
import { Command } from "commander";
import { COMMANDS } from "./commands.ts";
import { guardConsole } from "./terminal_text.ts";

/**
 * The command `args` asks for (`help NAME` asks for NAME), when it is a known one.
 *
 * @example
 * ```ts
 * import { requestedCommand } from "./main.ts";
 * requestedCommand(["run", "deploy", "v1.2.0"]); // "run"
 * requestedCommand(["help", "audit:verify"]); // "audit:verify"
 * requestedCommand(["--help"]); // undefined
 * ```
 */
export function requestedCommand(args: readonly string[]): string | undefined {
  const words = args.filter((arg) => !arg.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  return name !== undefined && Object.hasOwn(COMMANDS, name) ? name : undefined;
}

/**
 * Builds the program for `args`: the requested command's module registers its commands; with no
 * known command (`--help`, a typo), every command is listed by its summary alone, so help and
 * "unknown command" suggestions name them all without importing any.
 *
 * @example
 * ```ts
 * import { buildProgram } from "./main.ts";
 * const program = await buildProgram(["--help"]);
 * program.commands.length > 50; // true: every command, none of them loaded
 * ```
 */
export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command("protocol")
    .description(
      "Runs the deployment SOPs as YAML runbooks, with a signed audit log.\n" +
        "Usually invoked through deno tasks: `deno task sop:deploy v1.2.0`.",
    )
    .showHelpAfterError()
    .exitOverride();
  const name = requestedCommand(args);
  if (name !== undefined) {
    (await COMMANDS[name].load())(program, main);
    return program;
  }
  for (const [command, { summary }] of Object.entries(COMMANDS)) {
    program.command(command).description(summary);
  }
  return program;
}

/**
 * Runs the CLI with `args`, mapping errors to messages and exit codes in this one place
 * (`exitCodeFor`): an expected error prints its problems and message and ends with its exit
 * code; anything else is a bug and surfaces with its stack.
 *
 * @example
 * ```ts
 * import { main } from "./main.ts";
 * const code = await main(["plan", "deploy", "-p", "version=1", "-p", "version=2"]);
 * code; // 2: a parameter given twice is bad input
 * ```
 */
export async function main(args: string[]): Promise<number> {
  guardConsole(); // what a node or a file put in a line cannot drive the operator's terminal
  const program = await buildProgram(args);
  // Whatever the command, the audit logs it wrote end sealed (key evolved, checkpoint published).
  // Two small modules (a watch of appends), loaded beside the command's own.
  const { sealingAuditWrites } = await import("./audit_sealing.ts");
  return await sealingAuditWrites(program, async () => {
    try {
      await program.parseAsync(args, { from: "user" });
      return Number(Deno.exitCode ?? 0);
    } catch (error) {
      // The mapping prints YAML positions: its module loads only when there is an error to map.
      const { exitCodeFor, wantsJson } = await import("./errors.ts");
      return exitCodeFor(error, { json: wantsJson(args) });
    }
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
