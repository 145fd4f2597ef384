/**
 * Reading what the population is built from: the log lines, each run's success criteria from
 * its run record, and the default seed of the sample (the first checkpoint written at or after
 * the period's end, else the log's last entry — said plainly).
 *
 * @example
 * ```ts
 * import { loadPopulation, defaultSeed } from "./population_load.ts";
 * import { periodOf } from "./population.ts";
 * // const { population, lines } = await loadPopulation("/srv/state", periodOf("2026-Q3"));
 * // const seed = await defaultSeed("/srv/state", lines, periodOf("2026-Q3").to);
 * ```
 * @module
 */
import { join } from "node:path";
import { Buffer } from "node:buffer";
import {
  AuditInputError,
  auditPaths,
  type Checkpoint,
  parseCheckpoint,
  verifyAuditLog,
} from "../audit/mod.ts";
import { readRunRecord, type RunRecord } from "../state/runs.ts";
import type { Approver } from "../approval/mod.ts";
import type { LogLine } from "./build.ts";
import { readLogLines } from "./mod.ts";
import {
  buildPopulation,
  type CriteriaResult,
  type Population,
  type PopulationLog,
} from "./population.ts";
import type { SeedSource } from "./sample.ts";

/**
 * What a run's success criteria said, from its record (every node of a rollout).
 *
 * @example
 * ```ts
 * // criteriaOf(record); // "passed"
 * ```
 */
export function criteriaOf(record: RunRecord): CriteriaResult {
  const runs = record.nodes?.filter((node) => node.status !== "skipped") ?? [record];
  const steps = runs.flatMap((run) => run.steps.filter((step) => step.phase === "success"));
  if (steps.some((step) => step.status !== "success")) return "failed";
  if (steps.length) return "passed";
  return record.status === "success" ? "none" : "not_reached";
}

/**
 * The population of `period` from the audit log and run records of `stateDir`, with what
 * verifying the log said (`population.log`). A log that verifies gives its population from
 * exactly the entries verified; one that does not still gives one (the evidence pack shows it
 * beside the failure), which callers must not pass off as whole. The trust root is `pubkeyFile`
 * when given (kept off the host), else the state directory's keyring. Throws `AuditInputError`
 * when there is no log or trust root to verify against.
 *
 * @example
 * ```ts
 * // const { population } = await loadPopulation(stateDir, { from, to }, undefined, "/safe/root.pub");
 * // if (!population.log!.verified) console.error(population.log!.problem);
 * ```
 */
export async function loadPopulation(
  stateDir: string,
  period: { from: Date; to: Date },
  runbooks?: readonly string[],
  pubkeyFile?: string,
  approvers?: readonly Approver[],
): Promise<{ population: Population; lines: LogLine[] }> {
  const verdict = await verifyAuditLog(stateDir, { pubkeyFile });
  let lines = await readLogLines(stateDir);
  const log: PopulationLog = { verified: verdict.ok, entries: verdict.entries };
  if (verdict.ok) {
    // Entries appended since the verification wait for the next population.
    lines = lines.slice(0, verdict.entries);
    const last = lines.at(-1);
    if (last?.hash !== verdict.lastHash) {
      log.verified = false;
      log.problem = "the log changed while it was read: draw the population again";
    } else if (last) {
      log.last_seq = last.entry.seq;
      log.last_hash = last.hash;
    }
  } else {
    const bad = verdict.firstBad!;
    log.problem = `${bad.file}:${bad.line}: ${bad.reason} (${bad.detail})`;
  }
  const first = buildPopulation(lines, {
    ...period,
    now: new Date(),
    criteria: new Map(),
    runbooks,
    approvers,
  });
  const criteria = new Map<string, CriteriaResult>();
  for (const change of first.changes) {
    const record = await readRunRecord(stateDir, change.run).catch(() => undefined);
    criteria.set(change.run, record ? criteriaOf(record) : "unknown");
  }
  const population = buildPopulation(lines, {
    ...period,
    now: new Date(),
    criteria,
    runbooks,
    approvers,
  });
  return { population: { ...population, log }, lines };
}

/**
 * The default seed: the Merkle root of the first checkpoint written at or after `end` that the
 * log holds (signed by a key of its chain, over entries it still has: a file planted in the
 * checkpoints directory is skipped, and the source names it); without one, the hash of the
 * log's last entry (which changes as the log grows — so the source says so).
 *
 * @example
 * ```ts
 * // const { seed, source } = await defaultSeed(stateDir, lines, new Date("2026-10-01"));
 * ```
 */
export async function defaultSeed(
  stateDir: string,
  lines: readonly LogLine[],
  end: Date,
): Promise<SeedSource> {
  const dir = auditPaths(stateDir).checkpoints;
  const found: {
    ts: string;
    root: string;
    size: number;
    file: string;
    checkpoint: Checkpoint;
  }[] = [];
  try {
    for await (const item of Deno.readDir(dir)) {
      const ts = item.isFile ? checkpointTime(item.name) : undefined;
      if (!ts) continue;
      try {
        const cp = parseCheckpoint(await Deno.readTextFile(join(dir, item.name)), item.name);
        found.push({
          ts,
          root: Buffer.from(cp.root).toString("hex"),
          size: cp.size,
          file: item.name,
          checkpoint: cp,
        });
      } catch {
        // Not a checkpoint; audit:verify reports broken ones.
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const after = found.filter((cp) => Date.parse(cp.ts) >= end.getTime())
    .sort((a, b) => a.ts.localeCompare(b.ts));
  // The directory is the deploy user's to write: a file there is a seed only if this log holds
  // it (signed by a key of its chain, over entries it still has), or its root is anyone's pick.
  const skipped: string[] = [];
  for (const cp of after) {
    const why = await notHeld(stateDir, cp.checkpoint);
    if (why) {
      skipped.push(`${cp.file} (${why})`);
      continue;
    }
    return {
      seed: cp.root,
      source: `Merkle root of checkpoint ${cp.file} (${cp.size} entries, written ` +
        `${cp.ts}, the first at or after the period's end that this log holds; check it ` +
        `against your copy of the published checkpoints)` + skippedNote(skipped),
    };
  }
  const last = lines.at(-1);
  if (!last) return { seed: "empty-log", source: "the audit log is empty" + skippedNote(skipped) };
  return {
    seed: last.hash,
    source: `NO checkpoint at or after the period's end: fell back to the hash of the log's ` +
      `last entry (seq ${last.entry.seq}, ${last.entry.ts}), which changes as the log grows; ` +
      `write a checkpoint (audit:checkpoint), publish it, and draw the sample again` +
      skippedNote(skipped),
  };
}

// Why the log does not hold `checkpoint` (another key signed it, or its entries are not these),
// or undefined when it does.
async function notHeld(stateDir: string, checkpoint: Checkpoint): Promise<string | undefined> {
  try {
    const result = await verifyAuditLog(stateDir, { checkpoints: [checkpoint] });
    if (result.ok) return undefined;
    return result.firstBad!.reason;
  } catch (error) {
    if (error instanceof AuditInputError) return error.message;
    throw error;
  }
}

function skippedNote(skipped: readonly string[]): string {
  return skipped.length ? `; skipped, as this log does not hold them: ${skipped.join("; ")}` : "";
}

/** When a checkpoint file was written, from its name (`2026-10-01T00-00-00-000Z.txt`). */
function checkpointTime(name: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z\.txt$/.exec(name);
  return m ? `${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z` : undefined;
}
