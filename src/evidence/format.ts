/**
 * The evidence checklist as Markdown (pasted into a change ticket), HTML (printed or attached;
 * self-contained, no scripts) or JSON.
 *
 * @example
 * ```ts
 * import { formatEvidence } from "./format.ts";
 * // Deno.stdout.writeSync(new TextEncoder().encode(formatEvidence(evidence, "html")));
 * ```
 * @module
 */
import type { Evidence, EvidenceItem, EvidenceStep, RunEvidence } from "./build.ts";
import { gateTimingText } from "../state/gate_timing.ts";

/** The output formats. */
export type EvidenceFormat = "md" | "html" | "json";

const short = (hash?: string) => hash ? hash.slice(0, 16) : "—";

function stepFacts(step: EvidenceStep): string {
  const timing = gateTimingText(step);
  const facts = [
    step.exit_code !== undefined ? `exit ${step.exit_code}` : step.status,
    timing ? (step.early ? `**${timing}**` : timing) : "",
    step.seq !== undefined ? `audit seq ${step.seq}` : "",
    step.hash ? `sha256 ${step.hash}` : "",
  ].filter(Boolean);
  const flag = step.audit === "missing"
    ? ` — **NOT IN THE AUDIT LOG** (${step.detail})`
    : step.audit === "mismatch"
    ? ` — **DIFFERS FROM THE AUDIT LOG** (${step.detail})`
    : step.audit === "not_recorded"
    ? " — skipped, nothing ran"
    : "";
  return facts.join(" · ") + flag;
}

/** The closing line: whether `audit:verify` passes, in words an auditor can act on. */
export function closingLine(evidence: Evidence): string {
  const { log } = evidence;
  const verify = log.verified
    ? `\`audit:verify\` passes: ${log.entries} entries, every hash link and signature checked.`
    : `\`audit:verify\` FAILS (${log.problem}): this evidence cannot be relied on.`;
  const matched = evidence.holds
    ? "Every command above matches its signed audit entry."
    : log.verified
    ? "Some commands above do not match the audit log (marked)."
    : "";
  return [verify, matched].filter(Boolean).join(" ");
}

function mdItem(item: EvidenceItem): string[] {
  const box = item.ticked ? "x" : item.skipped ? "-" : " ";
  const head = `- [${box}] ${item.number}. ${item.text} — ${item.time} · ` +
    `${item.operator} · ${item.node}${item.skipped ? " · not applicable (skipped)" : ""}`;
  if (item.steps.length === 1 && item.steps[0].number === item.number) {
    return [`${head} · ${stepFacts(item.steps[0])}`];
  }
  return [
    head,
    ...item.steps.map((step) => `  - ${step.number} ${step.name}: ${stepFacts(step)}`),
  ];
}

function mdRun(run: RunEvidence, lines: string[]): void {
  lines.push(
    "",
    `### ${run.title} on ${run.node} — run \`${run.run}\`: ${run.status}${
      run.reason ? ` (${run.reason})` : ""
    }`,
  );
  for (const section of run.sections) {
    lines.push("", `**${section.title}:**`, "");
    for (const item of section.items) lines.push(...mdItem(item));
  }
  if (run.closing) {
    lines.push(
      "",
      `Run closed in the audit log: seq ${run.closing.seq} (status ${run.closing.status}), ` +
        `sha256 ${run.closing.hash}`,
    );
  }
}

