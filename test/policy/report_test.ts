/**
 * Report formats judged by the published schemas their consumers read: JUnit by the XSD of
 * Jenkins' xunit plugin (xmllint), SARIF by the OASIS SARIF 2.1.0 JSON schema (ajv) — for a
 * report holding every status a check can end in. And the words: findings read as sentences.
 */
import assert from "node:assert/strict";
import type { CheckResult, PolicyReport } from "../../src/policy/evaluate.ts";
import { summarize } from "../../src/policy/evaluate.ts";
import { evaluateAssertion } from "../../src/policy/matchers.ts";
import { formatReport, REPORT_FORMATS, REPORTS } from "../../src/policy/report/mod.ts";
import { Command } from "commander";
import { registerPolicyCommands } from "../../src/cli/policy.ts";
import { AssertionSchema } from "../../src/policy/schema.ts";
import { junitSchemaErrors, sarifSchemaErrors } from "../fixtures/report_schemas.ts";

function result(
  id: string,
  status: CheckResult["status"],
  extra: Partial<CheckResult> = {},
): CheckResult {
  return {
    id,
    title: `Check ${id} <&> "quoted"`,
    severity: "high",
    level: "fail",
    controls: { soc2: ["CC6.1"] },
    status,
    message: status === "pass" ? "" : `Why ${id} matters.`,
    remediation: "fix it",
    findings: [],
    waived: [],
    notes: [],
    ms: 12,
    ...extra,
  };
}

/** A report with every status, file findings, a warning, an error and a waived finding. */
export function everyStatusReport(): PolicyReport {
  const results = [
    result("passes", "pass"),
    result("fails", "fail", {
      findings: [
        { message: "eval call: eval($_POST['c']);", file: "/srv/app/a b.php", line: 2 },
        { message: "no file here" },
      ],
    }),
    result("warns", "fail", {
      level: "warn",
      severity: "low",
      findings: [{ message: "x", file: "/srv/app/w.php", line: 9 }],
    }),
    result("errs", "error", { message: "timed out: ps\u0007" }),
    result("skips", "skip", { message: "skipped: crontab is not installed" }),
    result("na", "not_applicable", { message: "no composer.json in /srv/app" }),
    result("waived", "waived", {
      waived: [{
        message: "m",
        file: "/srv/app/u.php",
        waiver: { approver: "alice", justification: "j", expires: "2999-01-01" },
      }],
    }),
    result("info", "fail", {
      severity: "info",
      level: "warn",
      findings: [{ message: "mentioned in a comment", file: "/srv/app/c.php", line: 1 }],
    }),
  ];
  return {
    policy: { id: "demo", title: "Demo" },
    target: "web-1",
    params: {},
    started: "2026-01-02T03:04:05.678Z",
    ms: 1234,
    results,
    summary: summarize(results),
  };
}

Deno.test("the report registry drives --format: each entry is a choice and renders by its name", () => {
  const names = REPORTS.map((r) => r.name);
  assert.deepEqual(REPORT_FORMATS, names);
  assert.equal(new Set(names).size, names.length, "two formats share a name");
  const program = new Command();
  registerPolicyCommands(program);
  const formats = program.commands.flatMap((c) => c.options.filter((o) => o.long === "--format"));
  assert.ok(formats.length >= 4, "security:audit, soc2:check, trojansearch and policy");
  for (const format of formats) assert.deepEqual(format.argChoices, names);
  const report = everyStatusReport();
  for (const entry of REPORTS) {
    const text = formatReport(report, entry.name);
    assert.equal(text, entry.render(report, {}));
    assert.ok(text.includes("fails"), `${entry.name} names the failing check`);
  }
});

Deno.test("junit: every status validates against the xunit plugin's JUnit XSD", async () => {
  const report = everyStatusReport();
  for (const strict of [false, true]) {
    const xml = formatReport(report, "junit", { strict });
    assert.deepEqual(await junitSchemaErrors(xml), [], xml);
    assert.match(xml, /<testsuite name="demo" tests="8" /);
  }
  // The validator is a real judge: the attribute the XSD does not allow on <testsuites> fails.
  const bad = formatReport(report, "junit").replace("<testsuites ", '<testsuites skipped="3" ');
  assert.match((await junitSchemaErrors(bad)).join("\n"), /attribute 'skipped' is not allowed/);
});

Deno.test("sarif: every status validates against the OASIS SARIF 2.1.0 schema", () => {
  const log = JSON.parse(formatReport(everyStatusReport(), "sarif", { baseDir: "/srv/app" }));
  assert.deepEqual(sarifSchemaErrors(log), []);
  const results = log.runs[0].results;
  assert.deepEqual(
    results.map((r: { ruleId: string }) => r.ruleId),
    ["fails", "warns", "info"],
  );
  assert.equal(results[0].locations[0].physicalLocation.artifactLocation.uri, "a%20b.php");
  // The validator is a real judge: a broken log fails.
  assert.notDeepEqual(sarifSchemaErrors({ ...log, version: "2.0" }), []);
});

Deno.test("sarif: no placeholder project URL; messages are sentences", () => {
  const log = JSON.parse(formatReport(everyStatusReport(), "sarif", { baseDir: "/srv/app" }));
  const driver = log.runs[0].tool.driver;
  // The project has no public home page: the spec makes informationUri optional, so omit it.
  assert.equal(driver.informationUri, undefined);
  for (const rule of driver.rules) {
    assert.doesNotMatch(JSON.stringify(rule), /example|protocol\/protocol/);
  }
  const first = log.runs[0].results[0];
  assert.equal(first.message.text, "Why fails matters. Found: eval call: eval($_POST['c']);");
});

Deno.test("findings of count and fact assertions read as sentences", () => {
  const count = AssertionSchema.parse({
    count: { at_least: 1 },
    where: { line: { matches: "^@reboot\\s" }, block: { eq: "shop" } },
  });
  const [finding] = evaluateAssertion(count, { items: [{ line: "0 * * * * x" }] });
  assert.equal(
    finding.message,
    "found 0 of 1 items whose line matches the pattern ^@reboot\\s and whose block is shop; " +
      "expected at least 1",
  );
  const fact = AssertionSchema.parse({ fact: "key.exists", eq: true });
  assert.equal(
    evaluateAssertion(fact, { key: { path: "/s/key", exists: false } })[0].message,
    "key.exists is false, expected true (/s/key)",
  );
  const said = AssertionSchema.parse({
    fact: "key.exists",
    eq: true,
    message: "the encryption key is missing",
  });
  assert.equal(
    evaluateAssertion(said, { key: { path: "/s/key", exists: false } })[0].message,
    "the encryption key is missing (/s/key)",
  );
  const valued = AssertionSchema.parse({
    fact: "log.verified",
    eq: true,
    message: "the log does not verify: {reason}",
  });
  assert.equal(
    evaluateAssertion(valued, { log: { verified: false, reason: "line 3: edited" } })[0].message,
    "the log does not verify: line 3: edited",
  );
  const age = AssertionSchema.parse({ fact: "age_days", at_most: 90, message: "{value} days" });
  assert.equal(evaluateAssertion(age, { age_days: 100 })[0].message, "100 days");
});
