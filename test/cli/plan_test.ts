/**
 * `plan`, `run --dry-run` and `checklist` on the real deploy runbook against a demo world:
 * commands in order with values resolved and quoted, nothing run, and the change-ticket
 * checklist in Markdown, text and JSON. `plan` and `run --dry-run` run through the same `main` in
 * this process (no Deno start-up each); the plan without a configuration and the checklists (they
 * write to stdout directly) through the real CLI process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createDemoWorld, type DemoWorld } from "../../src/demo/app.ts";
import type { Description } from "../../src/runbook/describe.ts";
import type { ChecklistSection } from "../../src/runbook/checklist.ts";
import { cli, exists, listDir } from "../fixtures/helpers.ts";
import { inProcess } from "../fixtures/in_process.ts";

/** Asserts each needle occurs in `text`, each after the one before. */
function assertInOrder(text: string, needles: string[]): void {
  let from = 0;
  for (const needle of needles) {
    const at = text.indexOf(needle, from);
    assert.ok(at >= 0, `"${needle}" missing after offset ${from} in:\n${text}`);
    from = at + needle.length;
  }
}

async function assertNothingRan(demo: DemoWorld, stateDir: string): Promise<void> {
  assert.deepEqual(await listDir(demo.appDir), [], "the app directory changed");
  assert.equal(await exists(stateDir), false, "the state directory was created");
  const reachable = await fetch(demo.healthUrl).then((r) => r.body?.cancel(), () => false);
  assert.equal(reachable, false, "the app answers: something started it");
}

