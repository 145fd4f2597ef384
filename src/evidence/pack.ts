/**
 * `evidence:pack`: writes a folder an auditor can open offline — `index.html` (summary first),
 * the population and sample as CSV and JSON, each sampled change's evidence checklist in
 * `changes/`, a copy of the audit log with its keyring and checkpoints in `log/`, and a `verify`
 * script that checks every claimed entry against that copy.
 *
 * @example
 * ```ts
 * import { writeEvidencePack } from "./pack.ts";
 * // const summary = await writeEvidencePack({ stateDir, root, label: "2026-Q3", out: "pack" });
 * ```
 * @module
 */
import { basename, join } from "node:path";
import { retroReviews } from "../approval/mod.ts";
import { auditPaths } from "../audit/mod.ts";
import { historyFiles } from "../audit/paths.ts";
import { evaluateSchedule, loadSchedule } from "../schedule/mod.ts";
import { formatEvidence } from "./format.ts";
import { loadEvidence, type ShapeReader } from "./mod.ts";
import { CHANGE_RUNBOOKS, isException, periodOf, type PopulationLog } from "./population.ts";
import { defaultSeed, loadPopulation } from "./population_load.ts";
import { drawSample, populationClaims, populationCsv, type SeedSource } from "./sample.ts";
import { packIndexHtml } from "./pack_html.ts";
import { verifyScript } from "./verify_script.ts";

/** What a pack is made from. */
export interface PackOptions {
  stateDir: string;
  root: string;
  /** Checklist shapes of the runbooks (the CLI passes `checklistShapes(root)`). */
  shapeOf: ShapeReader;
  /** `2026-Q3`, or a `FROM..TO` day range. */
  label: string;
  out: string;
  sampleSize?: number;
  seed?: string;
  now?: Date;
  /** The change runbooks (default: SOP 1–7's). */
  runbooks?: readonly string[];
}

/** What was written. */
export interface PackSummary {
  out: string;
  changes: number;
  sampled: number;
  exceptions: number;
  seed: SeedSource;
  /** What verifying the log said: a pack of a log that does not verify is no clean bill. */
  log: PopulationLog;
}

/**
 * Writes the pack to `options.out` (which must not exist, or be empty).
 *
 * @example
 * ```ts
 * // await writeEvidencePack({ stateDir, root, label: "2026-Q3", out: "/tmp/pack-2026-Q3" });
 * ```
 */
export async function writeEvidencePack(options: PackOptions): Promise<PackSummary> {
  const [from, to] = options.label.split("..");
  const period = periodOf(from, to);
  const now = options.now ?? new Date();
  const { stateDir, out } = options;
  const { population, lines } = await loadPopulation(stateDir, period, options.runbooks);
  const seed = options.seed !== undefined
    ? { seed: options.seed, source: "given with --seed" }
    : await defaultSeed(stateDir, lines, period.to);
  const sample = drawSample(population.changes, seed.seed, options.sampleSize ?? 25);
  await Deno.mkdir(join(out, "changes"), { recursive: true });
  await Deno.mkdir(join(out, "log", "checkpoints"), { recursive: true });

  const evidence = new Set<string>();
  for (const change of sample) {
    try {
      const html = formatEvidence(
        await loadEvidence(stateDir, change.run, options.shapeOf),
        "html",
      );
      await Deno.writeTextFile(join(out, "changes", `${change.run}.html`), html);
      evidence.add(change.run);
    } catch {
      // No run record (pruned or another host's): the row still stands on its audit entry.
    }
  }
  const history = await historyFiles(stateDir);
  const copied: string[] = [];
  for (const file of history) {
    const target = join(out, "log", basename(file));
    try {
      await Deno.copyFile(file, target);
      copied.push(basename(file));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const paths = auditPaths(stateDir);
  const keyring = await Deno.readTextFile(paths.keyring).catch(() => "{}");
  await Deno.writeTextFile(join(out, "log", "audit-keyring.json"), keyring);
  const checkpoints: string[] = [];
  try {
    for await (const item of Deno.readDir(paths.checkpoints)) {
      if (!item.isFile) continue;
      const target = join(out, "log", "checkpoints", item.name);
      await Deno.copyFile(join(paths.checkpoints, item.name), target);
      checkpoints.push(item.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }

  const entries = lines.map((l) => l.entry);
  const retro = retroReviews(entries, now).filter((r) => {
    const t = Date.parse(r.opened);
    return t >= period.from.getTime() && t < period.to.getTime();
  });
  let overdueControls: string[] = [];
  try {
    const schedule = await loadSchedule(join(options.root, "policies", "schedule.yaml"));
    overdueControls = evaluateSchedule(schedule, entries, now).overdue;
  } catch {
    overdueControls = ["(schedule.yaml could not be read)"];
  }
  overdueControls.push(
    ...retro.filter((r) => r.status === "overdue").map((r) => `retro-review ${r.request}`),
  );
  const controls = new Map<string, number>();
  // Keyed by name and key: two keys signing under one name (a swapped approvers file) both show.
  const people = new Map<string, [string, string]>();
  for (const { entry } of lines) {
    const t = Date.parse(entry.ts);
    if (t < period.from.getTime() || t >= period.to.getTime()) continue;
    if (["policy", "secrets", "key.rotated", "review", "drill"].includes(entry.action)) {
      const key = entry.action === "secrets" ? `secrets ${entry.operation ?? ""}` : entry.action;
      controls.set(key, (controls.get(key) ?? 0) + 1);
    }
    for (
      const [name, key] of [[entry.operator, entry.operator_key], [
        entry.approver,
        entry.approver_key,
      ]]
    ) {
      if (typeof key === "string") people.set(`${name} ${key}`, [String(name), key]);
    }
  }
  const auditKeys = Object.entries(
    (JSON.parse(keyring) as { keys?: Record<string, { public_key: string }> }).keys ?? {},
  ).map(([kid, key]) => [kid, key.public_key] as [string, string]);

  await Deno.writeTextFile(join(out, "population.csv"), populationCsv(population.changes));
  await Deno.writeTextFile(join(out, "sample.csv"), populationCsv(sample));
  await Deno.writeTextFile(
    join(out, "population.json"),
    JSON.stringify({ ...population, sample: { seed, rows: sample } }, null, 2) + "\n",
  );
  await Deno.writeTextFile(join(out, "claims.txt"), populationClaims(population));
  const drawn = {
    from: population.from.slice(0, 10),
    to: new Date(Date.parse(population.to) - 1).toISOString().slice(0, 10),
    runbooks: options.runbooks ?? CHANGE_RUNBOOKS,
  };
  await Deno.writeTextFile(join(out, "verify"), verifyScript(copied, drawn), { mode: 0o755 });
  await Deno.chmod(join(out, "verify"), 0o755);
  await Deno.writeTextFile(
    join(out, "index.html"),
    packIndexHtml({
      label: options.label,
      generated: now.toISOString(),
      population,
      sample,
      seed,
      log: population.log!,
      overdueControls,
      retro,
      controls: [...controls].sort(),
      people: [...people.values()].sort(),
      auditKeys,
      checkpoints: checkpoints.sort(),
      evidence,
    }),
  );
  const exceptions = population.changes.filter(isException).length;
  return {
    out,
    changes: population.changes.length,
    sampled: sample.length,
    exceptions,
    seed,
    log: population.log!,
  };
}
