/**
 * `evidence:pack PERIOD --out DIR`: the folder an auditor opens offline for a period (a quarter
 * `2026-Q3`, or `2026-07-01..2026-09-30`): `index.html` with the summary first, the population,
 * the sample with each sampled change's evidence checklist, the public keys, checkpoints, a
 * copy of the log and a `verify` script.
 *
 * @example
 * ```sh
 * deno task evidence:pack 2026-Q3 --out evidence-2026-Q3
 * sh evidence-2026-Q3/verify
 * ```
 * @module
 */
import type { Command } from "commander";
import { projectRoot } from "../config/root.ts";
import { UsageError } from "../errors.ts";
import { resolveStateDir } from "../state/mod.ts";
import { writeEvidencePack } from "../evidence/pack.ts";
import { checklistShapes } from "../runbook/shape.ts";
import { resolve } from "node:path";

/** Adds `evidence:pack` to `program`. */
export function registerEvidencePackCommand(program: Command): void {
  program.command("evidence:pack <period>")
    .description("write an offline evidence pack for a period (2026-Q3 or FROM..TO)")
    .requiredOption("--out <dir>", "the folder to write (must not exist or be empty)")
    .option("--sample <n>", "how many changes to sample", "25")
    .option("--seed <seed>", "the sample's seed (default: the first checkpoint after the period)")
    .option("--runbooks <ids>", "change runbooks (default: those of SOP 1-7)")
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .option("--root <dir>", "project directory (for runbook shapes and the schedule)")
    .action(async (period: string, options: {
      out: string;
      sample: string;
      seed?: string;
      runbooks?: string;
      stateDir?: string;
      root?: string;
    }) => {
      const size = Number(options.sample);
      if (!Number.isInteger(size) || size < 1) {
        throw new UsageError(`--sample expects a positive whole number, got "${options.sample}"`);
      }
      const out = resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), options.out);
      const entries = await Array.fromAsync(Deno.readDir(out)).catch(() => []);
      if (entries.length) throw new UsageError(`${out} is not empty: give a new folder`);
      let summary;
      try {
        summary = await writeEvidencePack({
          stateDir: resolveStateDir(options),
          root: projectRoot(options.root),
          shapeOf: checklistShapes(projectRoot(options.root)),
          label: period,
          out,
          sampleSize: size,
          seed: options.seed,
          runbooks: options.runbooks?.split(",").filter(Boolean),
        });
      } catch (error) {
        if (error instanceof RangeError) {
          throw new UsageError(`${error.message} (a period is 2026-Q3 or 2026-07-01..2026-09-30)`);
        }
        throw error;
      }
      console.error(`sample seed: ${summary.seed.seed} (${summary.seed.source})`);
      console.log(
        `wrote ${summary.out}/index.html: ${summary.changes} change(s), ${summary.sampled} ` +
          `sampled, ${summary.exceptions} exception(s); check it with: sh ${summary.out}/verify`,
      );
      if (!summary.log.verified) {
        // The pack shows the failure to the auditor; the command must not report success.
        console.error(`error: the audit log does NOT verify: ${summary.log.problem}`);
        Deno.exitCode = 1;
      }
    });
}
