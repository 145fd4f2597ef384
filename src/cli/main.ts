/**
 * The command line: `deno task <command>` runs `src/cli/main.ts <command>`.
 *
 * Exit codes: 0 success; 1 a runbook, check or verification failed; 2 invalid input
 * (runbook, parameters, configuration, flags); 130 interrupted.
 *
 * @example
 * ```sh
 * deno run -A src/cli/main.ts plan deploy v1.2.0
 * ```
 * @module
 */
import { exitCodeFor } from "./errors.ts";
import { Command } from "commander";
import { registerAuditCommands } from "./audit.ts";
import { registerAuditExportCommands } from "./audit_export.ts";
import { registerRunCommand } from "./run.ts";
import { registerPlanCommands } from "./plan.ts";
import { registerProjectCommands } from "./validate.ts";
import { registerDemoCommand } from "./demo.ts";
import { registerTargetCommands } from "./targets.ts";
import { registerSecretsCommands } from "./secrets.ts";
import { registerPolicyCommands } from "./policy.ts";
import { registerReleaseCommands } from "./release.ts";
import { registerScheduleCommand } from "./schedule.ts";
import { registerDrillCommand } from "./drill.ts";
import { registerShadowCommands } from "./shadow.ts";
import { registerWitnessCommand } from "./witness.ts";
import { registerIdentityCommand } from "./identity.ts";
import { registerRequestCommand } from "./request.ts";
import { registerApproveCommand } from "./approve.ts";
import { registerPopulationCommand } from "./population.ts";
import { registerEvidencePackCommand } from "./evidence_pack.ts";
import { registerRunsCommand } from "./runs.ts";

/** Builds the program with every command. */
export function buildProgram(): Command {
  const program = new Command("protocol")
    .description(
      "Runs the deployment SOPs as YAML runbooks, with a signed audit log.\n" +
        "Usually invoked through deno tasks: `deno task sop:deploy v1.2.0`.",
    )
    .showHelpAfterError()
    .exitOverride();
  registerRunCommand(program);
  registerPlanCommands(program);
  registerProjectCommands(program);
  registerAuditCommands(program);
  registerAuditExportCommands(program);
  registerTargetCommands(program);
  registerDemoCommand(program, main);
  registerSecretsCommands(program);
  registerPolicyCommands(program);
  registerReleaseCommands(program, main);
  registerScheduleCommand(program);
  registerDrillCommand(program);
  registerShadowCommands(program);
  registerWitnessCommand(program);
  registerIdentityCommand(program);
  registerRequestCommand(program);
  registerApproveCommand(program);
  registerPopulationCommand(program);
  registerEvidencePackCommand(program);
  registerRunsCommand(program);
  return program;
}

/**
 * Runs the CLI with `args`, mapping errors to messages and exit codes in this one place: an
 * expected error ({@link ProtocolError}) prints its problems and message and ends with its exit
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
  try {
    await buildProgram().parseAsync(args, { from: "user" });
    return Number(Deno.exitCode ?? 0);
  } catch (error) {
    return exitCodeFor(error);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
