/**
 * Malformed runbooks: every problem names `file:line:column: key: message`, `validate` exits 2,
 * and `run` exits 2 with nothing run — each fixture's first step would leave a marker file.
 *
 * The fixtures are in test/fixtures/malformed/<name>/runbooks/x.yaml (with the tasks they use).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { validateFile } from "../../src/runbook/load.ts";
import { formatProblem } from "../../src/source/mod.ts";
import { cli, exists, fixture, listDir, runArgs, tempWorld } from "../fixtures/helpers.ts";
import { inProcess } from "../fixtures/in_process.ts";

interface Expected {
  line: number;
  column: number;
  key: string;
  message: RegExp;
}

const FILE = "runbooks/x.yaml";

/** Fixture name → the problems `validate` must report for runbooks/x.yaml, in order. */
const CASES: Record<string, Expected[]> = {
  "yaml-syntax": [
    { line: 6, column: 11, key: "", message: /^YAML: Nested mappings are not allowed/ },
  ],
  "duplicate-key": [
    { line: 7, column: 5, key: "", message: /^YAML: Map keys must be unique/ },
  ],
  "unknown-step-key": [
    {
      line: 8,
      column: 5,
      key: "steps[1].rnu",
      message: /^unknown key `rnu` \(did you mean `run`\?\)$/,
    },
    {
      line: 7,
      column: 5,
      key: "steps[1]",
      message: /^a step needs one of: run, uses, http, confirm, policy(, [a-z]+)*$/,
    },
  ],
  "step-no-kind": [
    {
      line: 7,
      column: 5,
      key: "steps[1]",
      message: /^a step needs one of: run, uses, http, confirm, policy(, [a-z]+)*$/,
    },
  ],
  "step-two-kinds": [
    {
      line: 7,
      column: 5,
      key: "steps[1]",
      message: /^a step has exactly one kind, found run and http$/,
    },
  ],
  "missing-name": [
    { line: 7, column: 5, key: "steps[1].name", message: /^is required \(expected string\)$/ },
  ],
  "missing-title": [
    { line: 1, column: 1, key: "title", message: /^is required \(expected string\)$/ },
  ],
  "wrong-type": [
    {
      line: 7,
      column: 14,
      key: "steps[0].retries",
      message: /^expected number, got string "three"$/,
    },
  ],
  "bad-duration": [
    { line: 7, column: 14, key: "steps[0].timeout", message: /expected a duration such as "30s"/ },
  ],
  "bad-param-type": [
    {
      line: 6,
      column: 11,
      key: "parameters.ratio.type",
      message: /^expected one of "string", "enum", "bool", "int", got string "float"$/,
    },
  ],
  "enum-no-values": [
    { line: 6, column: 5, key: "parameters.env.values", message: /needs `values`/ },
  ],
  "invalid-regex": [
    {
      line: 6,
      column: 14,
      key: "parameters.version.pattern",
      message: /^not a valid regular expression: .*Unterminated group/,
    },
  ],
  "default-not-matching": [
    {
      line: 7,
      column: 14,
      key: "parameters.version.default",
      message: /^parameter "version" must match v\\d\+\\\.\\d\+\\\.\\d\+, got "latest"$/,
    },
  ],
  "unknown-param-ref": [
    {
      line: 10,
      column: 10,
      key: "steps[1].run",
      message: /^\$\{\{ params\.x \}\}: no parameter "x"$/,
    },
  ],
  "later-step-ref": [
    {
      line: 8,
      column: 10,
      key: "steps[1].run",
      message: /^\$\{\{ steps\.later\.output \}\}: no earlier step with id "later"$/,
    },
  ],
  "unknown-step-ref": [
    {
      line: 8,
      column: 10,
      key: "steps[1].run",
      message: /^\$\{\{ steps\.nobody\.exit_code \}\}: no earlier step with id "nobody"$/,
    },
  ],
  // A step cannot read its own output: it has none yet when its script is resolved.
  "self-step-ref": [
    {
      line: 9,
      column: 10,
      key: "steps[1].run",
      message: /^\$\{\{ steps\.itself\.output \}\}: no earlier step with id "itself"$/,
    },
  ],
  "template-double-quotes": [
    {
      line: 10,
      column: 10,
      key: "steps[1].run",
      message: /^\$\{\{ params\.version \}\} is inside double quotes; write it bare/,
    },
  ],
  "template-single-quotes": [
    {
      line: 10,
      column: 10,
      key: "steps[1].run",
      message: /^\$\{\{ params\.version \}\} is inside single quotes; write it bare/,
    },
  ],
  "heredoc-template": [
    { line: 10, column: 10, key: "steps[1].run", message: /is in a here-document/ },
  ],
  "missing-task": [
    {
      line: 8,
      column: 11,
      key: "steps[1].uses",
      message: /^task file tasks\/nope\.yaml not found$/,
    },
  ],
  "with-unknown-input": [
    {
      line: 11,
      column: 13,
      key: "steps[1].with.whom",
      message: /^tasks\/greet\.yaml has no input "whom"; its inputs: who$/,
    },
  ],
  "missing-required-input": [
    {
      line: 9,
      column: 11,
      key: "steps[1].with",
      message: /^tasks\/greet\.yaml needs input "who"$/,
    },
  ],
  "on-failure-missing": [
    {
      line: 8,
      column: 12,
      key: "on_failure.runbook",
      message: /^no runbook "recover" in runbooks\/$/,
    },
  ],
  "bad-when": [
    {
      line: 10,
      column: 11,
      key: "steps[1].when",
      message: /^cannot read condition "params\.env == prod": quote the value/,
    },
  ],
  "policy-step": [
    {
      line: 8,
      column: 13,
      key: "steps[1].policy",
      message: /^expected a policy of policies\/, or one check: `soc2` or `soc2\/key-permissions`$/,
    },
  ],
  "bad-target": [
    {
      line: 8,
      column: 9,
      key: "steps[1].on",
      message: /^"Web 1" is not a target: name nodes or groups, comma-separated/,
    },
  ],
  "duplicate-step-id": [
    { line: 8, column: 9, key: "steps[1].id", message: /^step id "mark" is used twice$/ },
  ],
  "bad-runbook-id": [
    { line: 1, column: 5, key: "id", message: /^expected a kebab-case id such as `deploy`$/ },
  ],
  "empty-steps": [
    { line: 7, column: 8, key: "steps", message: /expected array to have >=1 items/ },
  ],
};

