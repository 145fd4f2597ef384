/**
 * Drills for real: a sandbox of the demo app, every fault type injected (a webshell file, a
 * process running as xmrig, privileged compose, a 0644 key, an edited audit line, a release
 * answering 503), SOP 8 run against it, every fault detected by the real checks and removed;
 * and a fault the runbook cannot detect (a malicious dependency) reported as missed. The
 * detection rules are also tested as data.
 */
import { localEngine } from "../../src/runbook/local_engine.ts";
import assert from "node:assert/strict";
import { auditJournal } from "../../src/audit/journal.ts";
import { join } from "node:path";
import { readAuditEntries, verifyAuditLog } from "../../src/audit/mod.ts";
import {
  addPrivileged,
  checksIn,
  detection,
  type DrillReport,
  FAULT_TYPES,
  loadDrill,
  phaseOf,
  runDrill,
} from "../../src/drill/mod.ts";
import { cli, exclusive, exists, listDir, ROOT, tempWorld } from "../fixtures/helpers.ts";

Deno.test("drill rules as data: checks per policy output, detection by marker, phases", () => {
  const output = [
    "Security audit (security-audit) on local",
    "",
    "STATUS  SEVERITY  CHECK                 TITLE",
    "FAIL    critical  malicious-code        No malicious PHP code patterns",
    "    Code that evaluates strings",
    "    - /app/current/uploads/shell.php:3: eval: eval(",
    "PASS    high      file-permissions      Key 0600",
  ];
  const checks = checksIn(output);
  assert.equal(checks.get("malicious-code")?.status, "FAIL");
  assert.equal(checks.get("file-permissions")?.lines.length, 0);
  const step = {
    number: "1",
    name: "Detect: security:audit",
    kind: "policy",
    operand: "security-audit",
    status: "failure",
    started: "2026-01-01T00:00:00.000Z",
    finished: "2026-01-01T00:00:01.000Z",
    output,
  };
  const expected = ["security-audit/malicious-code"];
  assert.equal(
    detection({ detected_by: expected, marker: "uploads/shell.php" }, [step])?.check,
    "security-audit/malicious-code",
  );
  // The check failed, but not about this fault: not a detection.
  assert.equal(detection({ detected_by: expected, marker: "other.php" }, [step]), undefined);
  assert.equal(
    phaseOf({ name: "Switch current", number: "10.2", group: "Eradicate: x" }),
    "eradicate",
  );
  assert.equal(phaseOf({ name: "health", number: "S1" }), "recover");
  assert.equal(
    addPrivileged("services:\n  web:\n    image: x\n"),
    "services:\n  web:\n    privileged: true\n    image: x\n",
  );
});

Deno.test("shipped drills: SOP 8 with every fault type, and the four tabletop scenarios", async () => {
  const all = await loadDrill(ROOT, "incident-response");
  const required = FAULT_TYPES.filter((t) => t !== "malicious-dependency");
  assert.deepEqual(all.faults.map((f) => f.type).sort(), [...required].sort());
  for (const id of ["compromised-node", "leaked-key", "malicious-dependency", "failed-deploy"]) {
    const drill = await loadDrill(ROOT, id);
    assert.equal(drill.runbook, "incident-response");
  }
  const refused = await cli(["drill", "incident-response", "--target", "prod-1"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /protocol\.yaml/);
});

Deno.test(
  "drill incident-response: every fault type injected, detected and cleaned",
  exclusive("processes", async () => {
    const world = await tempWorld({ prefix: "drill-test-" });
    try {
      const drill = await loadDrill(ROOT, "incident-response");
      const report = await runDrill(drill, {
        engine: localEngine(ROOT),
        stateDir: world.stateDir,
        journal: auditJournal(world.stateDir),
      });
      for (const fault of report.faults) {
        assert.ok(fault.detected, `${fault.type} missed: ${JSON.stringify(report, null, 2)}`);
        assert.ok(fault.cleaned, `${fault.type} left: ${fault.leftover}`);
        assert.ok(fault.time_to_detect_ms! >= 0);
      }
      assert.deepEqual(
        Object.fromEntries(report.faults.map((f) => [f.type, f.detected_by])),
        {
          webshell: "security-audit/malicious-code", // the scan follows the current link
          miner: "security-audit/suspicious-processes",
          "privileged-compose": "security-audit/compose-risks",
          "world-readable-key": "security-audit/file-permissions",
          "audit-log-edit": "soc2/audit-logging",
          "failed-release": "health",
        },
      );
      assert.equal(report.missed, 0);
      assert.equal(report.cleaned, true);
      // SOP 8 contains and eradicates, but a world-readable key is SOP 7's to fix: the
      // security audit after recovery fails, so the drill says so and does not pass.
      assert.equal(report.passed, false);
      assert.ok(
        report.failures.some((f) => /recover phase failed: .*verify clean/.test(f)),
        report.failures.join("; "),
      );
      assert.deepEqual(report.phases.map((p) => p.phase), [
        "detect",
        "triage",
        "contain",
        "eradicate",
        "recover",
      ]);
      assert.equal(report.target_met, true);
      // Nothing left: the miner's process is gone, the sandbox directory removed.
      const pid = Number(/pid (\d+)/.exec(report.faults[1].what)![1]);
      assert.equal(await exists(`/proc/${pid}/cmdline`) && await isAlive(pid), false);
      assert.equal(await exists(report.sandbox), false);
      // The real log holds only drill-marked entries, and still verifies.
      const entries = await readAuditEntries(world.stateDir);
      assert.deepEqual(entries.map((e) => [e.action, e.drill, e.status]), [
        ["drill", true, "initiated"],
        ["drill", true, "failure"],
      ]);
      assert.equal((await verifyAuditLog(world.stateDir)).ok, true);
      assert.equal((await listDir(join(world.stateDir, "drills"))).length, 1);
    } finally {
      await world.cleanup();
    }
  }),
);

async function isAlive(pid: number): Promise<boolean> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  return stat !== "" && !/\) [ZX] /.test(stat);
}

Deno.test("drill malicious-dependency: a fault the runbook cannot detect is reported missed", async () => {
  const world = await tempWorld({ prefix: "drill-test-" });
  try {
    const result = await cli([
      "drill",
      "malicious-dependency",
      "--format",
      "json",
      "--state-dir",
      world.stateDir,
    ]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as DrillReport;
    assert.equal(report.missed, 1);
    assert.equal(report.faults[0].detected, false);
    assert.equal(report.cleaned, true);
    assert.equal(await exists(report.sandbox), false);
    assert.ok(report.follow_ups[0].startsWith("malicious-dependency"), report.follow_ups[0]);
    const md = await cli(["drill", "--list"]);
    assert.match(md.stdout, /malicious-dependency\s+P2/);
    const last = (await readAuditEntries(world.stateDir)).findLast((e) => e.action === "drill")!;
    assert.deepEqual([last.action, last.drill, last.missed, last.status], [
      "drill",
      true,
      1,
      "failure",
    ]);
  } finally {
    await world.cleanup();
  }
});
