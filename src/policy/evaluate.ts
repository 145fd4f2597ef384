/**
 * Evaluating a policy on a target: render each check's collector spec, gather its facts once
 * (checks that ask for the same facts share them), test the assertions, apply waivers.
 *
 * @example
 * ```ts
 * import { evaluatePolicy, loadPolicy } from "./mod.ts";
 * import { LocalTarget } from "../targets/local.ts";
 * const policy = await loadPolicy("soc2", ".");
 * const report = await evaluatePolicy(policy, new LocalTarget(), { stateDir: "/tmp/state" });
 * console.log(report.summary);
 * ```
 * @module
 */
import type { Config } from "../config/mod.ts";
import type { Target } from "../targets/target.ts";
import { collect, type CollectorSpec, type Facts, NotCollected } from "./collectors/mod.ts";
import { evaluateAssertion, type Finding, notApplicable } from "./matchers.ts";
import { renderSpec, templateValues, UnresolvedReference } from "./render.ts";
import type { Check, Policy, Waiver } from "./schema.ts";
import { applyWaivers, today, type WaivedFinding } from "./waivers.ts";
import { bindPolicyParams } from "./params.ts";

/** The statuses a check can end in. */
export type CheckStatus = "pass" | "fail" | "error" | "skip" | "waived" | "not_applicable";

/** One check's outcome. */
export interface CheckResult {
  id: string;
  title: string;
  severity: Check["severity"];
  level: Check["level"];
  controls: Record<string, string[]>;
  status: CheckStatus;
  /** The check's message when it failed; the reason when skipped, n/a or in error. */
  message: string;
  remediation: string;
  findings: Finding[];
  waived: WaivedFinding[];
  notes: string[];
  ms: number;
}

/** Counts per outcome; `warn` counts failed (or errored) warn-level checks. */
export interface Summary {
  total: number;
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
  waived: number;
  not_applicable: number;
}

/** A policy's evaluation on one target. */
export interface PolicyReport {
  policy: { id: string; title: string };
  target: string;
  params: Record<string, string | number>;
  started: string;
  ms: number;
  results: CheckResult[];
  summary: Summary;
}

/** What an evaluation needs besides the policy and the target. */
export interface EvaluateOptions {
  /** The state directory on the target (its key); see `stateDirOn`. */
  stateDir: string;
  /** Where the audit log is: this machine's state directory (default: `stateDir`). */
  auditStateDir?: string;
  config?: Config;
  /** Raw `-p key=value` values; checked against the policy's declared params. */
  params?: Record<string, string>;
  waivers?: Waiver[];
  /** Evaluate only this check. */
  only?: string;
  signal?: AbortSignal;
  /** The date waivers are judged on (YYYY-MM-DD); today by default. */
  on?: string;
}

/** Evaluates every check (or `only`) of a policy on a target. Never throws for a check. */
export async function evaluatePolicy(
  policy: Policy,
  target: Target,
  options: EvaluateOptions,
): Promise<PolicyReport> {
  const started = new Date();
  const params = bindPolicyParams(policy, options.params ?? {});
  const checks = options.only ? policy.checks.filter((c) => c.id === options.only) : policy.checks;
  if (options.only && !checks.length) {
    throw new RangeError(`no check ${options.only} in policy ${policy.id}`);
  }
  const values = templateValues(options.stateDir, options.config, params);
  const ctx = {
    target,
    stateDir: options.stateDir,
    auditStateDir: options.auditStateDir ?? options.stateDir,
    config: options.config,
    signal: options.signal,
  };
  const cache = new Map<string, Promise<Facts>>();
  const results: CheckResult[] = [];
  for (const check of checks) {
    const t0 = performance.now();
    const base = {
      id: check.id,
      title: check.title,
      severity: check.severity,
      level: check.level,
      controls: check.controls,
      remediation: check.remediation,
    };
    let outcome: Omit<CheckResult, keyof typeof base | "ms">;
    try {
      const gather = (spec: CollectorSpec) => {
        const rendered = renderSpec(spec, values);
        const key = JSON.stringify(rendered);
        if (!cache.has(key)) cache.set(key, collect(rendered, ctx));
        return cache.get(key)!;
      };
      const facts: Facts = check.collect ? await gather(check.collect) : Object.fromEntries(
        await Promise.all(
          Object.entries(check.sources!).map(async ([name, spec]) => [name, await gather(spec)]),
        ),
      );
      // Expected values may name this target's settings too (`eq: "${{ app.dir }}/current"`).
      const expect = renderSpec(check.expect, values);
      // An assertion about something that is not there (`absent: not_applicable`) is skipped
      // and said so; a check none of whose assertions apply is not applicable as a whole.
      const skipped = expect.map((a) => notApplicable(a, facts));
      const applicable = expect.filter((_, i) => skipped[i] === undefined);
      const unapplied = skipped.filter((why) => why !== undefined);
      const findings = applicable.flatMap((a) => evaluateAssertion(a, facts, check.finding));
      const { remaining, waived, notes } = applyWaivers(
        check.id,
        findings,
        options.waivers ?? [],
        options.on ?? today(),
      );
      const status = !applicable.length
        ? "not_applicable"
        : remaining.length
        ? "fail"
        : waived.length
        ? "waived"
        : "pass";
      outcome = {
        status,
        message: status === "pass"
          ? ""
          : status === "not_applicable"
          ? unapplied.join("; ")
          : check.message,
        findings: remaining,
        waived,
        notes: status === "not_applicable" ? notes : [...unapplied, ...notes],
      };
    } catch (error) {
      if (!(error instanceof NotCollected || error instanceof UnresolvedReference)) throw error;
      const status = error instanceof NotCollected ? error.status : "error";
      outcome = { status, message: error.message, findings: [], waived: [], notes: [] };
    }
    results.push({ ...base, ...outcome, ms: Math.round(performance.now() - t0) });
  }
  return {
    policy: { id: policy.id, title: policy.title },
    target: target.name,
    params,
    started: started.toISOString(),
    ms: Date.now() - started.getTime(),
    results,
    summary: summarize(results),
  };
}

/** Counts outcomes; a failed or errored warn-level check counts as `warn`. */
export function summarize(results: CheckResult[]): Summary {
  const summary: Summary = {
    total: results.length,
    pass: 0,
    fail: 0,
    warn: 0,
    error: 0,
    skip: 0,
    waived: 0,
    not_applicable: 0,
  };
  for (const r of results) {
    if (r.level === "warn" && (r.status === "fail" || r.status === "error")) summary.warn++;
    else summary[r.status]++;
  }
  return summary;
}

/** Whether a result blocks: a fail-level failure or error; with `strict`, warn-level ones too. */
export function blocks(result: CheckResult, strict = false): boolean {
  return (result.status === "fail" || result.status === "error") &&
    (result.level === "fail" || strict);
}

/** The CLI's exit code for a report: 1 when any result {@link blocks}, else 0. */
export function exitCodeOf(report: PolicyReport, strict = false): 0 | 1 {
  return report.results.some((r) => blocks(r, strict)) ? 1 : 0;
}
