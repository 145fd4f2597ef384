/**
 * The policy commands end to end, as a user types them: every command, every format, exit
 * codes 0/1/2, --strict, waivers (valid and expired), bad policy files with file:line:col, and
 * the audit entry each run leaves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { auditPaths, readAuditEntries } from "../../src/audit/mod.ts";
import { cli, exclusive } from "../fixtures/helpers.ts";
import { junitSchemaErrors, sarifSchemaErrors } from "../fixtures/report_schemas.ts";
import { plantWebshell, type PolicyWorld, policyWorld } from "./world.ts";

function run(world: PolicyWorld, ...args: string[]) {
  return cli([...args, ...world.args], { env: world.env });
}

Deno.test(
  "policy CLI: commands, formats, exit codes, waivers",
  exclusive("processes", async (t) => {
    const world = await policyWorld();
    try {
      await t.step("every command passes on a clean world (exit 0), text table", async () => {
        for (const command of ["security:audit", "soc2:check", "security:trojansearch"]) {
          const result = await run(world, command);
          assert.equal(result.code, 0, `${command}\n${result.stdout}\n${result.stderr}`);
          assert.match(result.stdout, /STATUS\s+SEVERITY\s+CHECK\s+TITLE/);
          assert.doesNotMatch(result.stdout, /^(FAIL|ERROR|WARN)/m);
        }
        // changed-files is a report: it warns about the fresh checkout, and passes without --strict.
        const changed = await run(world, "security:changedfiles");
        assert.equal(changed.code, 0, changed.stderr);
        assert.match(changed.stdout, /^WARN\s+info\s+changed-files/m);
        assert.equal((await run(world, "security:changedfiles", "--strict")).code, 1);
      });

      await t.step("each run appends one signed policy entry to the audit log", async () => {
        const entries = (await readAuditEntries(world.stateDir)).filter((e) =>
          e.action === "policy"
        );
        assert.deepEqual(
          entries.map((e) => [e.policy, e.target, e.status]),
          [
            ["security-audit", "local", "success"],
            ["soc2", "local", "success"],
            ["trojansearch", "local", "success"],
            ["changed-files", "local", "success"],
            ["changed-files", "local", "failure"],
          ],
        );
        assert.equal(entries[1].pass, 7);
      });

      const shell = await plantWebshell(world);

      await t.step("a planted webshell fails security:audit (exit 1)", async () => {
        const result = await run(world, "security:audit");
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stdout, /^FAIL\s+critical\s+malicious-code/m);
        assert.match(result.stdout, /uploads\/shell\.php:2: eval/);
        assert.match(result.stdout, /^FAIL\s+high\s+recent-changes/m);
      });

      await t.step("json: the whole report", async () => {
        const result = await run(world, "security:audit", "--format", "json");
        const report = JSON.parse(result.stdout);
        assert.equal(report.policy.id, "security-audit");
        assert.equal(report.summary.fail, 2);
        assert.ok(report.results.every((r: { controls: object }) => "soc2" in r.controls));
      });

      await t.step("sarif: 2.1.0, rules, results with ruleId and file:line locations", async () => {
        const result = await cli(["security:audit", "--format", "sarif", ...world.args], {
          env: world.env,
          cwd: world.source,
        });
        const log = JSON.parse(result.stdout);
        assert.deepEqual(sarifSchemaErrors(log), []);
        assert.equal(log.version, "2.1.0");
        assert.match(log.$schema, /sarif-schema-2\.1\.0\.json$/);
        const run0 = log.runs[0];
        const rules = run0.tool.driver.rules;
        assert.ok(rules.length >= 6);
        for (const rule of rules) {
          assert.ok(rule.id && rule.shortDescription.text && rule.fullDescription.text);
          assert.ok(rule.help.text);
        }
        const ids = rules.map((r: { id: string }) => r.id);
        assert.ok(run0.results.length >= 13);
        for (const r of run0.results) {
          assert.ok(ids.includes(r.ruleId));
          assert.equal(rules[r.ruleIndex].id, r.ruleId);
          assert.ok(r.message.text);
          const loc = r.locations[0].physicalLocation;
          assert.ok(loc.artifactLocation.uri && loc.region.startLine >= 1);
        }
        const code = run0.results.find((r: { ruleId: string }) => r.ruleId === "malicious-code");
        assert.equal(code.locations[0].physicalLocation.artifactLocation.uri, "uploads/shell.php");
        assert.equal(code.locations[0].physicalLocation.region.startLine, 2);
      });

      await t.step("junit: a suite with a failure per blocking check", async () => {
        const result = await run(world, "security:audit", "--format", "junit");
        assert.deepEqual(await junitSchemaErrors(result.stdout), []);
        assert.match(result.stdout, /^<\?xml version="1.0"/);
        assert.match(result.stdout, /<testsuite name="security-audit" tests="8" failures="2"/);
        assert.match(
          result.stdout,
          /<testcase classname="security-audit" name="malicious-code: [^"]*"[^>]*>\s*<failure/,
        );
      });

      await t.step("md: a table with controls, and findings", async () => {
        const result = await run(world, "soc2:check", "--format", "md");
        assert.match(result.stdout, /^# SOC 2 readiness/);
        assert.match(result.stdout, /\| PASS \| high \| `key-permissions` \| soc2: CC6\.1 \|/);
      });

      const waivers = join(world.dir, "waivers.yaml");
      const waive = (expires: string) =>
        Deno.writeTextFile(
          waivers,
          [
            "waivers:",
            "  - check: malicious-code",
            "    match: uploads/*.php",
            "    justification: Known test fixture, reviewed in SEC-42",
            "    approver: alice@example.com",
            `    expires: "${expires}"`,
            "  - check: recent-changes",
            "    justification: Uploads are expected",
            "    approver: alice@example.com",
            `    expires: "${expires}"`,
            "",
          ].join("\n"),
        );

      await t.step("a valid waiver waives (exit 0) and says by whom until when", async () => {
        await waive("2999-12-31");
        const result = await run(world, "security:audit", "--waivers", waivers);
        assert.equal(result.code, 0, result.stdout);
        assert.match(result.stdout, /^WAIVED\s+critical\s+malicious-code/m);
        assert.match(result.stdout, /waived until 2999-12-31 by alice@example\.com/);
      });

      await t.step("an expired waiver stops waiving and says so (exit 1)", async () => {
        await waive("2020-01-31");
        const result = await run(world, "security:audit", "--waivers", waivers);
        assert.equal(result.code, 1);
        assert.match(result.stdout, /^FAIL\s+critical\s+malicious-code/m);
        assert.match(
          result.stdout,
          /waiver expired on 2020-01-31 .*no longer waived for uploads\/\*\.php/,
        );
      });

      await t.step("a waiver without an expiry is bad input (exit 2, file:line:col)", async () => {
        await Deno.writeTextFile(
          waivers,
          "waivers:\n  - check: malicious-code\n    justification: x\n    approver: bob\n",
        );
        const result = await run(world, "security:audit", "--waivers", waivers);
        assert.equal(result.code, 2);
        assert.match(result.stderr, /waivers\.yaml:2:\d+: waivers\[0\]\.expires: is required/);
      });

      await t.step("--strict: a warning fails", async () => {
        await Deno.remove(shell);
        const old = new Date(Date.now() - 100 * 86_400_000);
        await Deno.utime(join(world.stateDir, "key"), old, old);
        const lenient = await run(world, "soc2:check");
        assert.equal(lenient.code, 0, lenient.stdout);
        assert.match(lenient.stdout, /^WARN\s+low\s+key-rotation/m);
        assert.equal((await run(world, "soc2:check", "--strict")).code, 1);
        assert.equal(
          (await run(world, "soc2:check", "--check", "deploy-strategy", "--strict")).code,
          0,
        );
      });

      await t.step(
        "bad input exits 2: policy file, parameter, target, format, check id",
        async () => {
          const bad = join(world.dir, "bad.yaml");
          await Deno.writeTextFile(
            bad,
            [
              "id: bad",
              "title: Bad",
              "checks:",
              "  - id: x",
              "    title: X",
              "    severity: urgent",
              "    message: m",
              "    remediation: r",
              "    collect: { kind: file_stat, path: '${{ params.nope }}' }",
              "    expect:",
              "      - { fact: mode, matches: '(a+)+$' }",
              "",
            ].join("\n"),
          );
          const result = await run(world, "policy", bad);
          assert.equal(result.code, 2);
          assert.match(result.stderr, /bad\.yaml:6:15: checks\[0\]\.severity: expected one of/);
          assert.match(
            result.stderr,
            /bad\.yaml:11:\d+: checks\[0\]\.expect\[0\]\.matches: nested quantifier/,
          );
          await Deno.writeTextFile(bad, "id: bad\ntitle: [unclosed\n");
          assert.match((await run(world, "policy", bad)).stderr, /bad\.yaml:\d+:\d+: YAML:/);
          const unknownRef = [
            "id: bad",
            "title: Bad",
            "checks:",
            "  - id: x",
            "    title: X",
            "    severity: low",
            "    message: m",
            "    remediation: r",
            "    collect: { kind: file_stat, path: '${{ params.nope }}' }",
            "    expect: [{ fact: exists, eq: true }]",
            "",
          ].join("\n");
          await Deno.writeTextFile(bad, unknownRef);
          assert.match(
            (await run(world, "policy", bad)).stderr,
            /bad\.yaml:9:\d+: checks\[0\]\.collect\.path: unknown reference \$\{\{ params\.nope \}\}/,
          );
          const target = await run(world, "soc2:check", "--target", "web-1");
          assert.equal(target.code, 2);
          assert.match(target.stderr, /unknown target "web-1"; known: local, all, app/);
          assert.equal((await run(world, "soc2:check", "--format", "xml")).code, 2);
          const param = await run(world, "security:changedfiles", "-p", "days=soon");
          assert.equal(param.code, 2);
          assert.match(param.stderr, /days must be a whole number/);
          const negative = await run(world, "security:changedfiles", "-p", "days=-1");
          assert.equal(negative.code, 2);
          assert.match(negative.stderr, /parameter days must be 0 or more, got -1/);
          assert.equal((await run(world, "soc2:check", "-p", "nope=1")).code, 2);
          assert.equal((await run(world, "soc2:check", "--check", "nope")).code, 2);
        },
      );
    } finally {
      await world.cleanup();
    }
  }),
);

Deno.test("policy CLI: without a signing key a note, not a failure", async () => {
  const world = await policyWorld();
  try {
    await Deno.remove(auditPaths(world.stateDir).key);
    const result = await run(world, "soc2:check", "--check", "deploy-strategy");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /note: no audit signing key/);
  } finally {
    await world.cleanup();
  }
});

Deno.test("policy CLI: a check that did not apply is recorded so, and schedule shows it", async () => {
  const world = await policyWorld();
  try {
    await Deno.remove(join(world.source, "composer.json"));
    const result = await run(world, "security:audit", "--check", "dependencies");
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^N\/A\s+high\s+dependencies/m);
    const entry = (await readAuditEntries(world.stateDir)).findLast((e) => e.action === "policy")!;
    assert.deepEqual(
      [entry.policy, entry.not_applicable],
      ["security-audit/dependencies", "dependencies"],
    );
    const schedule = await cli(["schedule", "--state-dir", world.stateDir, "--format", "json"]);
    const dependency = JSON.parse(schedule.stdout).controls.find((c: { id: string }) =>
      c.id === "dependency-audit"
    );
    assert.equal(dependency.status, "not_applicable", schedule.stdout);
  } finally {
    await world.cleanup();
  }
});
