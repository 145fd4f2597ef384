/**
 * `policy:` steps: a policy of `policies/` (or one of its checks) evaluated on the step's
 * target, as a prerequisite or a success criterion. The text report becomes the step's output
 * (so it is in the run record's hash and, on failure, its tail), and the counts become a signed
 * `policy` entry in the audit log.
 *
 * @example
 * ```ts
 * import { policyStepRunner } from "./policy_step.ts";
 * // const runPolicy = policyStepRunner({ root, stateDir, config, journal, run: "r1" });
 * // const outcome = await runPolicy("soc2/key-permissions", target);
 * ```
 * @module
 */
import { join } from "node:path";
import type { Config } from "../config/mod.ts";
import {
  blocks,
  evaluatePolicy,
  exitCodeOf,
  formatReport,
  loadPolicy,
  loadWaivers,
} from "../policy/mod.ts";
import type { Target } from "../targets/target.ts";
import type { StepOutcome } from "./execute.ts";
import type { Journal } from "./run.ts";

/** Runs a `policy:` step on a target. */
export type PolicyStepRunner = (spec: string, target: Target) => Promise<StepOutcome>;

/** What a policy step needs from its run. */
export interface PolicyStepOptions {
  root: string;
  stateDir: string;
  /** The configuration as the node sees it (its own app settings). */
  config: Config;
  journal?: Journal;
  run: string;
  signal?: AbortSignal;
  onOutput?: (line: string, stream: "stdout" | "stderr") => void;
}

/** Builds the runner a run hands to its `policy:` steps. */
export function policyStepRunner(options: PolicyStepOptions): PolicyStepRunner {
  return async (spec, target) => {
    const [name, only] = spec.split("/");
    const policy = await loadPolicy(name, options.root);
    const waiversFile = join(options.root, "policies", "waivers.yaml");
    const waivers = await Deno.stat(waiversFile).then(() => loadWaivers(waiversFile), () => []);
    const report = await evaluatePolicy(policy, target, {
      stateDir: options.stateDir,
      config: options.config,
      waivers,
      only,
      signal: options.signal,
    });
    const text = formatReport(report, "text");
    for (const line of text.trimEnd().split("\n")) options.onOutput?.(line, "stdout");
    const code = exitCodeOf(report);
    const { summary } = report;
    await options.journal?.record({
      action: "policy",
      policy: only ? `${policy.id}/${only}` : policy.id,
      target: target.name,
      run: options.run,
      pass: summary.pass,
      fail: summary.fail,
      warn: summary.warn,
      error: summary.error,
      status: code === 0 ? "success" : "failure",
    });
    const failing = report.results.filter((result) => blocks(result)).map((result) => result.id);
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
