/**
 * Every command that writes audit entries ends sealed, whichever command it is: the dispatcher
 * runs the command inside {@link sealingAuditWrites}, which watches the appends the command
 * makes (`audit/written.ts`) and seals each log written to at the end — key evolved, checkpoint
 * signed over the verified log and published (`audit_seal.ts`). Commands do nothing for it; a
 * command that wrote nothing loads none of the sealing code.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { sealingAuditWrites } from "./audit_sealing.ts";
 * const program = new Command("protocol");
 * const code = await sealingAuditWrites(program, async () => {
 *   await program.parseAsync(["secrets:setup"], { from: "user" });
 *   return 0;
 * });
 * ```
 * @module
 */
import type { Command } from "commander";
import { watchAuditWrites } from "../audit/written.ts";

/**
 * Runs `run` (the command `program` dispatches) and seals every audit log it appended to,
 * also when it failed or threw. Returns `run`'s exit code, or 1 instead of 0 when a log could
 * not be sealed (it no longer verifies). The witnesses are those of the command's
 * configuration (`--config`, else the usual lookup) and apply to its state dir.
 */
export async function sealingAuditWrites(
  program: Command,
  run: () => Promise<number>,
): Promise<number> {
  const writes = watchAuditWrites();
  const options: { config?: string; stateDir?: string } = {};
  program.hook("preAction", (_program, action) => {
    const o = action.opts();
    if (typeof o.config === "string") options.config = o.config;
    if (typeof o.stateDir === "string") options.stateDir = o.stateDir;
  });
  let code = 1;
  let thrown: { error: unknown } | undefined;
  try {
    code = await run();
  } catch (error) {
    thrown = { error };
  }
  const written = writes.close();
  if (written.length) {
    const { sealWrittenLogs } = await import("./audit_seal.ts");
    if (!await sealWrittenLogs(written, options) && code === 0) code = 1;
  }
  if (thrown) throw thrown.error;
  return code;
}
