/**
 * The evidence pack's `index.html` (pure): the summary first (counts and exceptions), then the
 * sample with a link to each sampled change's evidence checklist, the population, drills,
 * controls, keys, and how to verify — readable offline, no script or style fetched.
 *
 * @example
 * ```ts
 * import { packIndexHtml } from "./pack_html.ts";
 * // const html = packIndexHtml({ label: "2026-Q3", population, sample, seed, ... });
 * ```
 * @module
 */
import type { RetroReview } from "../approval/mod.ts";
import type { LogVerdict } from "./build.ts";
import { type ChangeRow, exceptionsOf, isException, type Population } from "./population.ts";
import { approversCell, type SeedSource } from "./sample.ts";

/** Everything the index shows. */
export interface PackIndex {
  label: string;
  generated: string;
  population: Population;
  sample: ChangeRow[];
  seed: SeedSource;
  log: LogVerdict;
  /** Ids of the schedule's overdue controls (and overdue retro-reviews). */
  overdueControls: string[];
  retro: RetroReview[];
  /** Other control activity of the period: action → count (policy runs, key rotations…). */
  controls: [string, number][];
  /** People's public keys seen in the period's requests and approvals. */
  people: [string, string][];
  auditKeys: [string, string][];
  checkpoints: string[];
  /** Run ids whose evidence checklist is in `changes/`. */
  evidence: Set<string>;
}

const esc = (text: unknown) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

function changeTable(rows: readonly ChangeRow[], evidence: Set<string>): string {
  const head = "<tr><th>Time</th><th>Run</th><th>Runbook</th><th>Version / env</th>" +
    "<th>Nodes</th><th>Operator</th><th>Approvers</th><th>Result</th><th>Success criteria</th>" +
    "<th>Gates acknowledged early</th>" +
    "<th>Request</th><th>Audit seq</th><th>Entry SHA-256</th></tr>";
  const body = rows.map((row) => {
    const bad = isException(row);
    const run = evidence.has(row.run)
      ? `<a href="changes/${esc(row.run)}.html">${esc(row.run)}</a>`
      : esc(row.run);
    return `<tr${bad ? ' class="bad"' : ""}><td class="nowrap">${esc(row.ts)}</td><td>${run}</td>` +
      `<td>${esc(row.runbook)}</td><td>${esc(row.subject)}</td>` +
      `<td class="nowrap">${esc(row.nodes.join(", "))}</td><td>${esc(row.operator)}</td>` +
      `<td>${esc(approversCell(row))}</td><td>${esc(row.result)}</td>` +
      `<td>${esc(row.criteria)}</td><td>${esc(row.early_gates.join("; ") || "—")}</td>` +
      `<td class="nowrap">${esc(row.request || "—")}</td><td>${row.seq}</td>` +
      `<td class="hash">${esc(row.hash)}</td></tr>`;
  }).join("\n");
  return `<table>${head}\n${body}</table>`;
}

function list(
  title: string,
  rows: readonly ChangeRow[],
  extra: (row: ChangeRow) => string = () => "",
): string {
  if (!rows.length) return `<li>${esc(title)}: none</li>`;
  return `<li><b>${esc(title)}: ${rows.length}</b> — ${
    rows.map((r) => `${esc(r.run)} (${esc(r.runbook)}, seq ${r.seq}${esc(extra(r))})`).join("; ")
  }</li>`;
}

const offReason = (row: ChangeRow) => `, reason: "${row.approval_reason ?? ""}"`;
const earlyList = (row: ChangeRow) => `: ${row.early_gates.join("; ")}`;

/**
 * Renders `index.html`.
 *
 * @example
 * ```ts
 * // await Deno.writeTextFile(join(out, "index.html"), packIndexHtml(index));
 * ```
 */
export function packIndexHtml(index: PackIndex): string {
  const { population } = index;
  const ex = exceptionsOf(population);
  const approved = population.changes.filter((c) => c.authorization === "approved").length;
  const emergency = population.changes.filter((c) => c.authorization === "emergency").length;
  const clean = !ex.unapproved.length && !ex.approvalOff.length &&
    !ex.emergencyWithoutReview.length && !ex.earlyGates.length &&
    !ex.failed.length && !index.overdueControls.length && index.log.verified;
  const end = new Date(Date.parse(population.to) - 1).toISOString().slice(0, 10);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Evidence pack ${esc(index.label)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; max-width: 1400px; }
#summary { border: 3px solid ${clean ? "#2a7" : "#c33"}; background: ${
    clean ? "#eafaf1" : "#fdecec"
  }; padding: 1em 1.5em; margin-bottom: 2em; }