Deno.test("malformed runbooks are refused with positions, and nothing runs", async (t) => {
  const world = await tempWorld({ prefix: "runbook-malformed-" });
  try {
    const runX = (root: string) => runArgs(root, world, "x", "--yes");
    const env = { MARKER_DIR: world.markers };

    await t.step("control: a valid runbook's step does leave the marker", async () => {
      const result = await cli(runX(fixture("projects", "marker")), { env });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(await exists(join(world.markers, "ran")), "the control step did not run");
      await Deno.remove(join(world.markers, "ran"));
      await Deno.remove(join(world.stateDir, "runs"), { recursive: true });
    });

    assert.ok(Object.keys(CASES).length >= 20);
    for (const [name, expected] of Object.entries(CASES)) {
      await t.step(name, async () => {
        const root = fixture("malformed", name);
        const problems = await validateFile(root, FILE);
        assert.deepEqual(
          problems.map(({ file, line, column, key }) => ({ file, line, column, key })),
          expected.map(({ line, column, key }) => ({ file: FILE, line, column, key })),
          `problems of ${name}:\n${problems.map(formatProblem).join("\n")}`,
        );

        // In process: one CLI per fixture would spend seconds starting Deno each time.
        const validate = await inProcess(["validate", "--root", root]);
        const run = await inProcess(runX(root));
        assert.equal(validate.code, 2, validate.stdout + validate.stderr);
        assert.equal(run.code, 2, run.stdout + run.stderr);
        for (const problem of problems) {
          const line = formatProblem(problem);
          assert.ok(line.startsWith(`${FILE}:${problem.line}:${problem.column}: `));
          assert.ok(validate.stdout.includes(line), `validate does not print ${line}`);
          assert.ok(run.stderr.includes(line), `run does not print ${line}`);
        }
        assert.match(run.stderr, /nothing was run/);
        assert.deepEqual(await listDir(world.markers), [], `${name}: a step ran`);
        assert.deepEqual(await listDir(join(world.stateDir, "runs")), [], `${name}: a run began`);
        // Last, so a wrong message does not hide whether anything ran.
        problems.forEach((problem, i) => assert.match(problem.message, expected[i].message));
      });
    }
  } finally {
    await world.cleanup();
  }
});
