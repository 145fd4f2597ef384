/**
 * `shadow:` steps: the blue-green operations of SOP 4 (`init`, `build VERSION`, `status`,
 * `start`, `rollback`) run on the step's target through `src/shadow`, which takes the node's
 * deploy lock (or uses the run's, with `lock: true`) and writes a signed `shadow` audit entry
 * with the operation, node, from, to and status. What the operation said becomes the step's
 * output, so it is in the run record and, on failure, its tail.
 *
 * @example
 * ```ts
 * import { shadowOperation } from "./shadow_step.ts";
 * shadowOperation.problem("build ${{ params.version }}", "."); // undefined: valid
 * shadowOperation.problem("promote", ".");                    // says what is expected
 * import { requireConfig } from "../config/mod.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * const config = await requireConfig({});
 * const runShadowStep = shadowOperation.runner({ root: Deno.cwd(), stateDir: "/home/deploy/.protocol", config, run: "r1" });
 * const outcome = await runShadowStep("status", new LocalTarget());
 * console.log(outcome.status, outcome.stdout);
 * ```
 * @module
 */
import { z } from "../source/zod.ts";
import { parseShadowOperand } from "../shadow/operation.ts";
import { hostName, operator } from "../state/mod.ts";
import type { StepOutcome } from "./outcome.ts";
import type { Operation, OperationContext, OperationRunner } from "./operation.ts";
import { TEMPLATE_PATTERN } from "../template.ts";

/** `shadow: init | build VERSION | status | start | rollback`. */
export const shadowOperation: Operation = {
  operand: z.string().describe(
    "A blue-green (SOP 4) operation on the step's target: `init` (start the node's front " +
      "proxy on the live port), `build VERSION` (start the release in the shadow slot on a " +
      "free port and health-check it), `status`, `start` (promote: new connections go to the " +
      "shadow, the old release stays up as standby) or `rollback` (back to the standby). " +
      "Needs the `shadow:` block of protocol.yaml; takes the node's deploy lock.",
  ),

  problem: (operand) => {
    // A template (`build ${{ params.version }}`) is checked as a placeholder tag: its value is
    // validated against the parameter's pattern, and parsed again when the step runs.
    const parsed = parseShadowOperand(operand.replace(TEMPLATE_PATTERN, "v0.0.0"));
    return typeof parsed === "string" ? parsed : undefined;
  },
  runner: shadowStepRunner,
};

function failed(error: string): StepOutcome {
  return { status: "failure", attempts: 1, exitCode: 2, stdout: "", stderr: "", error };
}

function shadowStepRunner(context: OperationContext): OperationRunner {
  return async (operand, target) => {
    const operation = parseShadowOperand(operand);
    if (typeof operation === "string") return failed(operation);
    // The blue-green engine loads when a `shadow:` step runs, not with every run.
    const { runShadow, shadowSettings } = await import("../shadow/mod.ts");
    let settings;
    try {
      settings = shadowSettings(context.config.shadow, context.config.app, context.config.file);
    } catch (error) {
      return failed((error as Error).message);
    }
    const lines: string[] = [];
    const result = await runShadow(operation, {
      target,
      settings,
      journal: context.journal,
      run: context.run,
      operator: operator(),
      host: hostName(),
      signal: context.signal,
      say: (line) => {
        lines.push(line);
        context.onOutput?.(line, "stdout");
      },
    });
    context.onOutput?.(result.message, result.status === "success" ? "stdout" : "stderr");
    return {
      status: context.signal?.aborted ? "aborted" : result.status,
      attempts: 1,
      exitCode: result.status === "success" ? 0 : 1,
      stdout: [...lines, result.message].join("\n"),
      stderr: "",
      error: result.status === "failure" ? result.message : undefined,
    };
  };
}
