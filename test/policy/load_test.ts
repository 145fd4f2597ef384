/**
 * What a policy or waivers file must get right before anything is collected: every regular
 * expression (matchers, scan patterns) valid and free of catastrophic backtracking, reported
 * at `file:line:col` with exit 2; waiver expiries that are real calendar dates.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { InvalidPolicyError, loadPolicy, loadWaivers } from "../../src/policy/load.ts";
import { ScanPattern } from "../../src/policy/collectors/pattern_scan.ts";
import { parseScan } from "../../src/policy/collectors/pattern_scan.ts";
import { safeRegex, unsafeRegexReason } from "../../src/policy/safe_regex.ts";
import { formatProblem } from "../../src/source/mod.ts";
import { cli, ROOT } from "../fixtures/helpers.ts";

const SCAN_POLICY = (regex: string) =>
  [
    "id: bad",
    "title: Bad",
    "checks:",
    "  - id: scan",
    "    title: Scan",
    "    severity: low",
    "    message: m",
    "    remediation: r",
    "    collect:",
    "      kind: pattern_scan",
    "      paths: [/tmp]",
    "      patterns:",
    `        - { id: p, regex: '${regex}' }`,
    "    expect: [{ none: {} }]",
    "",
  ].join("\n");

async function problemsOf(
  text: string,
  load: (file: string, root: string) => Promise<unknown> = loadPolicy,
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "policy-load-" });
  const file = join(dir, "bad.yaml");
  try {
    await Deno.writeTextFile(file, text);
    await load(file, ROOT);
    return [];
  } catch (error) {
    if (!(error instanceof InvalidPolicyError)) throw error;
    return error.problems.map((p) => formatProblem(p).replace(`${file}:`, ""));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("scan patterns are checked at load: invalid and catastrophic ones, file:line:col", async () => {
  assert.match(
    (await problemsOf(SCAN_POLICY("(eval"))).join("\n"),
    /^13:\d+: checks\[0\]\.collect\.patterns\[0\]\.regex: not a valid regular expression/,
  );
  assert.match(
    (await problemsOf(SCAN_POLICY("(a+)+$"))).join("\n"),
    /^13:\d+: checks\[0\]\.collect\.patterns\[0\]\.regex: nested quantifier/,
  );
  // grep -E runs scan patterns on the node: JavaScript-only syntax would mean something else.
  assert.match(
    (await problemsOf(SCAN_POLICY("(?:eval)\\("))).join("\n"),
    /regex: .*grep -E/,
  );
  assert.match((await problemsOf(SCAN_POLICY("\\[[^]]*\\]"))).join("\n"), /regex: .*grep -E/);
});

Deno.test("the CLI refuses a catastrophic scan pattern with exit 2 and names the place", async () => {
  const dir = await Deno.makeTempDir({ prefix: "policy-load-" });
  try {
    const file = join(dir, "bad.yaml");
    await Deno.writeTextFile(file, SCAN_POLICY("(a+)+$"));
    const result = await cli(["policy", file, "--state-dir", join(dir, "state")]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /bad\.yaml:13:\d+: checks\[0\]\.collect\.patterns\[0\]\.regex: nested/,
    );
    assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace");
    await Deno.writeTextFile(file, SCAN_POLICY("(eval"));
    const invalid = await cli(["policy", file, "--state-dir", join(dir, "state")]);
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.doesNotMatch(invalid.stderr, /^\s+at /m, "no stack trace");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the safety rule refuses every shape that backtracks catastrophically", () => {
  for (
    const pattern of [
      "(a+)+$",
      "(a*)*b",
      "(x{2,})+y",
      "(\\w+\\s?)+$",
      "(a|a)*$",
      "(a|ab)+c",
      "((ab)*)+$",
      "((a|aa))+$",
      "(.*a){12}",
    ]
  ) {
    assert.ok(unsafeRegexReason(pattern), `${pattern} must be refused`);
  }
  for (const pattern of ["\\beval\\s*\\(", "^(xmrig|kinsing)([-_.0-9].*)?$", "[a-z]+(foo)?"]) {
    assert.equal(unsafeRegexReason(pattern), undefined, pattern);
  }
});

Deno.test("every shipped policy pattern finishes on 45-character hostile lines", async () => {
  const hostile = [
    "a".repeat(44) + "!",
    " ".repeat(44) + "!",
    "eval ".repeat(8) + "eval (",
    "\\x41".repeat(11) + "!",
    "$_".repeat(22) + "!",
    "chr(1).".repeat(6) + "!!!",
  ];
  let tried = 0;
  for (const name of ["security-audit", "trojansearch", "soc2", "changed-files"]) {
    const text = await Deno.readTextFile(join(ROOT, "policies", `${name}.yaml`));
    for (const [, regex] of text.matchAll(/regex: '((?:[^']|'')*)'/g)) {
      const re = safeRegex(regex.replaceAll("''", "'"));
      for (const line of hostile) re.test(line);
      tried++;
    }
    for (const [, regex] of text.matchAll(/matches: "((?:[^"\\]|\\.)*)"/g)) {
      const re = safeRegex(JSON.parse(`"${regex}"`));
      for (const line of hostile) re.test(line);
      tried++;
    }
  }
  assert.ok(tried > 20, `${tried} patterns tried`);
  // And the scan's own matching of hostile grep output, through the collector's parser.
  const patterns = [ScanPattern.parse({ id: "eval", regex: "\\beval\\s*\\(" })];
  assert.equal(parseScan(`/f.php\u00001:${hostile[2]}\n`, patterns).length, 1);
});

Deno.test("expected values may name settings; a regex may not hold a template", async () => {
  const policy = (expect: string) =>
    [
      "id: t",
      "title: T",
      "checks:",
      "  - id: c",
      "    title: C",
      "    severity: low",
      "    message: m",
      "    remediation: r",
      "    collect: { kind: crontab }",
      "    expect:",
      `      - ${expect}`,
      "",
    ].join("\n");
  assert.deepEqual(
    await problemsOf(
      policy(`{ count: { at_least: 1 }, where: { cd: { eq: "\${{ app.dir }}" } } }`),
    ),
    [],
  );
  assert.match(
    (await problemsOf(policy(`{ none: { cd: { eq: "\${{ params.nope }}" } } }`))).join("\n"),
    /^11:\d+: checks\[0\]\.expect\[0\]\.none\.cd\.eq: unknown reference/,
  );
  assert.match(
    (await problemsOf(policy(`{ none: { cd: { matches: "\${{ app.dir }}" } } }`))).join("\n"),
    /^11:\d+: checks\[0\]\.expect\[0\]\.none\.cd\.matches: a regular expression cannot/,
  );
});

const WAIVER = (expires: string) =>
  `waivers:\n  - check: x\n    justification: j\n    approver: a\n    expires: "${expires}"\n`;

Deno.test("a waiver's expires must be a real calendar date", async () => {
  const load = (file: string) => loadWaivers(file);
  for (const date of ["2030-99-99", "2030-02-30", "2029-02-29", "2030-13-01", "2030-00-10"]) {
    assert.match(
      (await problemsOf(WAIVER(date), load)).join("\n"),
      /^5:\d+: waivers\[0\]\.expires: .*not a calendar date/,
      date,
    );
  }
  for (const date of ["2028-02-29", "2030-12-31"]) {
    assert.deepEqual(await problemsOf(WAIVER(date), load), [], date);
  }
});
