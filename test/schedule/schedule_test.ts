/**
 * The schedule of recurring controls: judged as data over a constructed log (overdue and
 * current items side by side), and end to end through the CLI over a real signed log.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { appendAudit, type AuditEntry, generateSigningKey } from "../../src/audit/mod.ts";
import { evaluateSchedule, loadSchedule, parseSchedule } from "../../src/schedule/mod.ts";
import { formatSchedule } from "../../src/schedule/format.ts";
import { ensureStateDir } from "../../src/state/mod.ts";
import { cli, ROOT } from "../fixtures/helpers.ts";

const DAY = 86_400_000;
const NOW = new Date("2026-06-30T12:00:00Z");
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

/** A constructed log: only the fields the schedule reads. */
function log(...rows: Record<string, string | number | boolean>[]): AuditEntry[] {
  return rows.map((row, i) =>
    ({ seq: i + 1, host: "h", user: "u", prev: "", kid: "", sig: "", ...row }) as AuditEntry
  );
}

Deno.test("schedule: overdue and current controls from a constructed log", async () => {
  const schedule = await loadSchedule(join(ROOT, "policies", "schedule.yaml"));
  const entries = log(
    // Key rotated 120 days ago: overdue (90 days).
    { ts: ago(120), action: "secrets", operation: "rotate", status: "success" },
    // A drill 200 days ago: current (yearly).
    {
      ts: ago(200),
      action: "drill",
      drill: true,
      runbook: "incident-response",
      status: "success",
    },
    // A failed drill 5 days ago: not a drill done (the last one done stays the one above).
    {
      ts: ago(5),
      action: "drill",
      drill: true,
      runbook: "incident-response",
      status: "failure",
    },
    // A drill's own security audit, 1 day ago: must not count as the weekly audit.
    { ts: ago(1), action: "policy", policy: "security-audit", drill: true, status: "failure" },
    // The weekly audit 3 days ago (current), with its run...
    { ts: ago(3), action: "policy", policy: "security-audit", run: "R1", status: "success" },
    // ...and a deployment 2 days ago whose run had a SOC 2 check but no security audit.
    { ts: ago(2), action: "policy", policy: "soc2", run: "R2@web-1", status: "success" },
    { ts: ago(2), action: "deploy", to: "v1.2.0", run: "R2", status: "success" },
    // A failed deployment afterwards does not count as a deployment.
    { ts: ago(1), action: "deploy", to: "v1.3.0", run: "R3", status: "failure" },
  );
  const report = evaluateSchedule(schedule, entries, NOW);
  const by = Object.fromEntries(report.controls.map((c) => [c.id, c]));

  assert.equal(by["key-rotation"].status, "overdue");
  assert.match(by["key-rotation"].reasons[0], /seq 1.*due every 90d/);
  assert.equal(by["incident-response-drill"].status, "current");
  assert.equal(by["incident-response-drill"].last?.status, "success", "a failed drill is not done");
  assert.equal(
    by["incident-response-drill"].next_due,
    new Date(NOW.getTime() + 165 * DAY).toISOString(),
  );
  // The weekly part is met by seq 5, not the drill's seq 4; the deployment (seq 7) is not.
  assert.equal(by["security-audit"].last?.seq, 5);
  assert.equal(by["security-audit"].status, "overdue");
  assert.equal(by["security-audit"].deployment?.entry.seq, 7);
  assert.equal(by["security-audit"].deployment?.covered_by, undefined);
  assert.match(by["security-audit"].reasons.join(), /latest deployment \(seq 7.*run R2\)/);
  assert.equal(by["soc2-check"].status, "current");
  assert.equal(by["soc2-check"].deployment?.covered_by?.seq, 6);
  assert.equal(by["dependency-audit"].status, "current");
  assert.equal(by["siem-review"].status, "not_recorded");
  assert.deepEqual(report.overdue, ["security-audit", "key-rotation"]);

  // Ten days on, the weekly audits are overdue too; the drill still is not.
  const later = evaluateSchedule(schedule, entries, new Date(NOW.getTime() + 10 * DAY));
  assert.deepEqual(later.overdue, ["security-audit", "key-rotation", "dependency-audit"]);
});

