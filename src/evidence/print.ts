/**
 * `checklist RUNBOOK --run RUN_ID --format md|html|json`: the evidence checklist of a finished
 * run, for the change ticket. Exit 0 when every command matches its signed audit entry and the
 * log verifies, 1 when not (the document still prints, with the gaps marked), 2 for bad input.
 *
 * @example
 * ```sh
 * deno task checklist deploy --run 20261123T190102Z-a1b2c3 --format html > CHG-1234.html
 * ```
 * @module
 */
import { UsageError } from "../errors.ts";
import {
  type EvidenceFormat,
  formatEvidence,
  loadEvidence,
  type ShapeReader,
  UnknownRunError,
} from "./mod.ts";
import { resolveStateDir } from "../state/mod.ts";

/** Prints the evidence of run `options.run` of runbook `name`; returns the exit code. */
export async function printRunEvidence(
  name: string,
  options: { run?: string; format: string; stateDir?: string },
  shapeOf: ShapeReader,
): Promise<number> {
  if (!options.run) {
    throw new UsageError("--format html is for the evidence of a run: add --run RUN_ID");
  }
  if (!/^[A-Za-z0-9][\w.@-]*$/.test(options.run)) {
    throw new UsageError(
      `--run expects a run id such as 20261123T190102Z-a1b2c3, got "${options.run}"`,
    );
  }
  if (options.format === "text") {
    throw new UsageError("the evidence of a run prints as md, html or json");
  }
  const stateDir = resolveStateDir(options);
  let evidence;
  try {
    evidence = await loadEvidence(stateDir, options.run, shapeOf);
  } catch (error) {
    if (error instanceof UnknownRunError) throw new UsageError(error.message);
    throw error;
  }
  const runbook = name.replace(/^.*\//, "").replace(/\.ya?ml$/, "");
  if (evidence.runbook !== runbook) {
    throw new UsageError(`run ${options.run} is a run of ${evidence.runbook}, not of ${runbook}`);
  }
  Deno.stdout.writeSync(
    new TextEncoder().encode(formatEvidence(evidence, options.format as EvidenceFormat)),
  );
  return evidence.holds ? 0 : 1;
}
