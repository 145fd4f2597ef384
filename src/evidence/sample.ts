/**
 * The reproducible sample and the population's text forms (pure).
 *
 * The sample is the `size` changes with the smallest SHA-256(seed ‖ "\n" ‖ entry hash): anyone
 * holding the seed and the population recomputes it with `sha256sum`, and by default the seed is
 * a checkpoint's hash written after the period ended, so neither the auditee nor the auditor
 * chose it.
 *
 * @example
 * ```ts
 * import { drawSample } from "./sample.ts";
 * drawSample([], "seed", 25).length; // 0
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { type ChangeRow, exceptionsOf, type Population, type PopulationLog } from "./population.ts";

/**
 * The sample: `size` rows ranked by SHA-256(seed + "\n" + row hash), returned in log order.
 *
 * @example
 * ```ts
 * // drawSample(population.changes, seed, 25)
 * ```
 */
export function drawSample(rows: readonly ChangeRow[], seed: string, size: number): ChangeRow[] {
  const rank = (row: ChangeRow) =>
    createHash("sha256").update(`${seed}\n${row.hash}`).digest("hex");
  return rows.map((row) => ({ row, key: rank(row) }))
    .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    .slice(0, size)
    .map(({ row }) => row)
    .sort((a, b) => a.seq - b.seq);
}

const COLUMNS = [
  "ts",
  "run",
  "runbook",
  "subject",
  "nodes",
  "operator",
  "approvers",
  "approvers_blob",
  "result",
  "criteria",
  "early_gates",
  "request",
  "seq",
  "hash",
] as const;

/**
 * The approvers cell: names with the id of the key each signed with, or "emergency
 * (retro-review STATUS)", or "approval off (REASON)", or "none".
 */
export function approversCell(row: ChangeRow): string {
  if (row.authorization === "emergency") return `emergency (retro-review ${row.retro})`;
  if (row.authorization === "off") return `approval off (${row.approval_reason})`;
  return row.approvers.length
    ? row.approvers.map((name, i) => `${name} (key ${row.approver_keys[i]})`).join(" ")
    : "none";
}

function cells(row: ChangeRow): string[] {
  return COLUMNS.map((column) =>
    column === "nodes"
      ? row.nodes.join(" ")
      : column === "approvers"
      ? approversCell(row)
      : column === "early_gates"
      ? row.early_gates.join("; ")
      : String(row[column])
  );
}

/**
 * The rows as CSV (RFC 4180 quoting), one header line.
 *
 * @example
 * ```ts
 * populationCsv([]); // "ts,run,runbook,subject,nodes,operator,approvers,approvers_blob,result,criteria,early_gates,request,seq,hash\r\n"
 * ```
 */
export function populationCsv(rows: readonly ChangeRow[]): string {
  const quote = (cell: string) => /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
  return [COLUMNS.join(","), ...rows.map((row) => cells(row).map(quote).join(","))]
    .map((line) => line + "\r\n").join("");
}

/** Where the sample's seed came from. */
export interface SeedSource {
  seed: string;
  /** One sentence: which checkpoint or entry, and whether it was witnessed. */
  source: string;
}

/**
 * The population (and sample) as Markdown.
 *
 * @example
 * ```ts
 * // console.log(populationMarkdown(population, sample, seed));
 * ```
 */
export function populationMarkdown(
  population: Population,
  sample?: { rows: ChangeRow[]; seed: SeedSource },
): string {
  const table = (rows: readonly ChangeRow[]) => [
    `| ${COLUMNS.join(" | ")} |`,
    `|${COLUMNS.map(() => "---").join("|")}|`,
    ...rows.map((row) => `| ${cells(row).map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`),
  ];
  const ex = exceptionsOf(population);
  const lines = [
    `## Production changes ${population.from.slice(0, 10)} – ${
      new Date(Date.parse(population.to) - 1).toISOString().slice(0, 10)
    }`,
    "",
    `${population.changes.length} change(s); ${ex.unapproved.length} unapproved, ` +
    `${ex.approvalOff.length} with approval off, ` +
    `${ex.emergencyWithoutReview.length} emergency without retro-review, ` +
    `${ex.failed.length} failed, ${ex.earlyGates.length} with a gate acknowledged before its ` +
    `min_wait. ${population.drills.length} drill(s), listed apart.`,
    ...(population.log ? ["", logLine(population.log)] : []),
    "",
    ...table(population.changes),
  ];
  if (sample) {
    lines.push(
      "",
      `### Sample of ${sample.rows.length}`,
      "",
      `Seed \`${sample.seed.seed}\`: ${sample.seed.source}`,
      "",
      ...table(sample.rows),
    );
  }
  if (population.drills.length) {
    lines.push("", "### Drills (not changes)", "", "| ts | drill | runbook | result | seq |");
    lines.push("|---|---|---|---|---|");
    for (const d of population.drills) {
      lines.push(`| ${d.ts} | ${d.drill} | ${d.runbook} | ${d.result} | ${d.seq} |`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * One sentence on the log a population was drawn from: what lets an auditor check that it is
 * whole (the last entry's seq and SHA-256, against a checkpoint or their own copy).
 *
 * @example
 * ```ts
 * logLine({ verified: true, entries: 7, last_seq: 7, last_hash: "ab12" });
 * // "Drawn from the audit log's 7 entries, every signature verified; the last is seq 7, sha256 ab12."
 * ```
 */
export function logLine(log: PopulationLog): string {
  if (!log.verified) return `The audit log does NOT verify: ${log.problem ?? ""}`;
  return `Drawn from the audit log's ${log.entries} entries, every signature verified` +
    (log.last_hash ? `; the last is seq ${log.last_seq}, sha256 ${log.last_hash}.` : ".");
}

/**
 * The population's claims, one `seq sha256` line per change and drill: the log lines an
 * evidence pack's `verify` checks, and what it compares with the population drawn again.
 *
 * @example
 * ```ts
 * populationClaims({ from: "", to: "", changes: [], drills: [] }); // ""
 * ```
 */
export function populationClaims(population: Population): string {
  return [...population.changes, ...population.drills]
    .map((row) => `${row.seq} ${row.hash}\n`).join("");
}