#summary h2 { margin-top: 0; }
.counts { display: flex; gap: 2em; flex-wrap: wrap; }
.counts div { font-size: 1.1em; } .counts b { font-size: 1.8em; display: block; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; font-size: 12px; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; } tr.bad td { background: #fdd; }
.nowrap { white-space: nowrap; } td.hash, code { font-family: ui-monospace, monospace; font-size: 11px; word-break: break-all; }
</style></head><body>
<h1>Evidence pack ${esc(index.label)}: ${esc(population.from.slice(0, 10))} – ${esc(end)}</h1>
<section id="summary">
<h2>Summary</h2>
<div class="counts">
<div><b>${population.changes.length}</b>production changes</div>
<div><b>${approved}</b>approved before they ran</div>
<div><b>${emergency}</b>emergency changes</div>
<div><b>${ex.unapproved.length}</b>unapproved</div>
<div><b>${ex.approvalOff.length}</b>with approval off</div>
<div><b>${ex.failed.length}</b>failed</div>
<div><b>${ex.earlyGates.length}</b>with a gate acknowledged early</div>
<div><b>${index.sample.length}</b>sampled</div>
<div><b>${population.drills.length}</b>drills (not changes)</div>
</div>
<h3>Exceptions</h3>
<ul>
${list("Unapproved changes", ex.unapproved)}
${list("Changes run with approval off (protocol.yaml)", ex.approvalOff, offReason)}
${list("Emergency changes without a signed retro-review", ex.emergencyWithoutReview)}
${list("Failed changes", ex.failed)}
${list("Gates acknowledged before their min_wait (--yes)", ex.earlyGates, earlyList)}
<li>${
    index.overdueControls.length
      ? `<b>Overdue controls: ${esc(index.overdueControls.join(", "))}</b>`
      : "Overdue controls: none"
  }</li>
<li>${
    index.log.verified
      ? `Audit log verifies: ${index.log.entries} entries, every hash link and signature checked.`
      : `<b>Audit log does NOT verify: ${esc(index.log.problem ?? "")}</b>`
  }</li>
</ul>
<p>Sample seed <code>${esc(index.seed.seed)}</code>: ${esc(index.seed.source)}.</p>
</section>
<h2>Sample (${index.sample.length})</h2>
<p>The ${index.sample.length} changes with the smallest <code>sha256(seed + "\\n" + entry hash)</code>;
each run links to its evidence checklist.</p>
${changeTable(index.sample, index.evidence)}
<h2>Population (${population.changes.length})</h2>
${changeTable(population.changes, index.evidence)}
<h2>Emergency changes and their retro-reviews</h2>
${
    index.retro.length
      ? `<table><tr><th>Request</th><th>Runbook</th><th>Operator</th><th>Reason</th><th>Due</th><th>Status</th></tr>\n${
        index.retro.map((r) =>
          `<tr${r.status === "reviewed" ? "" : ' class="bad"'}><td>${esc(r.request)}</td><td>${
            esc(r.runbook)
          }</td><td>${esc(r.operator)}</td><td>${esc(r.reason)}</td><td class="nowrap">${
            esc(r.due)
          }</td><td>${
            esc(
              r.status === "reviewed" ? `reviewed by ${r.reviewedBy} at ${r.reviewedAt}` : r.status,
            )
          }</td></tr>`
        ).join("\n")
      }</table>`
      : "<p>None.</p>"
  }
<h2>Drills (listed apart, never counted as changes)</h2>
${
    population.drills.length
      ? `<table><tr><th>Time</th><th>Drill</th><th>Runbook</th><th>Result</th><th>Audit seq</th><th>Entry SHA-256</th></tr>\n${
        population.drills.map((d) =>
          `<tr><td class="nowrap">${esc(d.ts)}</td><td>${esc(d.drill)}</td><td>${
            esc(d.runbook)
          }</td><td>${esc(d.result)}</td><td>${d.seq}</td><td class="hash">${esc(d.hash)}</td></tr>`
        ).join("\n")
      }</table>`
      : "<p>No drill in the period.</p>"
  }
<h2>Other control activity in the period</h2>
<ul>${
    index.controls.map(([action, n]) => `<li><code>${esc(action)}</code>: ${n}</li>`).join("")
  }</ul>
<h2>Public keys</h2>
<h3>Audit log signing keys (<code>log/audit-keyring.json</code>)</h3>
<ul>${
    index.auditKeys.map(([kid, key]) => `<li><code>${esc(kid)}</code> ${esc(key)}</li>`).join("")
  }</ul>
<h3>People who requested or approved changes</h3>
<ul>${
    index.people.map(([name, key]) => `<li>${esc(name)} <code>${esc(key)}</code></li>`).join("")
  }</ul>
<h3>Checkpoints (<code>log/checkpoints/</code>)</h3>
<ul>${
    index.checkpoints.map((c) => `<li><code>${esc(c)}</code></li>`).join("") || "<li>none</li>"
  }</ul>
<h2>Verify</h2>
<p><code>sh verify</code> checks, with plain shell tools, that every change claimed here is the
line of the copied log whose SHA-256 it names and that the copied log's hash chain is unbroken;
with the tool installed it also checks every signature (<code>audit:verify</code>).</p>
<p>Generated ${esc(index.generated)}.</p>
</body></html>
`;
}