Deno.test("plan, dry run and checklist of deploy", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "runbook-plan-" });
  try {
    const demo = await createDemoWorld(dir);
    const stateDir = join(dir, "unused-state");
    const env = { PROTOCOL_STATE_DIR: stateDir };
    const repo = `'${demo.repo}'`;
    let planText = "";

    await t.step("plan prints every command in order, values resolved and quoted", async () => {
      const result = await inProcess(["plan", "deploy", "v1.2.0", "--config", demo.config], {
        env,
      });
      assert.equal(result.code, 0, result.stderr);
      planText = result.stdout;
      assertInOrder(planText, [
        "Parameters: version=v1.2.0",
        `Config: ${demo.config}`,
        "Nothing has run.",
        "Prerequisites",
        `$ git ls-remote --exit-code --tags --refs ${repo} refs/tags/'v1.2.0' >/dev/null`,
        "Steps",
        `git ls-remote --tags --refs ${repo} | sed`,
        `git ls-remote --exit-code --tags --refs ${repo} refs/tags/'v1.2.0'`,
        // The release record's scripts take their values from the environment (release/record.ts).
        `env: REPO=${demo.repo}`,
        "env: VERSION=v1.2.0",
        'git clone --quiet --mirror "$REPO" "$APP_DIR/repo.git"',
        'rev-parse --verify --quiet "refs/tags/$VERSION^{commit}"',
        "env: KIND=deploy",
        'ln -sfn "releases/$VERSION" current.next',
        "mv -T current.next current",
        "Stop the app",
        `in: ${demo.appDir}/current`,
        "$ sh -c 'if [ -f ",
        "Start the app",
        `PORT=${demo.port} nohup`,
        "Success criteria",
        `GET ${demo.healthUrl} → expect 200`,
        `= 'v1.2.0'`,
        "On failure: runbook rollback failed=v1.2.0",
      ]);
      assert.equal(planText.includes("refs/tags/v1.2.0"), false, "an unquoted value");
      await assertNothingRan(demo, stateDir);
    });

    await t.step("run --dry-run prints the same plan and runs nothing", async () => {
      const result = await inProcess([
        "run",
        "deploy",
        "v1.2.0",
        "--dry-run",
        "--config",
        demo.config,
      ], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, planText);
      await assertNothingRan(demo, stateDir);
    });

    await t.step("plan --json parses and holds the quoted scripts", async () => {
      const result = await inProcess([
        "plan",
        "deploy",
        "v1.2.0",
        "--json",
        "--config",
        demo.config,
      ], { env });
      assert.equal(result.code, 0, result.stderr);
      const plan = JSON.parse(result.stdout) as Description;
      assert.equal(plan.runbook, "deploy");
      assert.deepEqual(plan.params, { version: "v1.2.0" });
      assert.equal(plan.config, demo.config);
      assert.equal(plan.prerequisites.length, 2);
      assert.ok(plan.prerequisites[0].script!.includes(`refs/tags/'v1.2.0'`));
      assert.equal(plan.prerequisites[1].kind, "policy");
      const numbers = plan.steps.map((step) => step.number);
      assert.deepEqual(numbers.slice(0, 4), ["1", "1.1", "1.2", "2"]);
      const scripts = plan.steps.filter((step) => step.kind === "run").map((s) => s.script!);
      assert.ok(scripts.every((script) => !script.includes("${{")), "an unresolved template");
      assert.equal(plan.success[0].http?.url, demo.healthUrl);
      assert.equal(plan.onFailure?.runbook, "rollback");
      await assertNothingRan(demo, stateDir);
    });

    await t.step("plan without a configuration shows app values as placeholders", async () => {
      const empty = join(dir, "empty");
      await Deno.mkdir(empty);
      const result = await cli(["plan", "deploy", "v1.2.0"], {
        cwd: empty,
        env: { ...env, INIT_CWD: empty },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.includes("(none: app.* shown as <app.*>)"));
      assert.ok(result.stdout.includes("'<app.repo>' refs/tags/'v1.2.0'"), result.stdout);
    });

    await t.step("plan refuses a bad version with exit 2", async () => {
      const result = await inProcess(["plan", "deploy", "main", "--config", demo.config], { env });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /parameter "version" must match/);
    });

    await t.step("checklist --format md", async () => {
      const result = await cli(["checklist", "deploy", "v1.2.0", "--format", "md"], { env });
      assert.equal(result.code, 0, result.stderr);
      const md = result.stdout;
      assertInOrder(md, [
        "## SOP 1: Standard Production Deployment",
        "**Pre-Deployment:**",
        "- [ ] Release tag v1.2.0 created",
        "- [ ] CI pipeline green",
        "**Deployment:**",
        "- [ ] current release switched to v1.2.0",
        "- [ ] Application health check passes",
        "**Post-Deployment:**",
        "- [ ] Notify team of deployment",
      ]);
      assert.equal(md.includes("${{"), false);
      assert.equal(md.includes("<params."), false);
    });

    await t.step("checklist --format text", async () => {
      const result = await cli(["checklist", "deploy", "v1.2.0", "--format", "text"], { env });
      assert.equal(result.code, 0, result.stderr);
      assertInOrder(result.stdout, [
        "Pre-Deployment:",
        "[ ] Release tag v1.2.0 created",
        "[ ] CI pipeline green",
        "Deployment:",
        "Post-Deployment:",
        "[ ] Notify team of deployment",
      ]);
      assert.equal(result.stdout.includes("- [ ]"), false);
      assert.equal(result.stdout.includes("**"), false);
    });

    await t.step("checklist --format json", async () => {
      const result = await cli(["checklist", "deploy", "v1.2.0", "--format", "json"], { env });
      assert.equal(result.code, 0, result.stderr);
      const checklist = JSON.parse(result.stdout) as {
        runbook: string;
        params: Record<string, string>;
        sections: ChecklistSection[];
      };
      assert.equal(checklist.runbook, "deploy");
      assert.deepEqual(checklist.params, { version: "v1.2.0" });
      assert.deepEqual(checklist.sections.map((s) => s.title), [
        "Pre-Deployment",
        "Deployment",
        "Post-Deployment",
      ]);
      const texts = checklist.sections.map((s) => s.items.map((item) => item.text));
      assert.ok(texts[0].includes("Release tag v1.2.0 created"));
      assert.ok(texts[0].some((text) => text.startsWith("CI pipeline green")));
      assert.ok(texts[2].includes("Notify team of deployment"));
    });

    await t.step("checklist refuses an unknown format", async () => {
      const result = await cli(["checklist", "deploy", "v1.2.0", "--format", "pdf"], { env });
      assert.equal(result.code, 2);
    });
    await assertNothingRan(demo, stateDir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
