/**
 * `audit:population --from D --to D [--format csv|json|md|claims] [--sample N [--seed S]]`: every
 * production change of a period from the audit log, one row each (drills listed apart), and a
 * reproducible sample for the auditor.
 *
 * @example
 * ```sh
 * deno task audit:population --from 2026-07-01 --to 2026-09-30 --format csv > population.csv
 * deno task audit:population --from 2026-07-01 --to 2026-09-30 --sample 25
 * ```
 * @module
 */
import { type Command, Option } from "commander";
import { UsageError } from "../errors.ts";
import { AuditRefusedError } from "../audit/mod.ts";
import { loadApprovers } from "../approval/mod.ts";
import { resolve } from "node:path";
import { resolveStateDir } from "../state/mod.ts";
import { CHANGE_RUNBOOKS, periodOf } from "../evidence/population.ts";
import { defaultSeed, loadPopulation } from "../evidence/population_load.ts";
import {
  drawSample,
  populationClaims,
  populationCsv,
  populationMarkdown,
} from "../evidence/sample.ts";

interface PopulationOptions {
  from: string;
  to: string;
  format: "csv" | "json" | "md" | "claims";
  pubkey?: string;
  approvers?: string;
  sample?: string;
  seed?: string;
  runbooks?: string;
  stateDir?: string;
}

/** Adds `audit:population` to `program`. */
export function registerPopulationCommand(program: Command): void {
  program.command("audit:population")
    .description("list every production change of a period (for the auditor), with a sample")
    .requiredOption("--from <date>", "first day of the period (2026-07-01)")
    .requiredOption("--to <date>", "last day of the period, included (2026-09-30)")
    .addOption(
      new Option(
        "--format <format>",
        "output format (claims: one `seq sha256` line per change and drill)",
      ).choices(["csv", "json", "md", "claims"]).default("md"),
    )
    .option("--pubkey <file>", "verify the log against this trust root kept off the host")
    .option(
      "--approvers <file>",
      "count only approvals by people this approvers file lists with their key (your copy of the reviewed one)",
    )
    .option("--sample <n>", "also draw a reproducible sample of N changes")
    .option("--seed <seed>", "the sample's seed (default: the first checkpoint after the period)")
    .option("--runbooks <ids>", `change runbooks (default: ${CHANGE_RUNBOOKS.join(",")})`)
    .option("--state-dir <dir>", "state directory (default: $PROTOCOL_STATE_DIR or ~/.protocol)")
    .addHelpText(
      "after",
      '\nThe sample is the N changes with the smallest sha256(SEED + "\\n" + entry hash):\n' +
        "anyone with the seed and the population can recompute it.",
    )
    .action(async (options: PopulationOptions) => {
      let period;
      try {
        period = periodOf(options.from, options.to);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const size = options.sample === undefined ? undefined : Number(options.sample);
      if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
        throw new UsageError(`--sample expects a positive whole number, got "${options.sample}"`);
      }
      if (options.seed !== undefined && size === undefined) {
        throw new UsageError("--seed only goes with --sample");
      }
      const stateDir = resolveStateDir(options);
      const runbooks = options.runbooks?.split(",").filter(Boolean);
      const approvers = options.approvers === undefined
        ? undefined
        : await loadApprovers(resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), options.approvers));
      const { population, lines } = await loadPopulation(
        stateDir,
        period,
        runbooks,
        options.pubkey,
        approvers,
      );
      if (!population.log!.verified) {
        // A population from a log that was cut or edited could miss changes: never hand one out.
        throw new AuditRefusedError(
          `refused: the audit log does not verify, so no population is drawn from it: ` +
            `${population.log!.problem} (run audit:verify)`,
        );
      }
      const seed = size === undefined
        ? undefined
        : options.seed !== undefined
        ? { seed: options.seed, source: "given with --seed" }
        : await defaultSeed(stateDir, lines, period.to);
      const sample = seed && { rows: drawSample(population.changes, seed.seed, size!), seed };
      if (seed) console.error(`sample seed: ${seed.seed} (${seed.source})`);
      if (options.format === "claims") {
        Deno.stdout.writeSync(new TextEncoder().encode(populationClaims(population)));
      } else if (options.format === "json") {
        console.log(JSON.stringify({ ...population, sample }, null, 2));
      } else if (options.format === "csv") {
        Deno.stdout.writeSync(
          new TextEncoder().encode(populationCsv(sample?.rows ?? population.changes)),
        );
      } else console.log(populationMarkdown(population, sample).trimEnd());
    });
}
