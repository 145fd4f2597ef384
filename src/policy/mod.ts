/**
 * Policies: checks of a target's security and SOC 2 readiness, written as YAML in `policies/`.
 * Load a policy, evaluate it on a target, format the report.
 *
 * @example
 * ```ts
 * import { evaluatePolicy, exitCodeOf, formatReport, loadPolicy } from "./mod.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * const policy = await loadPolicy("soc2", "/path/to/protocol");
 * const report = await evaluatePolicy(policy, new LocalTarget(), {
 *   stateDir: "/root/.protocol", params: {}, waivers: [], only: "key-permissions" });
 * console.log(formatReport(report, "text"));
 * Deno.exitCode = exitCodeOf(report);
 * ```
 * @module
 */
export { InvalidPolicyError, loadPolicy, loadWaivers, policyPath } from "./load.ts";
export {
  blocks,
  type CheckResult,
  type CheckStatus,
  type EvaluateOptions,
  evaluatePolicy,
  exitCodeOf,
  type PolicyReport,
  type Summary,
} from "./evaluate.ts";
export { formatReport, REPORT_FORMATS, type ReportFormat } from "./report/mod.ts";
export type { Finding } from "./matchers.ts";
export type { Check, Policy, Waiver } from "./schema.ts";
export { policyJsonSchemas } from "./schema.ts";
export { PolicyParamError } from "./params.ts";
export { resolvePolicyTarget } from "./target.ts";
