/**
 * `policy:` steps: a policy of `policies/` (or one of its checks) evaluated on the step's
 * target, as a prerequisite or a success criterion. The text report becomes the step's output
 * (so it is in the run record's hash and, on failure, its tail), and the counts become a signed
 * `policy` entry in the audit log.
 *
 * @example
 * ```ts
 * import { policyOperation } from "./policy_step.ts";
 * import { requireConfig } from "../config/mod.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * const config = await requireConfig({});
 * const runPolicy = policyOperation.runner({ root: Deno.cwd(), stateDir: "/home/deploy/.protocol", config, run: "r1" });
 * const outcome = await runPolicy("soc2/key-permissions", new LocalTarget());
 * console.log(outcome.status, outcome.stdout);
 * ```
 * @module
 */
import { z } from "../source/zod.ts";
import { nodeApp } from "../targets/inventory.ts";
import { join } from "node:path";
import { stateDirOn } from "../targets/files.ts";
import { policyEntry, policyRan } from "../audit/actions.ts";
import type { Operation, OperationContext, OperationRunner } from "./operation.ts";

/** The policy engine (~40 modules), loaded when a `policy:` step is validated or runs. */
const policyEngine = () => import("../policy/mod.ts");

/** `policy: name[/check]`: checked against policies/ by `validate`, evaluated on the target. */
export const policyOperation: Operation = {
  operand: z.string().regex(/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)?$/, {
    error: "expected a policy of policies/, or one check: `soc2` or `soc2/key-permissions`",
  }).describe(
    "Evaluate a policy of policies/ (`soc2`) or one check (`soc2/key-permissions`) on the " +
      "step's target; the step fails when a fail-level check fails.",
  ),

  problem: (spec, root) => policyProblem(root, spec),
  runner: policyStepRunner,
};

function policyStepRunner(options: OperationContext): OperationRunner {
  return async (spec, target) => {
    const { blocks, evaluatePolicy, exitCodeOf, formatReport, loadPolicy, loadWaivers } =
      await policyEngine();
    const [name, only] = spec.split("/");
    const policy = await loadPolicy(name, options.root);
    const waiversFile = join(options.root, "policies", "waivers.yaml");
    const waivers = await Deno.stat(waiversFile).then(() => loadWaivers(waiversFile), () => []);
    const node = options.config.nodes[target.name];
    const nodeStateDir = node?.state_dir;
    // A step sent to another node (`on: app`) checks that node's app, not the run's.
    const config = node
      ? {
        ...options.config,
        app: nodeApp(options.config, { name: target.name, ssh: node, groups: node.groups }),
      }
      : options.config;
    const report = await evaluatePolicy(policy, target, {
      stateDir: await stateDirOn(target, nodeStateDir, options.stateDir),
      auditStateDir: options.stateDir,
      config,
      waivers,
      only,
      signal: options.signal,
    });
    const text = formatReport(report, "text");
    for (const line of text.trimEnd().split("\n")) options.onOutput?.(line, "stdout");
    const code = exitCodeOf(report);
    const { summary } = report;
    await options.journal?.record(
      policyEntry(
        { policy: policyRan(policy.id, only ? [only] : []), target: target.name, run: options.run },
        summary,
        code,
        report.results,
      ),
    );
    // Each failing check with what it found, so a refusal names the check and the reason.
    const failing = report.results.filter((result) => blocks(result)).map((result) => {
      const found = result.findings.map((finding) => finding.message);
      const shown = found.slice(0, 3).join("; ") + (found.length > 3 ? "; …" : "");
      return `${result.id} (${shown || result.message})`;
    });
    return {
      status: code === 0 ? "success" : "failure",
      attempts: 1,
      exitCode: code,
      stdout: text,
      stderr: "",
      error: failing.length ? `failed: ${failing.join(", ")}` : undefined,
    };
  };
}

/** Why `policy: name[/check]` names nothing in policies/, if it does not. */
async function policyProblem(root: string, spec: string): Promise<string | undefined> {
  const [name, check] = spec.split("/");
  try {
    const policy = await (await policyEngine()).loadPolicy(name, root);
    if (check && !policy.checks.some((c) => c.id === check)) {
      return `policy "${name}" has no check "${check}"; checks: ${
        policy.checks.map((c) => c.id).join(", ")
      }`;
    }
  } catch (error) {
    return `policy "${name}" cannot be used: ${(error as Error).message.split("\n")[0]}`;
  }
  return undefined;
}
