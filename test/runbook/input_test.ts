/**
 * Runbook input holes (issue 15): each case is a file no runbook author meant to write, and
 * each must be refused with its position before anything runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadRunbook, validateFile } from "../../src/runbook/load.ts";
import { loadPolicy } from "../../src/policy/load.ts";
import { parseSource, type Problem, schemaProblems } from "../../src/source/mod.ts";
import { KNOWN_KEYS, TaskSchema } from "../../src/runbook/schema.ts";
import { listDir, runArgs, tempWorld } from "../fixtures/helpers.ts";
import { inProcess } from "../fixtures/in_process.ts";

/** A project with the given files (path → text) in a temp directory. */
async function project(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "runbook-input-" });
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(root, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, path), text);
  }
  return root;
}

const where = (problems: Problem[]) =>
  problems.map((p) => `${p.line}:${p.column} ${p.key}: ${p.message}`);

const RUNBOOK = (steps: string) =>
  `id: x\ntitle: X\nwhen: Never\nparameters:\n  version: { type: string }\nsteps:\n${steps}`;

Deno.test("an unclosed ${{ is a problem with its position, wherever templates are read", async () => {
  const root = await project({
    "runbooks/x.yaml": RUNBOOK(
      "  - name: Build ${{ params.version\n" +
        "    run: echo ${{ params.version\n" +
        "  - name: Echo\n" +
        "    uses: tasks/t.yaml\n" +
        "    with: { what: '${{ params.version' }\n",
    ),
    "tasks/t.yaml": "id: t\ntitle: T\ninputs: { what: { type: string } }\n" +
      "steps:\n  - name: Echo\n    run: echo ${{ inputs.what }}\n",
  });
  try {
    const problems = await validateFile(root, "runbooks/x.yaml");
    assert.deepEqual(where(problems), [
      "7:11 steps[0].name: `${{` at character 7 is never closed with `}}`",
      "8:10 steps[0].run: `${{` at character 6 is never closed with `}}`",
      "11:19 steps[1].with.what: `${{` at character 1 is never closed with `}}`",
    ]);
    const world = await tempWorld();
    try {
      const run = await inProcess(runArgs(root, world, "x", "-p", "version=v1"));
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /nothing was run/);
      assert.deepEqual(await listDir(join(world.stateDir, "runs")), []);
    } finally {
      await world.cleanup();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("absolute paths resolve for validate, plan and run; validate DIR checks what is under it", async () => {
  const root = await project({});
  const elsewhere = await project({
    "ops/x.yaml": RUNBOOK("  - name: Hello\n    run: echo hello\n"),
    "ops/nested/t.yaml": "id: t\ntitle: T\ninputs: {}\nsteps:\n  - name: Hi\n    run: echo hi\n",
  });
  try {
    const file = join(elsewhere, "ops", "x.yaml");
    assert.deepEqual(await validateFile(root, file), []);
    assert.equal((await loadRunbook(root, file)).runbook.id, "x");
    const plan = await inProcess(["plan", file, "-p", "version=v1", "--root", root]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /echo hello/);
    const validate = await inProcess(["validate", join(elsewhere, "ops"), "--root", root]);
    assert.equal(validate.code, 0, validate.stdout);
    assert.match(validate.stdout, new RegExp(`ok   ${file}`));
    assert.match(validate.stdout, /ok {3}.*\/ops\/nested\/t\.yaml/);
    assert.match(validate.stdout, /2 file\(s\) checked, 0 problem/);
    await Deno.writeTextFile(file, "id: x\ntitle: X\nwhen: Never\nsteps: []\n");
    const [problem] = await validateFile(root, file);
    assert.equal(problem.file, file, "the leading / is kept");
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("runbook or task is decided by content, not by directory", async () => {
  const root = await project({
    "other/x.yaml": RUNBOOK("  - name: Hello\n    run: echo hello\n"),
    "runbooks/t.yaml": "id: t\ntitle: T\ninputs: { a: { type: string } }\nsteps:\n" +
      "  - name: Hi\n    run: echo ${{ inputs.a }}\n",
  });
  try {
    assert.deepEqual(await validateFile(root, "other/x.yaml"), []);
    assert.deepEqual(await validateFile(root, "runbooks/t.yaml"), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("did-you-mean never suggests the word itself", () => {
  const source = parseSource("tasks/t.yaml", "id: t\ntitle: T\nwhen: Never\nsteps: []\n");
  const parsed = TaskSchema.safeParse(source.data);
  assert.ok(!parsed.success);
  const problems = schemaProblems(source, parsed.error.issues, KNOWN_KEYS);
  const when = problems.find((p) => p.key === "when");
  assert.equal(when?.message, "unknown key `when`");
});

const BOMB = "a: &a [1,2,3,4,5,6,7,8,9]\n" +
  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n" +
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
  "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n";

Deno.test("an alias bomb reports the parser's reason, in runbooks and policies", async () => {
  const root = await project({ "runbooks/x.yaml": BOMB, "policies/p.yaml": BOMB });
  try {
    const [problem] = await validateFile(root, "runbooks/x.yaml");
    assert.match(problem.message, /Excessive alias count/);
    await assert.rejects(
      () => loadPolicy("p", root),
      (error: Error & { problems?: Problem[] }) =>
        (error.problems ?? []).some((p) => /Excessive alias count/.test(p.message)),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// deno-lint-ignore no-control-regex
const RAW_ESCAPE = /[\x1b\x07]/;

Deno.test("control characters and terminal escapes in keys are escaped in every message", async () => {
  const root = await project({
    "runbooks/x.yaml": RUNBOOK(
      '  - name: Hello\n    run: echo hi\n    "\\e]0;owned\\a\\e[2J": 1\n',
    ),
  });
  try {
    const validate = await inProcess(["validate", "--root", root]);
    assert.equal(validate.code, 2);
    assert.ok(!RAW_ESCAPE.test(validate.stdout));
    assert.match(validate.stdout, /\\x1b\]0;owned\\x07\\x1b\[2J/);
    const run = await inProcess(["plan", "x", "-p", "version=v1", "--root", root]);
    assert.equal(run.code, 2);
    assert.ok(!RAW_ESCAPE.test(run.stderr));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an unclosed quote is reported where it opens", async () => {
  const root = await project({
    "runbooks/x.yaml":
      'id: x\ntitle: "Never closed\nwhen: Never\nsteps:\n  - name: a\n    run: b\n',
  });
  try {
    const [problem] = await validateFile(root, "runbooks/x.yaml");
    assert.deepEqual([problem.line, problem.column], [2, 8]);
    assert.match(problem.message, /quote is never closed/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("cross-checks are reported alongside schema errors", async () => {
  const root = await project({
    "runbooks/x.yaml": "id: x\nwhen: Never\nsteps:\n" +
      "  - name: Uses a parameter that is not declared\n    run: echo ${{ params.nope }}\n" +
      "  - name: Includes a task that is not there\n    uses: tasks/missing.yaml\n" +
      "on_failure:\n  runbook: no-such-runbook\n",
  });
  try {
    const problems = where(await validateFile(root, "runbooks/x.yaml"));
    assert.ok(problems.some((p) => /title: is required/.test(p)), problems.join("\n"));
    assert.ok(problems.some((p) => /no parameter "nope"/.test(p)), problems.join("\n"));
    assert.ok(problems.some((p) => /task file tasks\/missing.yaml not found/.test(p)));
    assert.ok(problems.some((p) => /no runbook "no-such-runbook"/.test(p)));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
