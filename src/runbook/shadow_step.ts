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
 * // const runShadowStep = shadowOperation.runner({ root, stateDir, config, journal, run: "r1" });
 * // const outcome = await runShadowStep("start", target);
 * ```
 * @module
 */
import { parseShadowOperand, runShadow, shadowSettings } from "../shadow/mod.ts";
import { hostName, operator } from "../state/mod.ts";
import type { StepOutcome } from "./execute.ts";
import type { Operation, OperationContext, OperationRunner } from "./operations.ts";
import { TEMPLATE_PATTERN } from "../template.ts";

/** `shadow: init | build VERSION | status | start | rollback`. */
export const shadowOperation: Operation = {
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