Deno.test("schedule: a dependency audit that did not apply is not applicable, not done", async () => {
  const schedule = await loadSchedule(join(ROOT, "policies", "schedule.yaml"));
  const audit = (days: number, extra: Record<string, string> = {}) => ({
    ts: ago(days),
    action: "policy",
    policy: "security-audit",
    status: "success",
    ...extra,
  });
  const judge = (...rows: Record<string, string | number | boolean>[]) =>
    evaluateSchedule(schedule, log(...rows), NOW).controls.find((c) =>
      c.id === "dependency-audit"
    )!;
  // The last security audit found no composer.json: nothing was audited, so nothing is done.
  const na = judge(audit(10), audit(2, { not_applicable: "dependencies" }));
  assert.equal(na.status, "not_applicable");
  assert.equal(na.last?.seq, 2);
  assert.match(na.reasons.join(), /did not apply .*seq 2/);
  // A skipped dependency check (no composer on the node) is not evidence either.
  const skipped = judge(audit(2, { skipped: "dependencies,compose-risks" }));
  assert.equal(skipped.status, "overdue");
  assert.match(skipped.reasons.join(), /never done/);
  // A run of another single check says nothing about dependencies.
  assert.equal(judge(audit(2, { policy: "security-audit/compose-risks" })).status, "overdue");
  // Where it ran, it is done.
  assert.equal(judge(audit(2, { not_applicable: "compose-risks" })).status, "current");
  assert.equal(judge(audit(2, { policy: "security-audit/dependencies" })).status, "current");
  // The markdown says so.
  const md = formatSchedule({
    ...evaluateSchedule(schedule, log(audit(2, { not_applicable: "dependencies" })), NOW),
    log: { path: "log", verified: true, entries: 1 },
  }, "md");
  assert.match(md, /\| Dependency audit \| Weekly \(automated via CI\) \| .* \| not applicable \|/);
});

Deno.test("schedule: a file without a due rule is refused with its position", () => {
  assert.throws(
    () =>
      parseSchedule(
        "s.yaml",
        "id: s\ntitle: S\ndeployment: {action: deploy}\ncontrols:\n  - id: x\n    title: X\n" +
          "    frequency: sometimes\n    evidence: {action: x}\n",
      ),
    (error: Error & { problems?: { line: number; message: string }[] }) =>
      error.problems?.[0].line === 5 && /needs `every`/.test(error.problems[0].message),
  );
});

Deno.test("schedule CLI: a real signed log, exit 1 while overdue, 0 once current", async () => {
  const dir = await Deno.makeTempDir({ prefix: "schedule-test-" });
  try {
    const stateDir = await ensureStateDir(join(dir, "state"));
    await generateSigningKey(stateDir);
    const args = ["schedule", "--state-dir", stateDir, "--format", "json"];
    await appendAudit(stateDir, { action: "deploy", to: "v1.2.0", run: "D1", status: "success" });
    await appendAudit(stateDir, {
      action: "policy",
      policy: "soc2",
      run: "D1",
      status: "success",
    });
    const first = await cli(args);
    assert.equal(first.code, 1, first.stderr);
    const report = JSON.parse(first.stdout);
    assert.equal(report.log.verified, true);
    assert.ok(report.overdue.includes("security-audit"));
    assert.ok(!report.overdue.includes("soc2-check"));

    await appendAudit(stateDir, {
      action: "policy",
      policy: "security-audit",
      run: "D1",
      status: "success",
    });
    await appendAudit(stateDir, { action: "secrets", operation: "setup", status: "success" });
    await appendAudit(stateDir, {
      action: "drill",
      drill: true,
      runbook: "incident-response",
      status: "success",
    });
    const recorded = await cli([...args, "--record", "siem-review"]);
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    const current = JSON.parse(recorded.stdout);
    assert.deepEqual(current.overdue, []);
    assert.ok(current.controls.every((c: { status: string }) => c.status === "current"));

    // A day and a half later the daily SIEM review is due again; in 100 days, key rotation.
    const soon = await cli([...args, "--now", new Date(Date.now() + 1.5 * DAY).toISOString()]);
    assert.equal(soon.code, 1);
    assert.deepEqual(JSON.parse(soon.stdout).overdue, ["siem-review"]);
    const md = await cli([
      "schedule",
      "--state-dir",
      stateDir,
      "--now",
      new Date(Date.now() + 100 * DAY).toISOString(),
    ]);
    assert.equal(md.code, 1);
    assert.match(md.stdout, /\| Key rotation \| Quarterly \(90 days\) \| .* \| \*\*OVERDUE\*\* \|/);
    assert.match(md.stdout, /Audit log verifies/);

    const refused = await cli([...args, "--record", "key-rotation"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--record takes a control done outside this tool \(siem-review\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