function markdown(evidence: Evidence): string {
  const params = Object.entries(evidence.params).map(([k, v]) => `${k}=${v}`).join(" ");
  const lines = [
    `## Evidence: ${evidence.title}`,
    "",
    `Run \`${evidence.run}\` of runbook \`${evidence.runbook}\`${params ? ` · ${params}` : ""}`,
    `Operator ${evidence.operator} on ${evidence.host} · target ${evidence.target} · ` +
    `${evidence.started} → ${evidence.finished ?? "(not finished)"} · **${evidence.status}**`,
    `Approval: ${approvalText(evidence)}`,
    `Human items: ${humanItemsText(counts(evidence))}`,
  ];
  for (const run of evidence.runs) mdRun(run, lines);
  lines.push("", "---", "", closingLine(evidence));
  return lines.join("\n") + "\n";
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function htmlRun(run: RunEvidence): string {
  if (run.status === "skipped") {
    // A node that never started has nothing to tick: one line, not an empty table.
    return `<p class="skipped"><b>${escape(run.node)}</b>: not started${
      run.reason ? ` — ${escape(run.reason)}` : ""
    }</p>`;
  }
  const rows = run.sections.map((section) => {
    const items = section.items.flatMap((item) =>
      item.steps.map((step, i) =>
        `<tr${step.audit === "missing" || step.audit === "mismatch" ? ' class="bad"' : ""}>` +
        (i === 0
          ? `<td rowspan="${item.steps.length}" class="box">${
            item.ticked ? "&#9745;" : item.skipped ? "n/a" : "&#9744;"
          }</td>` +
            `<td rowspan="${item.steps.length}">${escape(item.number)}. ${escape(item.text)}</td>`
          : "") +
        `<td>${escape(step.number)} ${escape(step.name)}</td>` +
        `<td class="nowrap">${escape(step.started)}</td>` +
        `<td>${escape(item.operator)}</td><td class="nowrap">${escape(item.node)}</td>` +
        `<td${step.early ? ' class="early"' : ""}>${step.exit_code ?? escape(step.status)}${
          gateTimingText(step) ? `<br><small>${escape(gateTimingText(step)!)}</small>` : ""
        }</td><td>${step.seq ?? "—"}</td>` +
        `<td class="hash" title="${step.hash ?? ""}">${short(step.hash)}</td>` +
        `<td>${escape(step.audit)}${step.detail ? `: ${escape(step.detail)}` : ""}</td></tr>`
      )
    );
    return `<tr class="section"><th colspan="10">${escape(section.title)}</th></tr>${
      items.join("\n")
    }`;
  });
  return `<h2>${escape(run.title)} on ${escape(run.node)}: ${escape(run.status)}</h2>
<p>Run <code>${escape(run.run)}</code>${run.reason ? ` — ${escape(run.reason)}` : ""}${
    run.closing
      ? `; closed in the audit log at seq ${run.closing.seq}, sha256 <code>${run.closing.hash}</code>`
      : ""
  }</p>
<table>
<tr><th></th><th>Item</th><th>Command</th><th>Time</th><th>Operator</th><th>Node</th><th>Exit</th><th>Seq</th><th>Entry SHA-256</th><th>Audit</th></tr>
${rows.join("\n")}
</table>`;
}

function html(evidence: Evidence): string {
  const params = Object.entries(evidence.params).map(([k, v]) => `${k}=${v}`).join(" ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Evidence: ${escape(evidence.title)} (${escape(evidence.run)})</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5em; }
th, td { border: 1px solid #999; padding: 4px 6px; text-align: left; vertical-align: top; }
tr.section th { background: #eee; }
tr.bad td { background: #fdd; }
td.box { font-size: 1.4em; text-align: center; }
td.early { background: #ffe9b3; font-weight: bold; }
td.hash, code { font-family: ui-monospace, monospace; }
.closing { font-weight: bold; }
.nowrap { white-space: nowrap; }
#summary { border: 2px solid #999; padding: 0.5em 1em; margin-bottom: 1.5em; }
#summary dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 1em; margin: 0; }
#summary dt { font-weight: bold; }
</style></head><body>
<h1>Evidence: ${escape(evidence.title)}</h1>
${htmlSummary(evidence)}
<p>Run <code>${escape(evidence.run)}</code> of runbook <code>${escape(evidence.runbook)}</code>${
    params ? ` · ${escape(params)}` : ""
  }<br>Operator ${escape(evidence.operator)} on ${escape(evidence.host)} · target ${
    escape(evidence.target)
  } · ${escape(evidence.started)} → ${escape(evidence.finished ?? "(not finished)")} · <b>${
    escape(evidence.status)
  }</b></p>
${evidence.runs.map(htmlRun).join("\n")}
<p class="closing">${escape(closingLine(evidence)).replace(/`([^`]+)`/g, "<code>$1</code>")}</p>
</body></html>
`;
}

/** How many human items were confirmed at a terminal, acknowledged (`--yes`), not applicable. */
function counts(
  evidence: Evidence,
): { confirmed: number; acknowledged: number; early: number; na: number } {
  const items = evidence.runs.flatMap((run) => run.sections.flatMap((s) => s.items));
  const steps = items.flatMap((item) => item.steps);
  return {
    confirmed: steps.filter((step) => step.status === "confirmed").length,
    acknowledged: steps.filter((step) => step.status === "acknowledged").length,
    early: steps.filter((step) => step.early).length,
    na: items.filter((item) => item.skipped).length,
  };
}

/**
 * How the run was authorized: the request and each approver with their key id, an emergency,
 * the project's `approval: { mode: off }`, or nothing.
 */
function approvalText(evidence: Evidence): string {
  if (evidence.emergency) return `emergency change ${evidence.request} (no prior approval)`;
  if (evidence.request) {
    const signed = evidence.approvals?.map((a) => `${a.name} (key ${a.key_id}, ${a.ts})`);
    return `${signed?.join(", ") || "none recorded"} — request ${evidence.request}`;
  }
  if (evidence.approval_off !== undefined) {
    return `approval off for this project (protocol.yaml): "${evidence.approval_off}"`;
  }
  return "no change request";
}

function humanItemsText(c: ReturnType<typeof counts>): string {
  return `${c.confirmed} confirmed at a terminal, ${c.acknowledged} acknowledged (--yes)` +
    (c.early ? `, ${c.early} of them early (before their min_wait)` : "");
}

function htmlSummary(evidence: Evidence): string {
  const c = counts(evidence);
  const nodes = evidence.runs.filter((run) => !run.run.includes("."))
    .map((run) => `${run.node} (${run.status})`);
  const row = (term: string, value: string) => `<dt>${term}</dt><dd>${escape(value)}</dd>`;
  return `<section id="summary"><dl>
${row("Result", evidence.status)}
${row("Operator", evidence.operator)}
${row("Approvers", approvalText(evidence))}
${row("Nodes", nodes.join(", "))}
${
    row(
      "Human items",
      humanItemsText(c),
    )
  }
${row("Not applicable", String(c.na))}
</dl></section>`;
}

/**
 * Renders the evidence.
 *
 * @example
 * ```ts
 * // formatEvidence(evidence, "md").endsWith("audit:verify` passes: ...\n")
 * ```
 */
export function formatEvidence(evidence: Evidence, format: EvidenceFormat): string {
  if (format === "json") return JSON.stringify(evidence, null, 2) + "\n";
  return format === "html" ? html(evidence) : markdown(evidence);
}
